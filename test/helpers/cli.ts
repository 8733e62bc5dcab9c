// Runs the built kube-ha binary (dist/, built by `npm test` before vitest runs).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { FAST_LEASE_TIMINGS, leaseTimingArgs } from '../../src/lab/components/control-plane.js';
import { assertDistCurrent } from './dist-current.js';

// Every test file that runs kube-ha imports this module: a stale dist/ fails it here.
assertDistCurrent();

export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'kube-ha.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runCli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

export function tempLabDir(): string {
  return mkdtempSync(join(tmpdir(), 'kube-ha-lab-'));
}

/** A lab for one test file; the --ttl makes a leaked supervisor end itself. */
/** FAST_LEASE_TIMINGS as `lab up` flags: leases move in seconds, not Kubernetes' 15+ s. */
export const FAST_LEASE_FLAGS = leaseTimingArgs(FAST_LEASE_TIMINGS);

export async function labUp(dir: string, extra: string[] = []): Promise<CliResult> {
  const res = await runCli([
    'lab',
    'up',
    '--dir',
    dir,
    '--ttl',
    '900',
    '--boot-ms',
    '300',
    ...FAST_LEASE_FLAGS,
    ...extra,
  ]);
  if (res.code !== 0) throw new Error(`lab up failed (${res.code}): ${res.stderr}`);
  return res;
}

/**
 * Looks until `settled` holds, bounded, and returns the last look either way:
 * for a test that asserts on a settled state, so that a state that never
 * settles still fails its assertions (with the values seen), not a timeout.
 */
export async function lastLookUntil<T>(
  look: () => Promise<T>,
  settled: (t: T) => boolean,
  timeoutMs: number,
  everyMs = 500,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const t = await look();
    if (settled(t) || Date.now() > until) return t;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Stops the lab and removes its (temporary) directory: `lab down` leaves the directory itself. */
export async function labDown(dir: string): Promise<void> {
  await runCli(['lab', 'down', '--dir', dir]);
  rmSync(dir, { recursive: true, force: true });
  // The operator-flow tests' state dirs (test/ops/lab-helpers.ts opsLab).
  for (const e of readdirSync(dirname(dir)))
    if (e.startsWith(`${basename(dir)}.state-`))
      rmSync(join(dirname(dir), e), { recursive: true, force: true });
}

export async function eventually<T>(
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until)
      throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
