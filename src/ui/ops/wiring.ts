// The console's operator flows for one target, as `kube-ha ui` wires them:
// the ops session is opened on the first action (never on the path to the
// first frame), and an unfinished operation found at start is offered
// (--write) or pointed out (read-only).
import type { OpsSession } from '../../ops/index.js';
import { JournalStore } from '../../ops/journal-store.js';
import type { ConsoleStore } from '../../store/consoleStore.js';
import type { ActionHandler } from '../commands.js';
import { sessionBackend } from './backend.js';
import { asActionHandler, createOpsController, type OpsController } from './controller.js';

/** What the console runs operations on, as src/ops takes it (the UI does not import src/sources). */
type Target = OpsSession['target'];

export interface ConsoleOps {
  controller: OpsController;
  /** runConsole's onAction. */
  onAction: ActionHandler;
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
  return { controller, onAction: asActionHandler(controller), close: () => controller.close() };
}
