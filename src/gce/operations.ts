// Compute operations and errors as kube-ha sees them: waiting for an
// Operation to be DONE (the client library does not throw its `error.errors`),
// and turning a rejected call (Google's error JSON, an HTTP status, a
// transport failure) into a readable GceApiError.
import type { protos } from '@google-cloud/compute';
import type { ComputeClients } from './clients.js';
import {
  Backoff,
  CancelledError,
  classifyFailure,
  REAL_CLOCK,
  type RetryClock,
  type RetryPolicy,
} from './retry.js';

export type GceOperation = protos.google.cloud.compute.v1.IOperation;

/** An Operation, or what `insert`/`delete` resolve to (`[0]` of their tuple, holding `latestResponse`). */
export type OperationLike = GceOperation | { latestResponse?: unknown };

/** A call that failed: `code` is the HTTP status (0 when no response came), `reason` Google's `errors[0].reason`. */
export class GceApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'GceApiError';
  }

  /**
   * Worth retrying: no response, a server-side failure, or throttled (429, or
   * GCE's 403 rateLimitExceeded); not an exhausted quota (see retry.ts).
   */
  get transient(): boolean {
    const kind = classifyFailure(this);
    return (kind === 'transient' && this.reason !== 'resourceNotReady') || kind === 'rate-limit';
  }
}

export interface GceOperationErrorEntry {
  code: string;
  message: string;
  location?: string;
}

/** An operation that finished with `error.errors`. */
export class GceOperationError extends Error {
  readonly errors: GceOperationErrorEntry[];
  /** The first error's code, e.g. ZONE_RESOURCE_POOL_EXHAUSTED. */
  readonly code: string;
  readonly httpStatus: number | undefined;

  constructor(readonly operation: GceOperation) {
    const errors = (operation.error?.errors ?? []).map((e) => ({
      code: e.code ?? 'UNKNOWN',
      message: e.message ?? '',
      ...(e.location ? { location: e.location } : {}),
    }));
    const what = `${operation.operationType ?? 'operation'} of ${lastSegment(operation.targetLink ?? '') || 'a resource'}`;
    super(`${what} failed: ${errors.map((e) => `${e.code}: ${e.message}`).join('; ')}`);
    this.name = 'GceOperationError';
    this.errors = errors;
    this.code = errors[0]?.code ?? 'UNKNOWN';
    this.httpStatus = operation.httpErrorStatusCode ?? undefined;
  }
}

/** The deadline passed before the operation was DONE; `operation` is the last state seen. */
export class GceOperationTimeoutError extends Error {
  constructor(readonly operation: GceOperation) {
    super(
      `${operation.operationType ?? 'operation'} ${operation.name ?? ''} not DONE in time (last status ${operation.status ?? '?'})`,
    );
    this.name = 'GceOperationTimeoutError';
  }
}

function lastSegment(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

// gRPC codes the library may use instead of an HTTP status.
const GRPC_TO_HTTP: Record<number, number> = {
  3: 400,
  4: 504,
  5: 404,
  6: 409,
  7: 403,
  8: 429,
  9: 412,
  13: 500,
  14: 503,
  16: 401,
};

interface GoogleErrorJson {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    errors?: { reason?: string; message?: string }[];
  };
}

function parseJson(text: unknown): GoogleErrorJson | null {
  if (typeof text === 'object' && text !== null) return text as GoogleErrorJson;
  if (typeof text !== 'string' || !text.trimStart().startsWith('{')) return null;
  try {
    return JSON.parse(text) as GoogleErrorJson;
  } catch {
    return null;
  }
}

/** What to run when there are no Google credentials at all (the library's own text points at a web page). */
export const NO_CREDENTIALS =
  'no Google credentials: run `gcloud auth application-default login` (or set GOOGLE_APPLICATION_CREDENTIALS to a key file, or CLOUDSDK_AUTH_ACCESS_TOKEN_FILE to a file with an access token); on a GCE VM, give it a service account with the compute scope';

/** Reads any rejection of a Compute call. */
export function toGceApiError(err: unknown): GceApiError {
  if (err instanceof GceApiError) return err;
  const e = (err ?? {}) as {
    code?: unknown;
    status?: unknown;
    message?: unknown;
    response?: { status?: unknown; data?: unknown };
  };
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (/Could not load the default credentials/i.test(message))
    return new GceApiError(401, 'noCredentials', NO_CREDENTIALS, err);
  const body = parseJson(e.response?.data)?.error ? parseJson(e.response?.data) : parseJson(message);
  const httpStatus =
    typeof e.response?.status === 'number'
      ? e.response.status
      : typeof e.status === 'number'
        ? e.status
        : undefined;
  if (body?.error) {
    const code = body.error.code ?? httpStatus ?? 0;
    const reason = body.error.errors?.[0]?.reason ?? body.error.status ?? '';
    return new GceApiError(code, reason, body.error.message ?? message, err);
  }
  if (typeof e.code === 'number') {
    const code = e.code >= 100 ? e.code : (GRPC_TO_HTTP[e.code] ?? 500);
    return new GceApiError(code, code === 504 ? 'timeout' : '', message, err);
  }
  if (httpStatus !== undefined) return new GceApiError(httpStatus, '', message, err);
  // No response: a transport error (ECONNREFUSED...) or the transport's timeout (an abort).
  const reason =
    typeof e.code === 'string' ? e.code : /aborted|timeout/i.test(message) ? 'timeout' : 'network';
  return new GceApiError(0, reason, message, err);
}

