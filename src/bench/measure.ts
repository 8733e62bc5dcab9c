// Small helpers for benchmarks: run a command N times, report the median.
import { execFile } from 'node:child_process';

export interface Timing {
  runs: number[];
  median: number;
  min: number;
  max: number;
}

export function summarize(runs: number[]): Timing {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { runs, median, min: sorted[0] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
}

export function timeCommand(
  cmd: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ ms: number; code: number; stdout: string }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { env: { ...process.env, ...env }, maxBuffer: 16 << 20, timeout: 120_000 },
      (err, stdout) => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        resolve({ ms, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout });
      },
    );
  });
}

export async function repeat(n: number, fn: () => Promise<number>): Promise<Timing> {
  const runs: number[] = [];
  for (let i = 0; i < n; i++) runs.push(await fn());
  return summarize(runs);
}

export const fmt = (t: Timing) =>
  `median ${t.median.toFixed(0)} ms (min ${t.min.toFixed(0)}, max ${t.max.toFixed(0)}, n=${t.runs.length})`;
