// Injected failures, for rehearsing kube-ha's rollback paths: `http` fails the
// request itself (a usage-limit reason such as rateLimitExceeded gets GCE's
// whole 403 answer); `operation` lets a mutation start and ends its Operation
// with `error.errors`, as GCE does for e.g. ZONE_RESOURCE_POOL_EXHAUSTED or
// RESOURCE_OPERATION_RATE_EXCEEDED; `lost` applies a mutation and then loses
// its answer (the connection is reset, or `code` is answered instead), as a
// retry after a network failure meets it.

export type FaultMode = 'http' | 'operation' | 'lost';

export interface FaultMatch {
  zone?: string;
  region?: string;
  /** Resource name (for inserts, the new resource's name; for operations.*, the operation's). */
  name?: string | RegExp;
}

export interface ComputeFault {
  /** `<collection>.<method>` as in the API: `instances.insert`, `targetPools.addInstance`, `zoneOperations.wait`... */
  method: string;
  match?: FaultMatch;
  /** `lost-answer` is accepted as another name for `lost`. */
  mode: FaultMode;
  /**
   * http: the HTTP status (default 503; 403 for a usage-limit reason).
   * operation: the error code (default per method). lost: the HTTP status
   * answered after applying the request (default: none, the connection is reset).
   */
  code?: number | string;
  /** http: the `errors[].reason` (default backendError). */
  reason?: string;
  message?: string;
  /** operation: httpErrorStatusCode reported on the operation. */
  httpStatus?: number;
  /** How many requests it fails; default: until cleared. */
  times?: number;
}

export interface FaultHandle {
  readonly id: number;
  /** How many requests it has failed so far. */
  hits(): number;
  clear(): void;
}

export interface FaultTarget {
  zone?: string | undefined;
  region?: string | undefined;
  name?: string | undefined;
}

interface Armed {
  id: number;
  fault: ComputeFault;
  left: number;
  hits: number;
}

export class FaultRegistry {
  private armed: Armed[] = [];
  private nextId = 1;

  constructor(private readonly isOperationMethod: (method: string) => boolean) {}

  set(input: ComputeFault): FaultHandle {
    const fault: ComputeFault =
      (input?.mode as string) === 'lost-answer' ? { ...input, mode: 'lost' } : input;
    if (typeof fault?.method !== 'string' || !/^[a-zA-Z]+\.[a-zA-Z]+$/.test(fault.method)) {
      throw new Error(`fault method must look like "instances.insert", not ${JSON.stringify(fault?.method)}`);
    }
    if (fault.mode !== 'http' && fault.mode !== 'operation' && fault.mode !== 'lost')
      throw new Error(`fault mode must be "http", "operation" or "lost"`);
    if (fault.mode !== 'http' && !this.isOperationMethod(fault.method)) {
      throw new Error(`${fault.method} does not return an operation; use mode "http"`);
    }
    if (
      (fault.mode === 'http' || fault.mode === 'lost') &&
      fault.code !== undefined &&
      (typeof fault.code !== 'number' || fault.code < 400)
    ) {
      throw new Error('an http fault code must be an HTTP error status');
    }
    if (fault.mode === 'operation' && fault.code !== undefined && typeof fault.code !== 'string') {
      throw new Error(
        'an operation fault code must be an error code string such as ZONE_RESOURCE_POOL_EXHAUSTED',
      );
    }
    const armed: Armed = { id: this.nextId++, fault, left: fault.times ?? Number.POSITIVE_INFINITY, hits: 0 };
    this.armed.push(armed);
    return {
      id: armed.id,
      hits: () => armed.hits,
      clear: () => {
        this.armed = this.armed.filter((a) => a !== armed);
      },
    };
  }

  clear(): void {
    this.armed = [];
  }

  /** Every armed fault and how often it has struck (a test's proof that its fault was met). */
  list(): { id: number; fault: ComputeFault; hits: number; left: number | null }[] {
    return this.armed.map((a) => ({
      id: a.id,
      fault: a.fault,
      hits: a.hits,
      left: Number.isFinite(a.left) ? a.left : null,
    }));
  }

  private matches(a: Armed, method: string, mode: string, t: FaultTarget): boolean {
    const f = a.fault;
    if (a.left <= 0 || f.method !== method || f.mode !== mode) return false;
    const m = f.match;
    if (!m) return true;
    if (m.zone !== undefined && m.zone !== t.zone) return false;
    if (m.region !== undefined && m.region !== t.region) return false;
    if (m.name !== undefined) {
      if (t.name === undefined) return false;
      if (typeof m.name === 'string' ? m.name !== t.name : !m.name.test(t.name)) return false;
    }
    return true;
  }

  /** The first armed fault that applies, counted as used. */
  take(method: string, mode: FaultMode, target: FaultTarget): ComputeFault | null {
    const a = this.armed.find((x) => this.matches(x, method, mode, target));
    if (!a) return null;
    a.left--;
    a.hits++;
    return a.fault;
  }

  /** Whether a fault applies, without using it (aggregatedList checks each scope, then takes once). */
  peek(method: string, mode: FaultMode, target: FaultTarget): ComputeFault | null {
    return this.armed.find((x) => this.matches(x, method, mode, target))?.fault ?? null;
  }

  /** Counts one use of a fault found with peek. */
  use(fault: ComputeFault): void {
    const a = this.armed.find((x) => x.fault === fault);
    if (a) {
      a.left--;
      a.hits++;
    }
  }
}
