// When a failed Compute call is worth trying again, and how long to wait.
//
// GCE answers a project over its per-minute rate quota with HTTP 403,
// `errors[0] = {domain: 'usageLimits', reason: 'rateLimitExceeded'}` and
// refills it "at the start of the next interval" (cloud.google.com/compute/api-quota,
// troubleshooting/troubleshoot-operation-limits); too many operations on one
// resource end the operation with RESOURCE_OPERATION_RATE_EXCEEDED ("Operation
// rate exceeded for resource ... Too frequent operations", as reported in
// googleapis/python-compute#279 and gcp-compute-persistent-disk-csi-driver#1847).
// Both pass within a minute, so they are waited out with jittered backoff for
// up to ~60 s. Exhausted quota or capacity (quotaExceeded, QUOTA_EXCEEDED,
// ZONE_RESOURCE_POOL_EXHAUSTED[_WITH_DETAILS]) does not pass by waiting: it
// fails at once so that the operation rolls back while little is done.
import { GceApiError, GceOperationError, toGceApiError } from './operations.js';

/** Rate limits: wait and try again. `RATE_LIMIT_EXCEEDED` is the ErrorInfo reason of newer front ends. */
const RATE_LIMIT_CODES: ReadonlySet<string> = new Set([
  'rateLimitExceeded',
  'userRateLimitExceeded',
  'RATE_LIMIT_EXCEEDED',
  'RESOURCE_OPERATION_RATE_EXCEEDED',
]);

/** Out of quota or capacity: waiting a minute does not help. */
const EXHAUSTED_CODES: ReadonlySet<string> = new Set([
  'quotaExceeded',
  'QUOTA_EXCEEDED',
  'ZONE_RESOURCE_POOL_EXHAUSTED',
  'ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS',
]);

export type FailureKind =
  /** Throttled: back off for up to the rate-limit budget. */
  | 'rate-limit'
  /** No answer, a server error, or the resource is busy: a few quick retries. */
  | 'transient'
  /** Quota or capacity exhausted: fail fast. */
  | 'exhausted'
  /** Anything else: the caller decides (404, 409, a bad request...). */
  | 'fatal';

export function isRateLimitCode(code: string): boolean {
  return RATE_LIMIT_CODES.has(code);
}

export function isExhaustedCode(code: string): boolean {
  return EXHAUSTED_CODES.has(code);
}

/** How a Compute call or operation failed, for deciding whether to try it again. */
export function classifyFailure(err: unknown): FailureKind {
  if (err instanceof CancelledError) return 'fatal';
  if (err instanceof GceOperationError) {
    const codes = err.errors.map((e) => e.code);
    if (codes.some(isExhaustedCode)) return 'exhausted';
    if (codes.some(isRateLimitCode)) return 'rate-limit';
    return 'fatal';
  }
  if (err instanceof Error && err.name === 'GceOperationTimeoutError') return 'fatal';
  const api = err instanceof GceApiError ? err : toGceApiError(err);
  if (isExhaustedCode(api.reason)) return 'exhausted';
  if (isRateLimitCode(api.reason)) return 'rate-limit';
  // 429 without a known reason is throttling too (RESOURCE_EXHAUSTED on newer front ends).
  if (api.code === 429) return 'rate-limit';
  if (api.code === 0 || api.code >= 500 || api.reason === 'resourceNotReady') return 'transient';
  return 'fatal';
}

export interface RetryPolicy {
  /** Tries in all for transient failures (the first included). */
  transientTries: number;
  /** First pause after a transient failure; doubles. */
  transientBaseMs: number;
  /** Longest time spent waiting out rate limits, from the first one seen. */
  rateLimitBudgetMs: number;
  /** First rate-limit pause before jitter; doubles up to rateLimitCapMs. */
  rateLimitBaseMs: number;
  rateLimitCapMs: number;
}

/**
 * A 60 s budget reaches past the next minute boundary wherever the limit was
 * hit, so a per-minute quota has refilled by the last try.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  transientTries: 3,
  transientBaseMs: 250,
  rateLimitBudgetMs: 60_000,
  rateLimitBaseMs: 2_000,
  rateLimitCapMs: 16_000,
};

/** Time and chance, injectable so that tests run in milliseconds. */
export interface RetryClock {
  now(): number;
  /** Rejects with CancelledError when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** In [0, 1). */
  random(): number;
}

/** The wait was stopped by the operation's AbortSignal (the operator cancelled). */
export class CancelledError extends Error {
  override name = 'CancelledError';
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError('cancelled'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new CancelledError('cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const REAL_CLOCK: RetryClock = {
  now: () => Date.now(),
  sleep: abortableSleep,
  random: () => Math.random(),
};

/**
 * The pauses of one logical call: null once it should give up. Transient
 * failures and rate limits are counted apart, so throttling does not use up
 * the quick retries and a flaky transport does not shorten the wait for a
 * quota refill.
 */
export class Backoff {
  private transientFailures = 0;
  private rateLimited = 0;
  private rateSince: number | null = null;

  constructor(
    private readonly policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    private readonly clock: RetryClock = REAL_CLOCK,
  ) {}

  next(kind: FailureKind): number | null {
    const p = this.policy;
    if (kind === 'transient') {
      this.transientFailures++;
      if (this.transientFailures >= p.transientTries) return null;
      return p.transientBaseMs * 2 ** (this.transientFailures - 1);
    }
    if (kind !== 'rate-limit') return null;
    const now = this.clock.now();
    this.rateSince ??= now;
    const left = p.rateLimitBudgetMs - (now - this.rateSince);
    if (left <= 0) return null;
    const ceiling = Math.min(p.rateLimitCapMs, p.rateLimitBaseMs * 2 ** this.rateLimited);
    this.rateLimited++;
    // "Equal jitter": half fixed, half random, so that clients throttled
    // together spread out and no pause is near zero.
    const pause = ceiling / 2 + (ceiling / 2) * this.clock.random();
    return Math.max(1, Math.round(Math.min(pause, left)));
  }
}

export interface RetryOptions {
  policy?: RetryPolicy;
  clock?: RetryClock;
  signal?: AbortSignal | undefined;
  /** A shared Backoff, for a logical call made of several requests (a mutation and its operation). */
  backoff?: Backoff;
  /** Told before each pause. */
  onRetry?(info: { kind: FailureKind; pauseMs: number; error: unknown }): void;
}

/** Calls `fn` until it succeeds, a failure is not worth retrying, or the backoff gives up. */
export async function withRetries<T>(fn: () => Promise<T>, o: RetryOptions = {}): Promise<T> {
  const clock = o.clock ?? REAL_CLOCK;
  const backoff = o.backoff ?? new Backoff(o.policy, clock);
  for (;;) {
    if (o.signal?.aborted) throw new CancelledError('cancelled');
    try {
      return await fn();
    } catch (err) {
      const kind = classifyFailure(err);
      const pauseMs = backoff.next(kind);
      if (pauseMs === null) throw err;
      o.onRetry?.({ kind, pauseMs, error: err });
      await clock.sleep(pauseMs, o.signal);
    }
  }
}
