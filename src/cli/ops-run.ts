// What running an operation from the CLI shares (add, remove, replace,
// reset, start, defrag and `operation resume|rollback`): the flags, the
// session options they set, and Ctrl-C as a cancel.
import type { OpResult } from '../ops/events.js';
import type { ExecOptions } from '../ops/executor.js';
import { jsonOut, progressPrinter, renderResult } from './ops-output.js';
import { TARGET_OPTIONS } from './target-flags.js';
import { UsageError } from './usage.js';

export const RUN_OPTIONS = {
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

function seconds(v: string | boolean | undefined, flag: string): number | undefined {
  if (typeof v !== 'string') return undefined;
  const s = Number(v.replace(/s$/, ''));
  if (!Number.isFinite(s) || s <= 0 || s > 86_400)
    throw new UsageError(`--${flag}: '${v}' is not a number of seconds`);
  return Math.round(s * 1000);
}

export type Values = Record<string, string | boolean | undefined>;

export function sessionOptions(values: Values, tool: string) {
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

/**
 * Runs an operation with its progress on stderr and Ctrl-C as its cancel,
 * then prints the result (with --json, the document `doc` makes of it).
 * Returns its exit code.
 */
export async function runPrinted(
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream; json: boolean },
  run: (o: ExecOptions) => Promise<OpResult>,
  doc: (result: OpResult) => unknown,
): Promise<number> {
  const cancel = cancelOnSignal(io.err);
  try {
    const result = await run({ onEvent: progressPrinter(io.err), signal: cancel.signal });
    if (io.json) jsonOut(io.out, doc(result));
    else io.out.write(renderResult(result));
    return result.exitCode;
  } finally {
    cancel.dispose();
  }
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