export function isGceApiError(err: unknown, code?: number, reason?: string): err is GceApiError {
  return (
    err instanceof GceApiError &&
    (code === undefined || err.code === code) &&
    (reason === undefined || err.reason === reason)
  );
}

function asOperation(op: OperationLike): GceOperation {
  const lr = (op as { latestResponse?: unknown }).latestResponse;
  return (lr && typeof lr === 'object' ? lr : op) as GceOperation;
}

/** `projects/P/` of an operation's links. */
function projectOf(op: GceOperation): string | null {
  for (const link of [op.selfLink, op.targetLink, op.zone, op.region]) {
    const m = /\/projects\/([^/]+)\//.exec(link ?? '');
    if (m?.[1]) return m[1];
  }
  return null;
}

export interface WaitOptions {
  /** How long to wait from now, in ms. */
  deadlineMs: number;
  /** Needed only if the operation carries no links. */
  project?: string;
  /** Stops the wait (CancelledError). */
  signal?: AbortSignal | undefined;
  clock?: RetryClock;
  policy?: RetryPolicy;
}

type OperationWaiters = Pick<ComputeClients, 'zoneOperations' | 'regionOperations' | 'globalOperations'>;

/**
 * Waits until the operation is DONE (calling `wait` on its zone, region or
 * global scope, which blocks server-side up to ~2 minutes), retrying transient
 * failures. Resolves with the DONE operation; throws GceOperationError if it
 * finished with errors, GceOperationTimeoutError at the deadline, GceApiError
 * for a non-transient failure of `wait` itself.
 */
export async function waitForOperation(
  clients: OperationWaiters,
  op: OperationLike,
  o: WaitOptions,
): Promise<GceOperation> {
  const clock = o.clock ?? REAL_CLOCK;
  const deadline = clock.now() + o.deadlineMs;
  let current = asOperation(op);
  const project = o.project ?? projectOf(current);
  if (!project) throw new Error('waitForOperation: the operation names no project; pass `project`');
  const name = current.name;
  if (!name) throw new Error('waitForOperation: the operation has no name');
  const waitOnce = (): Promise<GceOperation> => {
    if (current.zone) {
      return clients.zoneOperations
        .wait({ project, zone: lastSegment(current.zone), operation: name })
        .then((r) => r[0]);
    }
    if (current.region) {
      return clients.regionOperations
        .wait({ project, region: lastSegment(current.region), operation: name })
        .then((r) => r[0]);
    }
    return clients.globalOperations.wait({ project, operation: name }).then((r) => r[0]);
  };
  let backoffMs = 100;
  // Rate limits on `wait` itself (the operation-read quota) get the jittered
  // backoff; other transient failures the quick one, until the deadline.
  let throttled = new Backoff(o.policy, clock);
  while (current.status !== 'DONE') {
    if (o.signal?.aborted) throw new CancelledError('cancelled');
    const remaining = deadline - clock.now();
    if (remaining <= 0) throw new GceOperationTimeoutError(current);
    const call = waitOnce();
    // The call cannot be cancelled (REST mode ignores per-call timeouts): the
    // deadline only stops waiting for it, so its late failure must be swallowed.
    call.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const expired = new Promise<'expired' | 'aborted'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), remaining);
      onAbort = () => resolve('aborted');
      o.signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const got = await Promise.race([call, expired]);
      if (got === 'expired') throw new GceOperationTimeoutError(current);
      if (got === 'aborted') throw new CancelledError('cancelled');
      current = got;
      backoffMs = 100;
      throttled = new Backoff(o.policy, clock);
    } catch (err) {
      if (err instanceof GceOperationTimeoutError || err instanceof CancelledError) throw err;
      const api = toGceApiError(err);
      const kind = classifyFailure(api);
      const left = Math.max(0, deadline - clock.now());
      if (kind === 'rate-limit') {
        const pause = throttled.next(kind);
        if (pause === null) throw api;
        await clock.sleep(Math.min(pause, left), o.signal);
      } else if (kind === 'transient' && api.reason !== 'resourceNotReady') {
        await clock.sleep(Math.min(backoffMs, left), o.signal);
        backoffMs = Math.min(backoffMs * 2, 5000);
      } else {
        throw api;
      }
    } finally {
      clearTimeout(timer);
      if (onAbort) o.signal?.removeEventListener('abort', onAbort);
    }
  }
  if ((current.error?.errors ?? []).length > 0) throw new GceOperationError(current);
  return current;
}
