// The console's operator flows for one target, as `kube-ha ui` wires them:
// the ops session is opened on the first action (never on the path to the
// first frame), and an unfinished operation found at start is offered
// (--write) or pointed out (read-only), whether its journal is on this
// machine or only in etcd (started elsewhere).
import type { OpsSession } from '../../ops/index.js';
import { JournalStore } from '../../ops/journal-store.js';
import type { ConsoleStore } from '../../store/consoleStore.js';
import { sessionBackend } from './backend.js';
import { createOpsController, type OpsController } from './controller.js';

/** What the console runs operations on, as src/ops takes it (the UI does not import src/sources). */
type Target = OpsSession['target'];

export interface ConsoleOps {
  /** runConsole's `ops`. */
  controller: OpsController;
  close(): Promise<void>;
}

export function startConsoleOps(
  target: Target,
  o: { store: ConsoleStore; write: boolean; refresh?: () => void },
): ConsoleOps {
  const controller = createOpsController({
    store: o.store,
    write: o.write,
    refresh: o.refresh,
    open: async () => {
      const { openOpsSession } = await import('../../ops/session.js');
      return sessionBackend(await openOpsSession(target, { tool: 'kube-ha console' }));
    },
  });
  let unfinished = null;
  try {
    unfinished = JournalStore.forTarget(target).unfinished();
  } catch {
    // an unreadable state dir hides nothing the preflight would not refuse on
  }
  if (unfinished) controller.offerUnfinished(unfinished);
  else void offerRemoteUnfinished(target, controller);
  return { controller, close: () => controller.close() };
}

/**
 * An operation started on another machine, from its journal in etcd main:
 * looked for after the first frame (one bounded read), offered as a local one.
 */
async function offerRemoteUnfinished(target: Target, controller: OpsController): Promise<void> {
  const main = target.etcd.main;
  if (!main) return;
  const [{ EtcdOps }, { EtcdJournals }] = await Promise.all([
    import('../../ops/etcd-ops.js'),
    import('../../ops/journal-remote.js'),
  ]);
  const etcd = new EtcdOps('main', main, target.callTimeoutMs, () => {});
  try {
    const store = JournalStore.forTarget(target).attachRemote(new EtcdJournals(etcd, () => {}));
    await store.refresh();
    const j = store.unfinished();
    if (j) controller.offerUnfinished(j);
  } catch {
    // not seen here: the preflight of any new operation reads etcd again and refuses
  } finally {
    etcd.close();
  }
}
