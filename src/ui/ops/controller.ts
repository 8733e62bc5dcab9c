// The console's operator flows: turns the keys of the operation screens into
// backend calls (plan, execute, resume, roll back) and the executor's events
// into the operation store. What changes the cluster needs a deliberate
// answer: a removal its replica's name typed, a resume or rollback its
// operation id typed, and cancelling a run a `y` to "cancel and roll back?". One operation at a time; nothing here runs without
// --write (the key handler refuses the action keys first, and this refuses
// again, as k9s learned to).
import type { Key } from 'ink';
import type { Journal } from '../../domain/ops/journal.js';
import { checkConfirmation } from '../../domain/ops/operation.js';
import type { Plan } from '../../domain/ops/plan.js';
import { diagnoseRecovery } from '../../domain/ops/recover.js';
import { lighterRemedy } from '../../domain/ops/remedy-choice.js';
import type { OpRequest } from '../../domain/ops/request.js';
import type { OpResult } from '../../ops/events.js';
import type { ConsoleStore } from '../../store/consoleStore.js';
import type { ActionCommand } from '../keys/keyBindings.js';
import { type OpsScreen, opsCommandFor } from '../keys/opsKeys.js';
import type { OpsBackend } from './backend.js';
import { createOpsStore, type OpsPhase, type OpsStore, type ZoneChoice } from './opsStore.js';

export interface OpsControllerOptions {
  /** The console store: the status (zones, replicas), messages and the timeline. */
  store: ConsoleStore;
  /** --write. Without it nothing here changes anything. */
  write: boolean;
  /** Opens the backend on the first action (the Compute library is slow to load). */
  open: () => Promise<OpsBackend>;
  /** Polls every source now (after an operation, so the dashboard shows the result soon). */
  refresh?: () => void;
  now?: () => number;
}

