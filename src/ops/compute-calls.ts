// Compute calls as the operation runners make them: every call logged (the
// command log), bounded (the transport timeout, the operation deadline),
// transient failures retried a few times, rate limits waited out (retry.ts),
// and "already exists" / "not found" turned into facts a runner can act on,
// so that every runner is idempotent. Every mutation carries a requestId kept
// across the retries of one logical call: GCE applies a request ID once and
// answers a repeat with the first operation ("requestId" in the v1 API
// reference), so a retry whose first try was applied but whose answer was
// lost neither applies twice nor fails with 409.
//
// This file holds the call machinery (reads, mutations and their operations,
// retries, request IDs); compute-ops.ts the calls, one per resource change.
import { randomUUID } from 'node:crypto';
import { formatSeconds } from '../domain/format.js';
import type { ComputeClients } from '../gce/clients.js';
import {
  type GceOperation,
  GceOperationError,
  isGceApiError,
  type OperationLike,
  toGceApiError,
  waitForOperation,
} from '../gce/operations.js';
import {
  Backoff,
  classifyFailure,
  DEFAULT_RETRY_POLICY,
  type FailureKind,
  REAL_CLOCK,
  type RetryClock,
  type RetryPolicy,
  withRetries,
} from '../gce/retry.js';

export interface ComputeOpsOptions {
  project: string;
  region: string;
  /** How long one operation may take to be DONE. */
  opDeadlineMs: number;
  log(line: string): void;
  /** Time, pauses and jitter; the real ones by default. */
  clock?: Partial<RetryClock>;
  policy?: Partial<RetryPolicy>;
  /** A new requestId (a UUID) for each logical mutation. */
  newRequestId?(): string;
}

/** What a call may be given besides its request: the operation's cancel signal. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface MutateOptions extends CallOptions {
  /** 409 alreadyExists resolves to 'exists'. */
  exists?: boolean;
  /** 404 resolves to 'absent'. */
  absent?: boolean;
  /** Said after the call in the log (what an instance is cloned from), not part of its request-ID key. */
  about?: string;
}

/**
 * Where a step keeps the request IDs of its calls (the journal), so that a
 * step resumed after the process died mid-call sends the IDs it sent before
 * and GCE answers with the first operation instead of applying it again.
 * Keyed by the call (method and resource).
 */
export interface RequestIdBook {
  /** The ID kept for this call, or a new one, kept before it is sent. */
  idFor(call: string): string;
  /**
   * The call was answered with a failure (an HTTP error, or an operation that
   * ended in error): a repeat of its ID would get the same failure back, so
   * its next try needs a new one.
   */
  spend(call: string): void;
}

function opOf(res: unknown): OperationLike {
  const first = Array.isArray(res) ? res[0] : res;
  return (first ?? {}) as OperationLike;
}

function opName(op: OperationLike): string {
  const lr = (op as { latestResponse?: GceOperation }).latestResponse ?? (op as GceOperation);
  return lr?.name ?? '?';
}

export function describeError(err: unknown): string {
  if (err instanceof GceOperationError) return err.message;
  if (err instanceof Error && err.name === 'GceOperationTimeoutError') return err.message;
  const api = toGceApiError(err);
  return `${api.code ? `HTTP ${api.code}` : 'no response'}${api.reason ? ` ${api.reason}` : ''}: ${api.message}`;
}

function isRefusal(err: unknown): boolean {
  const code = toGceApiError(err).code;
  return code >= 400 && code < 500 && code !== 408;
}

export class ComputeCalls {
  readonly project: string;
  readonly region: string;
  private readonly clock: RetryClock;
  private readonly policy: RetryPolicy;
  private readonly newRequestId: () => string;
  /** Set on a view made by withSignal: the default for every call's pauses. */
  private readonly signal: AbortSignal | undefined = undefined;
  /** Set on a view made by withRequestIds: where each call's request ID is kept. */
  private readonly book: RequestIdBook | undefined = undefined;

  constructor(
    readonly c: ComputeClients,
    protected readonly o: ComputeOpsOptions,
  ) {
    this.project = o.project;
    this.region = o.region;
    const k = o.clock ?? {};
    // Bound, not spread: a clock may be a class instance with its methods on the prototype.
    this.clock = {
      now: k.now?.bind(k) ?? REAL_CLOCK.now,
      sleep: k.sleep?.bind(k) ?? REAL_CLOCK.sleep,
      random: k.random?.bind(k) ?? REAL_CLOCK.random,
    };
    this.policy = { ...DEFAULT_RETRY_POLICY, ...o.policy };
    this.newRequestId = o.newRequestId ?? randomUUID;
  }

  /**
   * The same calls, with every retry pause and operation wait stopped by
   * `signal` (a CancelledError). Rollback passes none: it must not stop halfway.
   */
  withSignal(signal: AbortSignal | undefined): this {
    if (!signal || signal === this.signal) return this;
    const view = Object.create(this) as this;
    Object.defineProperty(view, 'signal', { value: signal });
    return view;
  }

