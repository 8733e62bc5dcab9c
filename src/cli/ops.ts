// `kube-ha add | remove | replace | operation status|resume|rollback`: the
// same planning and executor as the console. The plan is printed before
// anything changes; removal needs the replica's name typed (or --confirm NAME
// / --yes); progress, every Compute and etcd call, and the learner's catch-up
// go to stderr; --json prints one document on stdout at the end.
// Exit: 0 done, 2 bad usage or not confirmed (nothing changed), 3 refused
// (nothing changed), 4 failed and rolled back, 1 failed and not rolled back
// (what is left is printed). `operation resume|rollback` confirm with the
// operation id and check the live cluster against the journal first;
// `operation discard` sets a journal aside, never deletes it.
import { readFileSync } from 'node:fs';
import { formatBytes } from '../domain/format.js';
import { describeLeftovers, isFinished, resumeRecovery, rollbackRecovery } from '../domain/ops/journal.js';
import { salvageSteps } from '../domain/ops/journal-parse.js';
import { describeProgress } from '../domain/ops/journal-report.js';
import { checkConfirmation, type PlannedOperation } from '../domain/ops/operation.js';
import { defragSizes } from '../domain/ops/plan-defrag.js';
import type { CheckResult, UnreadableJournal } from '../domain/ops/preflight.js';
import { renderJournal, renderPlanned } from '../domain/ops/render.js';
import { type OpKind, parseRequest, RequestError } from '../domain/ops/request.js';
import { checkRecoveryConfirmation, type RecoveryMode, refusalsOf } from '../domain/ops/resume-check.js';
import { EtcdOps } from '../ops/etcd-ops.js';
import type { OpEvent, OpResult } from '../ops/events.js';
import { executePlan, resumeOperation, rollbackOperation } from '../ops/executor.js';
import { EtcdJournals, journalKey } from '../ops/journal-remote.js';
import { type JournalScan, JournalStore, validOperationId } from '../ops/journal-store.js';
import { noArguments, openCommandSession } from './command.js';
import { ask } from './prompt.js';
import { type resolveTarget, resolveTargetAsync, TARGET_OPTIONS } from './target-flags.js';
import { EXIT, parseFlags, UsageError } from './usage.js';

export const OPS_HELP = `Operator flows (same target flags as status):
  kube-ha add --zone Z [--replica NAME]                      add a replica in zone Z
  kube-ha remove (--replica NAME | --zone Z) [--keep-disk]   remove a replica
  kube-ha replace --replica NAME [--zone Z] [--force] [--keep-disk]
                                                             remove a failed replica, add one in its zone
  (the removed member's data disk is deleted last, once the result is verified;
   --keep-disk leaves it for kube-ha cleanup)
  kube-ha defrag [--cluster main|events]                     NOSPACE's remedy: compact, defragment one member
                                                             at a time (followers first), disarm the alarms
                                                             (default: every cluster in NOSPACE, else main)
  kube-ha reset --replica NAME [--force]                     reset a hung replica's VM (instances.reset):
                                                             its members and disks stay
  kube-ha start --replica NAME                               start a TERMINATED or STOPPED replica's VM
                                                             (both usable when etcd has lost quorum)
  kube-ha operation status|resume|rollback [--dry-run]       an unfinished operation (resume and
                                                             rollback: type its id, or --confirm ID / --yes)
  kube-ha operation discard ID --confirm ID                  set a journal aside (unfinished or unreadable)
Options: --dry-run (print the plan, change nothing), --yes, --confirm NAME|ID, --json,
  --catch-up-timeout S, --op-timeout S, --verify-timeout S, --lb-timeout S
kube-up variables: KUBE_GCE_ZONE, KUBE_REPLICA_NAME, KUBE_REPLICATE_EXISTING_MASTER=true, KUBE_DELETE_NODES=false
Exit codes: 0 done, 3 refused (nothing changed), 4 failed and rolled back, 1 failed, not rolled back,
  2 bad usage or not confirmed (a wrong name typed; nothing changed).
  operation status: 0 nothing open, 5 an unfinished operation or an unreadable journal (new ones are refused).
`;