export interface OpsController {
  readonly ops: OpsStore;
  readonly write: boolean;
  /** `a`, `d`, `R`. */
  start(action: ActionCommand, replica?: string): void;
  /** While an operation screen is up it takes every key but Ctrl-C: true = consumed. */
  handleKey(input: string, key: Key): boolean;
  /** At start: an operation that did not finish (write mode: offer resume / roll back). */
  offerUnfinished(journal: Journal): void;
  /** Resolves when no plan or operation is in flight (tests, shutdown). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** The operation screen a phase shows, whose keys (opsKeys.ts) apply; null when none is up. */
export function opsScreenOf(phase: OpsPhase): OpsScreen | null {
  switch (phase.kind) {
    case 'idle':
      return null;
    case 'plan':
      if (!phase.planned.ok) return 'refused';
      return phase.planned.confirmToken === null ? 'plan' : 'confirm';
    case 'error':
      return 'outcome';
    case 'running':
      return phase.askingCancel ? 'cancel-run' : 'running';
    default:
      return phase.kind;
  }
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** What a keypress types into a confirmation prompt ('' for keys that are not text). */
function typedText(input: string, key: Key): string {
  if (key.ctrl || key.meta || key.tab || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow)
    return '';
  return input.replace(/[\u0000-\u001f\u007f]/g, '');
}

const erased = (typed: string) => [...typed].slice(0, -1).join('');

/**
 * The answer that confirms resuming or rolling back an unfinished operation:
 * its id, which names exactly this operation (a replica name may be in
 * several, and a replace concerns two) and is what `kube-ha operation status`
 * and the screen show.
 */
export function recoveryToken(journal: Journal): string {
  return journal.operationId;
}

export function createOpsController(o: OpsControllerOptions): OpsController {
  const ops = createOpsStore();
  const now = o.now ?? Date.now;
  let backend: Promise<OpsBackend> | null = null;
  /** Bumped by Esc while waiting: a late answer for an abandoned request is dropped. */
  let ticket = 0;
  let inflight: Promise<unknown> = Promise.resolve();
  let abort: AbortController | null = null;

  const cs = () => o.store.getState();
  const message = (text: string, level: 'info' | 'warning' | 'error' = 'info') =>
    cs().setMessage(text, level);
  const phase = () => ops.getState().phase;
  const idle = () => ops.getState().setPhase({ kind: 'idle' });

  const getBackend = () => {
    if (!backend) {
      backend = o.open();
      // A failed open is retried on the next action.
      backend.catch(() => {
        backend = null;
      });
    }
    return backend;
  };

  /** Runs `work` unless Esc abandoned it meanwhile; failures show as an error screen. */
  const track = (work: (stillWanted: () => boolean) => Promise<void>) => {
    const mine = ++ticket;
    const wanted = () => mine === ticket;
    const p = work(wanted).catch((e: unknown) => {
      if (wanted()) ops.getState().setPhase({ kind: 'error', text: errorText(e) });
    });
    inflight = p;
    return p;
  };

  const zoneChoices = (zones: string[] | null): ZoneChoice[] => {
    const replicas = cs().status?.replicas ?? [];
    const all = new Set(zones ?? []);
    for (const r of replicas) if (r.zone) all.add(r.zone);
    return [...all]
      .sort()
      .map((zone) => ({ zone, replicas: replicas.filter((r) => r.zone === zone).length }));
  };

  const plan = (request: OpRequest) => {
    ops.getState().setPhase({ kind: 'busy', text: 'planning: observing the cluster...' });
    return track(async (wanted) => {
      const b = await getBackend();
      const planned = await b.plan(request);
      if (wanted()) ops.getState().setPhase({ kind: 'plan', planned, typed: '', error: null });
    });
  };

  const finish = (result: OpResult) => {
    abort = null;
    ops.getState().setPhase({ kind: 'outcome', result });
    const severity = result.outcome === 'done' ? 'info' : result.outcome === 'failed' ? 'error' : 'warning';
    cs().recordEvent({
      kind: 'action',
      severity,
      message: `operation ${result.outcome}: ${result.summary}${result.reasons[0] ? ` (${result.reasons[0]})` : ''}`,
    });
  };

  const execute = (
    plan: Plan,
    mode: 'run' | 'resume' | 'rollback',
    journal: Journal | null,
    call: (b: OpsBackend, opts: Parameters<OpsBackend['execute']>[1]) => Promise<OpResult>,
  ) => {
    const ac = new AbortController();
    abort = ac;
    ops.getState().beginRun(plan, mode, journal, now());
    cs().recordEvent({ kind: 'action', severity: 'info', message: `operation ${mode}: ${plan.summary}` });
    ++ticket;
    const p = (async () => {
      try {
        const b = await getBackend();
        const result = await call(b, { onEvent: (e) => ops.getState().applyEvent(e), signal: ac.signal });
        finish(result);
      } catch (e) {
        abort = null;
        ops.getState().setPhase({
          kind: 'error',
          text: `the operation stopped: ${errorText(e)} (kube-ha operation status shows what is left)`,
        });
      }
      o.refresh?.();
    })();
    inflight = p;
    return p;
  };

  const confirmPlan = () => {
    const p = phase();
    if (p.kind !== 'plan' || !p.planned.ok || !p.planned.plan) return;
    const answer = p.planned.confirmToken === null ? 'yes' : p.typed;
    const c = checkConfirmation(p.planned, { yes: false, confirm: null, interactiveAnswer: answer });
    if (!c.ok) {
      ops.getState().setPhase({ ...p, typed: '', error: c.reason });
      return;
    }
    const plan = p.planned.plan;
    void execute(plan, 'run', null, (b, opts) => b.execute(plan, opts));
  };

  const cancelled = (what: string) => {
    ++ticket;
    idle();
    message(`${what}: cancelled, nothing was changed`);
  };

  const keyOnPlan = (screen: OpsScreen, input: string, key: Key): void => {
    const p = phase();
    if (p.kind !== 'plan') return;
    const cmd = opsCommandFor(screen, input, key);
    if (screen === 'refused') {
      // F re-plans a replace refused only because its replica is healthy, with force; it
      // still shows the plan and needs the name typed. Any other key goes back.
      const req = p.planned.request;
      if (
        cmd === 'force' &&
        o.write &&
        p.planned.forceable &&
        (req.kind === 'replace' || req.kind === 'reset')
      ) {
        void plan({ ...req, force: true });
        return;
      }
      idle();
      return;
    }
    if (cmd === 'cancel') {
      cancelled(p.planned.plan?.summary ?? p.planned.request.kind);
      return;
    }
    if (screen === 'plan') {
      if (cmd === 'run') confirmPlan();
      return;
    }
    // Typed confirmation: Enter submits, Backspace edits, anything printable is typed.
    if (cmd === 'submit') {
      confirmPlan();
      return;
    }
    if (cmd === 'erase') {
      ops.getState().setPhase({ ...p, typed: erased(p.typed), error: null });
      return;
    }
    const text = typedText(input, key);
    if (text) ops.getState().setPhase({ ...p, typed: (p.typed + text).slice(0, 80), error: null });
  };

  /** The typed confirmation of a resume or rollback: Enter runs it on the exact id, Esc goes back. */
  const keyOnRecover = (cmd: ReturnType<typeof opsCommandFor>, input: string, key: Key): void => {
    const p = phase();
    if (p.kind !== 'recover') return;
    const j = p.journal;
    if (cmd === 'back') {
      ops.getState().setPhase({ kind: 'unfinished', journal: j });
      return;
    }
    if (cmd === 'erase') {
      ops.getState().setPhase({ ...p, typed: erased(p.typed), error: null });
      return;
    }
    if (cmd === 'submit') {
      const token = recoveryToken(j);
      const answer = p.typed.trim();
      if (answer !== token) {
        ops.getState().setPhase({ ...p, typed: '', error: `'${answer}' is not ${token}: not confirmed` });
        return;
      }
      if (p.mode === 'resume') void execute(j.plan, 'resume', j, (b, opts) => b.resume(j, opts));
      else void execute(j.plan, 'rollback', j, (b, opts) => b.rollback(j, opts));
      return;
    }
    const text = typedText(input, key);
    if (text) ops.getState().setPhase({ ...p, typed: (p.typed + text).slice(0, 80), error: null });
  };

  const controller: OpsController = {
    ops,
    write: o.write,

    start(action, replica) {
      if (!o.write) {
        message(`${action}: read-only mode; start kube-ha with --write to enable it`, 'warning');
        return;
      }
      if (phase().kind !== 'idle') {
        message('an operation is already on screen: finish or cancel it first', 'warning');
        return;
      }
      if (action === 'add') {
        ops.getState().setPhase({ kind: 'busy', text: 'add a replica: listing the region’s zones...' });
        void track(async (wanted) => {
          const b = await getBackend();
          const zones = zoneChoices(await b.zones());
          if (!wanted()) return;
          if (zones.length === 0) throw new Error('no zone of the region is known: cannot add a replica');
          const fewest = Math.min(...zones.map((z) => z.replicas));
          const index = Math.max(
            0,
            zones.findIndex((z) => z.replicas === fewest),
          );
          ops.getState().setPhase({ kind: 'zone', zones, index });
        });
        return;
      }
      // Quorum lost: kube-ha recover's diagnosis; a transient loss is mended from here, one
      // start or reset at a time; a rebuild from a survivor needs the CLI (on GCE, on-VM steps).
      if (action === 'recover') {
        const status = cs().status;
        if (!status) {
          message('recover: waiting for the first observation', 'warning');
          return;
        }
        const diagnosis = diagnoseRecovery(status, {
          clusters: ['main', 'events'],
          from: null,
          revisions: {},
        });
        if (diagnosis.verdict === 'nothing')
          message('recover: etcd main and events have quorum, nothing to recover');
        else ops.getState().setPhase({ kind: 'quorum', diagnosis });
        return;
      }
      // Every member of the cluster, no replica: the plan says which cluster and in which order.
      if (action === 'defrag') {
        void plan({ kind: 'defrag', cluster: null });
        return;
      }
      if (!replica) {
        message(`${action}: select a replica first`, 'warning');
        return;
      }
      // The remediation ladder: a stopped VM is started, a hung one reset, before anything is replaced.
      const seen = cs().status?.replicas.find((r) => r.name === replica);
      const choice = action === 'replace' && seen ? lighterRemedy(seen) : null;
      if (choice) {
        ops.getState().setPhase({ kind: 'remedy', replica, choice });
        return;
      }
      void plan(
        action === 'delete'
          ? { kind: 'remove', replica, zone: null }
          : { kind: 'replace', replica, zone: null, force: false },
      );
    },

    handleKey(input, key) {
      const p = phase();
      const screen = opsScreenOf(p);
      if (screen === null) return false;
      const cmd = opsCommandFor(screen, input, key);
      // Ctrl-C quits the console from every screen (a running operation is left to resume).
      if (cmd === 'quit') return false;
      switch (p.kind) {
        case 'idle':
          return false;
        case 'busy':
          if (cmd === 'cancel') cancelled('request');
          return true;
        case 'zone': {
          if (cmd === 'cancel') cancelled('add a replica');
          else if (cmd === 'zone-up' || cmd === 'zone-down') {
            const n = p.zones.length;
            const index = (p.index + (cmd === 'zone-up' ? n - 1 : 1)) % n;
            ops.getState().setPhase({ ...p, index });
          } else if (cmd === 'choose-zone') {
            const zone = p.zones[p.index]?.zone;
            if (zone) void plan({ kind: 'add', zone, name: null });
          }
          return true;
        }
        case 'quorum': {
          const first = p.diagnosis.remedies[0];
          if (cmd === 'cancel') idle();
          else if (cmd === 'lighter' && p.diagnosis.verdict === 'transient' && first)
            void plan({ kind: first.kind, replica: first.replica, force: false });
          else if (cmd === 'lighter' && p.diagnosis.verdict === 'wait') {
            idle();
            message('recover: a VM status is not known yet; V again in a moment', 'warning');
          } else if (cmd === 'lighter') {
            idle();
            message(
              'the data is gone on too many members: rebuild with kube-ha recover --from REPLICA (on GCE it prints the on-VM steps)',
              'warning',
            );
          }
          return true;
        }
        case 'remedy':
          if (cmd === 'cancel') cancelled(`${p.choice.kind} ${p.replica}`);
          else if (cmd === 'lighter') void plan({ kind: p.choice.kind, replica: p.replica, force: false });
          else if (cmd === 'replace-instead')
            void plan({ kind: 'replace', replica: p.replica, zone: null, force: false });
          return true;
        case 'plan':
          keyOnPlan(screen, input, key);
          return true;
        case 'running':
          if (p.askingCancel) {
            // Only a deliberate y cancels; any other key (Esc, n, Enter) keeps it running.
            ops.getState().setPhase({ kind: 'running' });
            if (cmd === 'abort' && abort && !abort.signal.aborted) {
              abort.abort();
              ops.getState().markCancelling();
              message('cancelling: the steps done so far are rolled back after the current one', 'warning');
            } else {
              message('not cancelled: the operation keeps running');
            }
          } else if (cmd === 'ask-cancel' && abort && !abort.signal.aborted) {
            ops.getState().setPhase({ kind: 'running', askingCancel: true });
          } else if (cmd === 'how-to-stop') {
            message(
              'an operation is running: Esc asks to cancel it (rolls back); Ctrl-C quits and leaves it to resume',
            );
          }
          return true;
        case 'outcome':
        case 'error':
          if (cmd === 'back') idle();
          return true;
        case 'unfinished': {
          const j = p.journal;
          if (!o.write) return true;
          // U / B only show what they will do and ask for the id; nothing runs on one key.
          if (cmd === 'resume' || cmd === 'rollback') {
            ops.getState().setPhase({ kind: 'recover', journal: j, mode: cmd, typed: '', error: null });
          } else if (cmd === 'cancel') {
            idle();
            message(
              `operation ${j.operationId} left unfinished: kube-ha operation resume | rollback`,
              'warning',
            );
          }
          return true;
        }
        case 'recover':
          if (o.write) keyOnRecover(cmd, input, key);
          return true;
      }
    },

    offerUnfinished(journal) {
      if (!o.write) {
        ops
          .getState()
          .setNotice(
            `unfinished operation (${journal.state}): kube-ha operation resume|rollback or --write handles it · ${journal.plan.summary} [${journal.operationId}]`,
          );
        return;
      }
      if (phase().kind === 'idle') ops.getState().setPhase({ kind: 'unfinished', journal });
    },

    async settled() {
      for (;;) {
        const p = inflight;
        await p;
        if (p === inflight) return;
      }
    },

    async close() {
      ++ticket;
      const b = backend;
      backend = null;
      if (b) await (await b.catch(() => null))?.close();
    },
  };
  return controller;
}
