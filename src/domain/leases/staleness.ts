// Is the leader alive? renewTime is written with the holder's clock, so the
// trustworthy rule is the one client-go itself uses: watch the record, and
// call it stale when it has not changed for longer than leaseDurationSeconds
// on our own clock. Without a watch (one-shot `status`), compare renewTime
// with the local clock plus a margin for skew, and say that is what was done.
import { rfc3339ToMs } from './time.js';
import type { LeaseSpec, WatchInfo } from './types.js';

/** Allowance for clock skew between the holder and this tool in the one-shot rule. */
export const DEFAULT_CLOCK_MARGIN_MS = 5000;

export type Liveness =
  | { state: 'released'; reason: string }
  | { state: 'held'; reason?: string }
  | { state: 'stale'; staleBy: 'watch' | 'clock'; reason: string };

export type RuleVerdict =
  | { verdict: 'stale' | 'fresh'; reason: string }
  | { verdict: 'unknown'; reason: string };

const secs = (ms: number) => `${Math.round(ms / 1000)} s`;

/**
 * The watched rule. 'unknown' while the watch is disconnected (no change can
 * be seen then) or has not yet covered a whole lease duration without seeing
 * a change (the record may have been renewed just before we started).
 */
export function watchRule(watch: WatchInfo, leaseDurationSeconds: number, now: number): RuleVerdict {
  if (!watch.connected) return { verdict: 'unknown', reason: 'watch disconnected' };
  const quiet = now - watch.lastChangeAt;
  if (quiet > leaseDurationSeconds * 1000) {
    return {
      verdict: 'stale',
      reason: `not renewed for ${secs(quiet)} while watched (lease duration ${leaseDurationSeconds} s)`,
    };
  }
  if (watch.lastChangeAt > watch.since) return { verdict: 'fresh', reason: `renewed ${secs(quiet)} ago` };
  return { verdict: 'unknown', reason: `watched for ${secs(quiet)} only, no renewal seen yet` };
}

/** The one-shot rule: renewTime against the local clock, with a margin for skew. */
export function clockRule(
  renewTime: string | null,
  leaseDurationSeconds: number,
  now: number,
  marginMs = DEFAULT_CLOCK_MARGIN_MS,
): RuleVerdict {
  const renewMs = renewTime === null ? null : rfc3339ToMs(renewTime);
  if (renewMs === null) return { verdict: 'unknown', reason: 'no renewTime' };
  const age = now - renewMs;
  if (age > leaseDurationSeconds * 1000 + marginMs) {
    return {
      verdict: 'stale',
      reason: `renewTime is ${secs(age)} old by the local clock (lease duration ${leaseDurationSeconds} s + ${secs(marginMs)} margin)`,
    };
  }
  return { verdict: 'fresh', reason: `renewTime is ${secs(Math.max(0, age))} old by the local clock` };
}

export interface LivenessInput {
  spec: LeaseSpec;
  watch?: WatchInfo;
  now: number;
  clockMarginMs?: number;
}

export function judgeLiveness({ spec, watch, now, clockMarginMs }: LivenessInput): Liveness {
  if (!spec.holderIdentity) return { state: 'released', reason: 'no holder' };
  const duration = spec.leaseDurationSeconds;
  if (duration === null || duration <= 0)
    return { state: 'held', reason: 'no leaseDurationSeconds: cannot judge' };
  if (watch !== undefined) {
    const w = watchRule(watch, duration, now);
    if (w.verdict === 'stale') return { state: 'stale', staleBy: 'watch', reason: w.reason };
    if (w.verdict === 'fresh') return { state: 'held' };
  }
  const c = clockRule(spec.renewTime, duration, now, clockMarginMs);
  if (c.verdict === 'stale') return { state: 'stale', staleBy: 'clock', reason: c.reason };
  if (c.verdict === 'unknown') return { state: 'held', reason: `${c.reason}: cannot judge` };
  return { state: 'held' };
}