  withRequestIds(book: RequestIdBook): this {
    const view = Object.create(this) as this;
    Object.defineProperty(view, 'book', { value: book });
    return view;
  }

  /**
   * Retries transient failures (no response, 5xx, resourceNotReady) a few
   * times and rate limits for up to the policy's budget; an exhausted quota
   * and everything else are thrown at once, as GceApiError.
   */
  protected async retrying<T>(
    label: string,
    fn: () => Promise<T>,
    o: CallOptions & { backoff?: Backoff },
  ): Promise<T> {
    try {
      return await withRetries(
        async () => {
          try {
            return await fn();
          } catch (err) {
            throw toGceApiError(err);
          }
        },
        {
          policy: this.policy,
          clock: this.clock,
          signal: o.signal ?? this.signal,
          backoff: o.backoff ?? new Backoff(this.policy, this.clock),
          onRetry: ({ kind, pauseMs, error }) => this.logRetry(label, kind, pauseMs, error),
        },
      );
    } catch (err) {
      throw err instanceof Error && err.name === 'CancelledError' ? err : toGceApiError(err);
    }
  }

  private logRetry(label: string, kind: FailureKind, pauseMs: number, error: unknown): void {
    const why = kind === 'rate-limit' ? 'rate limited' : 'transient failure';
    this.o.log(
      `compute ${label} → ${describeError(error)} (${why}; trying again in ${formatSeconds(pauseMs)})`,
    );
  }

  /** A read: logged with its outcome; 404 resolves to null. */
  async get<T>(label: string, fn: () => Promise<[T, ...unknown[]]>, o: CallOptions = {}): Promise<T | null> {
    const started = Date.now();
    try {
      const [res] = await this.retrying(label, fn, o);
      this.o.log(`compute ${label} → found (${formatSeconds(Date.now() - started)})`);
      return res;
    } catch (err) {
      if (isGceApiError(err, 404)) {
        this.o.log(`compute ${label} → not found`);
        return null;
      }
      this.o.log(`compute ${label} → ${describeError(err)}`);
      throw err;
    }
  }

  /**
   * A mutation and its operation, waited for until DONE. `fn` is given the
   * requestId to send, the same for every retry of this call. Returns 'exists'
   * on 409 alreadyExists and 'absent' on 404 when the caller allows it (the
   * resource was created or deleted by an earlier, interrupted run). An
   * operation that ends in RESOURCE_OPERATION_RATE_EXCEEDED is sent again
   * after a pause with a new requestId (the old one would return the failed
   * operation), within the same rate-limit budget. With a request-ID book
   * (withRequestIds), the ID comes from it and a failure answered by GCE
   * spends it; a call that got no answer keeps its ID for the next run.
   */
  async mutate(
    call: string,
    fn: (requestId: string) => Promise<unknown>,
    opts: MutateOptions = {},
  ): Promise<'done' | 'exists' | 'absent'> {
    const started = Date.now();
    const signal = opts.signal ?? this.signal;
    const backoff = new Backoff(this.policy, this.clock);
    const label = opts.about ? `${call} ${opts.about}` : call;
    for (;;) {
      const requestId = this.book ? this.book.idFor(call) : this.newRequestId();
      let op: OperationLike;
      try {
        op = opOf(await this.retrying(label, () => fn(requestId), { signal, backoff }));
      } catch (err) {
        // Refused (4xx): nothing was applied, and a repeat of the ID would be refused alike. No
        // answer, a timeout or a 5xx may hide an applied request: the ID is kept for the next run.
        if (isRefusal(err)) this.book?.spend(call);
        if (opts.exists && isGceApiError(err, 409)) {
          this.o.log(`compute ${label} → already exists`);
          return 'exists';
        }
        if (opts.absent && isGceApiError(err, 404)) {
          this.o.log(`compute ${label} → not found (nothing to do)`);
          return 'absent';
        }
        this.o.log(`compute ${label} → ${describeError(err)}`);
        throw err;
      }
      try {
        await waitForOperation(this.c, op, {
          deadlineMs: this.o.opDeadlineMs,
          project: this.project,
          signal,
          clock: this.clock,
          policy: this.policy,
        });
        this.o.log(`compute ${label} → ${opName(op)} DONE (${formatSeconds(Date.now() - started)})`);
        return 'done';
      } catch (err) {
        if (err instanceof GceOperationError) this.book?.spend(call);
        const pause = classifyFailure(err) === 'rate-limit' ? backoff.next('rate-limit') : null;
        if (pause === null) {
          this.o.log(`compute ${label} → ${opName(op)} ${describeError(err)}`);
          throw err;
        }
        this.o.log(
          `compute ${label} → ${opName(op)} ${describeError(err)} (rate limited; sending it again in ${formatSeconds(pause)})`,
        );
        await this.clock.sleep(pause, signal);
      }
    }
  }
}