const RUN_OPTIONS = {
  ...TARGET_OPTIONS,
  json: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  confirm: { type: 'string' },
  'catch-up-timeout': { type: 'string' },
  'op-timeout': { type: 'string' },
  'verify-timeout': { type: 'string' },
  'lb-timeout': { type: 'string' },
  'no-color': { type: 'boolean' },
} as const;

const KIND_OPTIONS = {
  add: { zone: { type: 'string' }, replica: { type: 'string' } },
  reset: { replica: { type: 'string' }, force: { type: 'boolean' } },
  start: { replica: { type: 'string' } },
  remove: { zone: { type: 'string' }, replica: { type: 'string' }, 'keep-disk': { type: 'boolean' } },
  replace: {
    zone: { type: 'string' },
    replica: { type: 'string' },
    force: { type: 'boolean' },
    'keep-disk': { type: 'boolean' },
  },
  defrag: { cluster: { type: 'string' } },
} as const;

function seconds(v: string | boolean | undefined, flag: string): number | undefined {
  if (typeof v !== 'string') return undefined;
  const s = Number(v.replace(/s$/, ''));
  if (!Number.isFinite(s) || s <= 0 || s > 86_400)
    throw new UsageError(`--${flag}: '${v}' is not a number of seconds`);
  return Math.round(s * 1000);
}

type Values = Record<string, string | boolean | undefined>;

