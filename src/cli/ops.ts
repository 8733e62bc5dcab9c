// `kube-ha add | remove | replace | operation status|resume|rollback`: the
// same planning and executor as the console. The plan is printed before
// anything changes; removal needs the replica's name typed (or --confirm NAME
// / --yes); progress, every Compute and etcd call, and the learner's catch-up
// go to stderr; --json prints one document on stdout at the end.
// Exit: 0 done, 2 bad usage or not confirmed (nothing changed), 3 refused
// (nothing changed), 4 failed and rolled back, 1 failed and not rolled back
// (what is left is printed).
import { createInterface } from 'node:readline/promises';
import { describeLeftovers, resumeRecovery, rollbackRecovery } from '../domain/ops/journal.js';
import { checkConfirmation, type PlannedOperation } from '../domain/ops/operation.js';
import { renderJournal, renderPlanned } from '../domain/ops/render.js';
import { type OpKind, parseRequest, RequestError } from '../domain/ops/request.js';
import type { OpEvent, OpResult } from '../ops/events.js';
import { executePlan, resumeOperation, rollbackOperation } from '../ops/executor.js';
import { JournalStore } from '../ops/journal-store.js';
import { OpsTargetError, openOpsSession } from '../ops/session.js';
import { resolveTarget, TARGET_OPTIONS } from './target-flags.js';
import { EXIT, parseFlags, UsageError } from './usage.js';

export const OPS_HELP = `Operator flows (same target flags as status):
  kube-ha add --zone Z [--replica NAME]                      add a replica in zone Z
  kube-ha remove (--replica NAME | --zone Z)                 remove a replica
  kube-ha replace --replica NAME [--zone Z] [--force]        remove a failed replica, add one in its zone
  kube-ha operation status|resume|rollback [--dry-run]       an unfinished operation
Options: --dry-run (print the plan, change nothing), --yes, --confirm NAME, --json,
  --catch-up-timeout S, --op-timeout S, --verify-timeout S, --lb-timeout S
kube-up variables: KUBE_GCE_ZONE, KUBE_REPLICA_NAME, KUBE_REPLICATE_EXISTING_MASTER=true, KUBE_DELETE_NODES=false
Exit codes: 0 done, 3 refused (nothing changed), 4 failed and rolled back, 1 failed, not rolled back,
  2 bad usage or not confirmed (a wrong name typed; nothing changed).
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
  remove: { zone: { type: 'string' }, replica: { type: 'string' } },
  replace: { zone: { type: 'string' }, replica: { type: 'string' }, force: { type: 'boolean' } },
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
  if (r.timings.length && r.outcome !== 'refused') {
    const slow = [...r.timings].sort((a, b) => b.ms - a.ms).slice(0, 5);
    lines.push(
      `slowest steps: ${slow.map((t) => `${t.id}${t.mode === 'undo' ? ' (undo)' : ''} ${secs(t.ms)}`).join(', ')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function ask(question: string): Promise<string | null> {
  if (!process.stdin.isTTY) return null;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
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
  if (positionals.length) throw new UsageError(`${kind} takes no arguments (got ${positionals.join(' ')})`);
  let request: ReturnType<typeof parseRequest>;
  try {
    request = parseRequest(kind, values as Values, env);
  } catch (e) {
    if (e instanceof RequestError) throw new UsageError(e.message);
    throw e;
  }
  const target = resolveTarget(values, env);
  const session = await openSession(target, sessionOptions(values as Values, `kube-ha ${kind}`));
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

async function openSession(
  target: Parameters<typeof openOpsSession>[0],
  o: Parameters<typeof openOpsSession>[1],
) {
  try {
    return await openOpsSession(target, o);
  } catch (e) {
    if (e instanceof OpsTargetError) throw new UsageError(e.message);
    throw e;
  }
}

async function operationCommand(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { values, positionals } = parseFlags(argv, RUN_OPTIONS);
  const [sub, ...extra] = positionals;
  if (extra.length || !sub || !['status', 'resume', 'rollback'].includes(sub)) {
    throw new UsageError('usage: kube-ha operation status|resume|rollback [target]');
  }
  const target = resolveTarget(values, env);
  const json = values.json === true;
  const store = JournalStore.forTarget(target);
  const journal = store.unfinished();
  if (!journal) {
    if (json) jsonOut(out, { unfinished: null, result: null });
    else out.write('no unfinished operation\n');
    return EXIT.ok;
  }
  if (sub === 'status') {
    if (json) {
      jsonOut(out, {
        unfinished: journal,
        resume: resumeRecovery(journal),
        rollback: rollbackRecovery(journal),
      });
    } else {
      out.write(renderJournal(journal));
      out.write(
        `  resume:   ${resumeRecovery(journal).note}\n  rollback: ${rollbackRecovery(journal).note}\n`,
      );
      out.write('  kube-ha operation resume | kube-ha operation rollback (same target flags)\n');
    }
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
  const session = await openSession(target, sessionOptions(values as Values, `kube-ha operation ${sub}`));
  const cancel = cancelOnSignal(err);
  try {
    if (!json) out.write(renderJournal(journal));
    const run = sub === 'resume' ? resumeOperation : rollbackOperation;
    const result = await run(journal, session.deps, { onEvent: progressPrinter(err), signal: cancel.signal });
    if (json) jsonOut(out, { unfinished: journal, result });
    else out.write(renderResult(result));
    return result.exitCode;
  } finally {
    cancel.dispose();
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
  if (name === 'add' || name === 'remove' || name === 'replace') return runKind(name, argv, out, err, env);
  throw new UsageError(`unknown operation command '${name}'`);
}