function sessionOptions(values: Values, tool: string) {
  const timing: Record<string, number> = {};
  const catchUp = seconds(values['catch-up-timeout'], 'catch-up-timeout');
  const verify = seconds(values['verify-timeout'], 'verify-timeout');
  const lb = seconds(values['lb-timeout'], 'lb-timeout');
  const op = seconds(values['op-timeout'], 'op-timeout');
  if (catchUp) timing.catchUpTimeoutMs = catchUp;
  if (verify) timing.verifyTimeoutMs = verify;
  if (lb) timing.lbReadyTimeoutMs = lb;
  if (op) timing.runningTimeoutMs = op;
  return { timing, tool, ...(op ? { opDeadlineMs: op } : {}) };
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Progress for people on stderr: steps with elapsed time, the call log, catch-up at most once a second. */
export function progressPrinter(err: NodeJS.WritableStream): (e: OpEvent) => void {
  let total = 0;
  let lastProgress = 0;
  return (e) => {
    switch (e.type) {
      case 'operation-start':
        err.write(`${e.mode === 'run' ? 'running' : e.mode}: ${e.summary} [operation ${e.operationId}]\n`);
        break;
      case 'step-start':
        total = Math.max(total, e.index + 1);
        err.write(
          `${e.mode === 'undo' ? '↶' : '▶'} ${String(e.index + 1).padStart(2)}. ${e.mode === 'undo' ? 'undo: ' : ''}${e.step.title}\n`,
        );
        break;
      case 'step-end': {
        const mark =
          e.status === 'failed' || e.status === 'undo-failed' ? '✗' : e.status === 'skipped' ? '–' : '✓';
        const tail = e.error ? `: ${e.error}` : e.note ? `: ${e.note}` : '';
        err.write(`${mark} ${String(e.index + 1).padStart(2)}. ${e.status} in ${secs(e.elapsedMs)}${tail}\n`);
        break;
      }
      case 'call':
        err.write(`      $ ${e.line}\n`);
        break;
      case 'progress':
        if (e.at - lastProgress >= 1000) {
          lastProgress = e.at;
          err.write(`      … ${e.message}\n`);
        }
        break;
      case 'note':
        err.write(`  note: ${e.message}\n`);
        break;
      case 'operation-end':
        break;
    }
  };
}

export function renderResult(r: OpResult): string {
  const lines: string[] = [];
  const took = secs(r.elapsedMs);
  if (r.outcome === 'done') {
    lines.push(
      `done: ${r.summary} in ${took}${r.cancelled ? ' (cancel came past the point of no return)' : ''}`,
    );
    for (const x of r.reasons) lines.push(`  note: ${x}`);
  } else if (r.outcome === 'refused') {
    lines.push('refused, nothing was changed:');
    for (const x of r.reasons) lines.push(`  ✗ ${x}`);
  } else if (r.outcome === 'rolled-back' && r.journal?.plan.remedy) {
    // Nothing of a reset or start can be undone: say what happened, and the next rung.
    const name = r.journal.plan.remedy.replica;
    lines.push(
      `${r.cancelled ? 'cancelled' : 'failed'} (${took}): ${r.summary}; nothing to roll back (a reset or start cannot be undone, and need not be)`,
    );
    for (const x of r.reasons) lines.push(`  ${x}`);
    lines.push(`  if ${name} stays unhealthy: kube-ha replace --replica ${name}`);
  } else if (r.outcome === 'rolled-back') {
    lines.push(`${r.cancelled ? 'cancelled' : 'failed'} and rolled back (${took}): ${r.summary}`);
    for (const x of r.reasons) lines.push(`  ${x}`);
  } else {
    lines.push(`FAILED and not rolled back (${took}): ${r.summary}`);
    for (const x of r.reasons) lines.push(`  ${x}`);
    lines.push('left over:');
    for (const l of describeLeftovers(r.leftovers)) lines.push(`  ${l}`);
    lines.push('finish with: kube-ha operation resume (or rollback), with the same target flags');
  }
  // A defrag's point: each member's database before and after.
  const sizes = defragSizes(r.journal?.facts ?? {});
  if (sizes.length && r.outcome !== 'refused') {
    lines.push('database size before → after:');
    for (const s of sizes)
      lines.push(
        `  etcd ${s.cluster.padEnd(6)} ${s.replica}: ${formatBytes(s.before)} → ${formatBytes(s.after)}`,
      );
  }
  // The copy taken before anything changed: what a restore would start from.
  const snapshot = r.journal?.facts['snapshot.main'];
  if (snapshot && r.outcome !== 'refused')
    lines.push(
      `etcd main before the change: ${snapshot} (revision ${r.journal?.facts['snapshot.main.revision'] ?? '?'})`,
    );
  if (r.timings.length && r.outcome !== 'refused') {
    const slow = [...r.timings].sort((a, b) => b.ms - a.ms).slice(0, 5);
    lines.push(
      `slowest steps: ${slow.map((t) => `${t.id}${t.mode === 'undo' ? ' (undo)' : ''} ${secs(t.ms)}`).join(', ')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function jsonOut(out: NodeJS.WritableStream, doc: unknown): void {
  out.write(`${JSON.stringify(doc, null, 2)}\n`);
}

function plannedForJson(p: PlannedOperation) {
  return {
    ok: p.ok,
    refusals: p.refusals,
    checks: p.checks,
    advisories: p.advisories,
    preview: p.preview,
    plan: p.plan,
  };
}

/** Cancels on the first Ctrl-C (rolls back); a second one leaves, keeping the journal for resume/rollback. */
function cancelOnSignal(err: NodeJS.WritableStream): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const onSig = () => {
    if (ac.signal.aborted) {
      err.write('kube-ha: stopped; the journal is kept: kube-ha operation resume | rollback\n');
      process.exit(130);
    }
    err.write('kube-ha: cancelling: rolling back after the current step (Ctrl-C again to stop at once)\n');
    ac.abort();
  };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  return {
    signal: ac.signal,
    dispose() {
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
    },
  };
}

async function runKind(
  kind: OpKind,
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { values, positionals } = parseFlags(argv, { ...RUN_OPTIONS, ...KIND_OPTIONS[kind] });
  noArguments(kind, positionals);
  let request: ReturnType<typeof parseRequest>;
  try {
    request = parseRequest(kind, values as Values, env);
  } catch (e) {
    if (e instanceof RequestError) throw new UsageError(e.message);
    throw e;
  }
  const target = await resolveTargetAsync(values, env);
  const session = await openCommandSession(target, sessionOptions(values as Values, `kube-ha ${kind}`));
  try {
    const { planned } = await session.plan(request);
    const json = values.json === true;
    if (!json) out.write(renderPlanned(planned, { ascii: values['no-color'] === true }));
    if (!planned.ok || !planned.plan) {
      if (json) jsonOut(out, { planned: plannedForJson(planned), result: null });
      return EXIT.refused;
    }
    if (values['dry-run']) {
      if (json) jsonOut(out, { planned: plannedForJson(planned), result: null, dryRun: true });
      else out.write('dry run: nothing was changed\n');
      return EXIT.ok;
    }
    let confirmation = checkConfirmation(planned, {
      yes: values.yes === true,
      confirm: typeof values.confirm === 'string' ? values.confirm : null,
    });
    if (!confirmation.ok && values.confirm === undefined && !values.yes) {
      const token = planned.confirmToken;
      const answer = await ask(
        token ? `Type ${token} to confirm, or anything else to cancel: ` : 'Proceed? [y/N] ',
      );
      if (answer !== null)
        confirmation = checkConfirmation(planned, { yes: false, confirm: null, interactiveAnswer: answer });
    }
    if (!confirmation.ok) {
      err.write(`kube-ha: ${confirmation.reason}; nothing was changed\n`);
      return EXIT.usage;
    }
    const cancel = cancelOnSignal(err);
    try {
      const result = await executePlan(planned.plan, session.deps, {
        onEvent: progressPrinter(err),
        signal: cancel.signal,
      });
      if (json) jsonOut(out, { planned: plannedForJson(planned), result });
      else out.write(renderResult(result));
      return result.exitCode;
    } finally {
      cancel.dispose();
    }
  } finally {
    await session.close();
  }
}

const OPERATION_USAGE =
  'usage: kube-ha operation status|resume|rollback [--dry-run] [target], kube-ha operation discard ID --confirm ID [target]';

function renderChecks(checks: CheckResult[], ascii: boolean): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const mark = (ok: boolean) => (ascii ? (ok ? 'ok ' : 'NO ') : ok ? '✓' : '✗');
  return `Checks against the cluster now:\n${checks.map((c) => `  ${mark(c.ok)} ${c.name.padEnd(width)}  ${c.reason}`).join('\n')}\n`;
}

function renderUnreadable(unreadable: UnreadableJournal[]): string {
  const lines = unreadable.flatMap((u) => [
    `Unreadable journal ${u.path}`,
    `  ${u.reason}`,
    u.operationId
      ? `  it may record an operation left half-done; new operations are refused until it is resolved: inspect it, then kube-ha operation discard ${u.operationId} --confirm ${u.operationId}`
      : '  new operations are refused until it can be read',
  ]);
  return `${lines.join('\n')}\n`;
}

/** `operation discard ID`: sets a journal aside (never deletes it), after saying what the operator accepts. */
async function discardCommand(
  id: string,
  values: Values,
  store: JournalStore,
  scan: JournalScan,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  if (!validOperationId(id)) throw new UsageError(`'${id}' is not an operation id`);
  const journal = scan.journals.find((j) => j.operationId === id) ?? null;
  const bad = scan.unreadable.find((u) => u.operationId === id) ?? null;
  const json = values.json === true;
  if (!journal && !bad) {
    const known = [
      ...scan.journals.filter((j) => !isFinished(j)).map((j) => j.operationId),
      ...scan.unreadable.flatMap((u) => (u.operationId ? [u.operationId] : [])),
    ];
    throw new UsageError(
      `no unfinished or unreadable journal ${id} in ${store.dir}${known.length ? ` (there: ${known.join(', ')})` : ''}`,
    );
  }
  if (journal && isFinished(journal))
    throw new UsageError(`operation ${id} is ${journal.state}: there is nothing to discard`);
  const path = bad?.path ?? store.path(id);
  let accepted: string[];
  if (journal) {
    accepted = describeProgress(journal);
    if (!json) out.write(renderJournal(journal));
  } else {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      // unreadable as a file too: nothing to salvage
    }
    const salvaged = salvageSteps(text);
    accepted = salvaged.length
      ? ['what the file still shows (unverified):', ...salvaged.map((l) => `  ${l}`)]
      : ['what it did is unknown: read the file, and check kube-ha status'];
    if (!json) out.write(renderUnreadable([bad!]));
  }
  if (!json) {
    out.write(`Discarding it accepts the cluster as this operation left it:\n`);
    for (const l of accepted) out.write(`  ${l}\n`);
  }
  // Typed, never --yes: discarding means accepting what nobody will now finish.
  let confirmation = checkRecoveryConfirmation(id, {
    yes: false,
    confirm: typeof values.confirm === 'string' ? values.confirm : null,
  });
  if (!confirmation.ok && values.confirm === undefined) {
    const answer = await ask(`Type ${id} to discard its journal, or anything else to cancel: `);
    if (answer !== null)
      confirmation = checkRecoveryConfirmation(id, { yes: false, confirm: null, interactiveAnswer: answer });
  }
  if (!confirmation.ok) {
    const reason =
      values.yes && values.confirm === undefined
        ? `discard needs the operation id: --confirm ${id}`
        : confirmation.reason;
    err.write(`kube-ha: ${reason}; nothing was changed\n`);
    return EXIT.usage;
  }
  const aside = store.discard(id);
  try {
    await store.discardRemote(id);
  } catch (e) {
    err.write(
      `kube-ha: the copy in etcd (${journalKey(id)}) was not removed (${(e as Error).message}): other machines still see it; run discard again once etcd answers\n`,
    );
  }
  if (json)
    jsonOut(out, {
      discarded: { operationId: id, path, movedTo: aside, unreadable: bad?.reason ?? null, accepted },
    });
  else
    out.write(
      `discarded: ${path} is now ${aside} (kept, no longer read as a journal); new operations are no longer held back by it\n`,
    );
  return EXIT.ok;
}

async function operationCommand(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { values, positionals } = parseFlags(argv, RUN_OPTIONS);
  const [sub, ...extra] = positionals;
  if (!sub || !['status', 'resume', 'rollback', 'discard'].includes(sub))
    throw new UsageError(OPERATION_USAGE);
  if (sub === 'discard' ? extra.length !== 1 : extra.length) throw new UsageError(OPERATION_USAGE);
  const target = await resolveTargetAsync(values, env);
  const store = JournalStore.forTarget(target);
  // Operations started on other machines: their journals in etcd main (the local files are read too).
  const etcdMain = target.etcd.main
    ? new EtcdOps('main', target.etcd.main, target.callTimeoutMs, () => {})
    : null;
  try {
    if (etcdMain) {
      store.attachRemote(new EtcdJournals(etcdMain, (l) => err.write(`      $ ${l}\n`)));
      await store.refresh();
      const problem = store.remoteProblem();
      if (problem)
        err.write(
          `kube-ha: journals in etcd not read (${problem}): operations started on other machines are not shown\n`,
        );
    }
    return await operationOn(sub, extra, values as Values, target, store, out, err);
  } finally {
    etcdMain?.close();
  }
}

async function operationOn(
  sub: string,
  extra: string[],
  values: Values,
  target: ReturnType<typeof resolveTarget>,
  store: JournalStore,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const json = values.json === true;
  const ascii = values['no-color'] === true;
  const scan = store.scan();
  if (sub === 'discard') return discardCommand(extra[0]!, values as Values, store, scan, out, err);
  const { unreadable } = scan;
  const journal = scan.journals.filter((j) => !isFinished(j)).at(-1) ?? null;
  if (sub === 'status') {
    if (json) {
      jsonOut(
        out,
        journal
          ? {
              unfinished: journal,
              resume: resumeRecovery(journal),
              rollback: rollbackRecovery(journal),
              unreadable,
            }
          : { unfinished: null, result: null, unreadable },
      );
    } else {
      if (unreadable.length) out.write(renderUnreadable(unreadable));
      if (!journal) out.write('no unfinished operation\n');
      else {
        out.write(renderJournal(journal));
        out.write(
          `  resume:   ${resumeRecovery(journal).note}\n  rollback: ${rollbackRecovery(journal).note}\n`,
        );
        out.write(
          `  kube-ha operation resume | rollback --confirm ${journal.operationId} (same target flags), or discard it\n`,
        );
      }
    }
    // Non-zero while something holds new operations back: an unfinished operation or an unreadable journal.
    return journal || unreadable.length ? EXIT.degraded : EXIT.ok;
  }
  if (!journal) {
    if (unreadable.length) {
      if (json) jsonOut(out, { unfinished: null, result: null, unreadable });
      else out.write(renderUnreadable(unreadable));
      err.write(
        `kube-ha: no readable unfinished operation to ${sub}; an unreadable journal can only be discarded\n`,
      );
      return EXIT.refused;
    }
    if (json) jsonOut(out, { unfinished: null, result: null, unreadable });
    else out.write('no unfinished operation\n');
    return EXIT.ok;
  }
  if (values['dry-run'] === true) {
    // What it would run, from the journal alone: nothing is asked of the cluster, nothing changes.
    const rec = sub === 'resume' ? resumeRecovery(journal) : rollbackRecovery(journal);
    const title = (id: string) => journal.plan.steps.find((s) => s.id === id)?.title ?? id;
    if (json) jsonOut(out, { unfinished: journal, dryRun: rec });
    else {
      out.write(renderJournal(journal));
      out.write(`dry run: ${sub} would ${rec.note}\n`);
      for (const id of rec.forward) out.write(`  run   ${title(id)}\n`);
      for (const id of rec.undo) out.write(`  undo  ${title(id)}\n`);
      out.write('nothing was changed (--dry-run)\n');
    }
    return EXIT.ok;
  }
  const id = journal.operationId;
  const given = {
    yes: values.yes === true,
    confirm: typeof values.confirm === 'string' ? values.confirm : null,
  };
  let confirmation = checkRecoveryConfirmation(id, given);
  // Decided before the cluster is asked: a wrong --confirm, or no way to ask.
  if (!confirmation.ok && (given.confirm !== null || !process.stdin.isTTY)) {
    if (!json) out.write(renderJournal(journal));
    err.write(`kube-ha: ${confirmation.reason}; nothing was changed\n`);
    return EXIT.usage;
  }
  const mode = sub as RecoveryMode;
  const session = await openCommandSession(
    target,
    sessionOptions(values as Values, `kube-ha operation ${sub}`),
  );
  try {
    if (!json) out.write(renderJournal(journal));
    const { checks } = await session.checkRecovery(journal, mode);
    const refusals = refusalsOf(checks);
    if (!json) out.write(renderChecks(checks, ascii));
    if (refusals.length) {
      if (json) jsonOut(out, { unfinished: journal, checks, refusals, result: null });
      else out.write(`refused, nothing was changed:\n${refusals.map((r) => `  ✗ ${r}\n`).join('')}`);
      return EXIT.refused;
    }
    if (!confirmation.ok) {
      const rec = mode === 'resume' ? resumeRecovery(journal) : rollbackRecovery(journal);
      const answer = await ask(`${rec.note}. Type ${id} to ${sub} it, or anything else to cancel: `);
      confirmation = checkRecoveryConfirmation(id, {
        yes: false,
        confirm: null,
        interactiveAnswer: answer ?? '',
      });
      if (!confirmation.ok) {
        err.write(`kube-ha: ${confirmation.reason}; nothing was changed\n`);
        return EXIT.usage;
      }
    }
    const cancel = cancelOnSignal(err);
    try {
      const run = mode === 'resume' ? resumeOperation : rollbackOperation;
      const result = await run(journal, session.deps, {
        onEvent: progressPrinter(err),
        signal: cancel.signal,
      });
      if (json) jsonOut(out, { unfinished: journal, checks, result });
      else out.write(renderResult(result));
      return result.exitCode;
    } finally {
      cancel.dispose();
    }
  } finally {
    await session.close();
  }
}

/** Entry for `add`, `remove`, `replace` and `operation`, called by src/cli/main.ts. */
export async function opsCommand(
  name: string,
  argv: string[],
  io: { out?: NodeJS.WritableStream; err?: NodeJS.WritableStream; env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  const out = io.out ?? process.stdout;
  const err = io.err ?? process.stderr;
  const env = io.env ?? process.env;
  if (argv.includes('--help') || argv.includes('-h')) {
    out.write(OPS_HELP);
    return EXIT.ok;
  }
  if (name === 'operation') return operationCommand(argv, out, err, env);
  if (name === 'reset' || name === 'start') return runKind(name, argv, out, err, env);
  if (name === 'add' || name === 'remove' || name === 'replace' || name === 'defrag')
    return runKind(name, argv, out, err, env);
  throw new UsageError(`unknown operation command '${name}'`);
}
