// What every handler works with: the project's state, names, hooks, timing,
// faults and operations, plus the service's lifetime (sleeps and hook calls
// end when the service closes, so that nothing mutates state afterwards).
import { notReady } from './errors.js';
import type { FaultRegistry } from './faults.js';
import type { Links, Locations } from './names.js';
import type { OperationEngine } from './operations.js';
import type { ActionRecord, ComputeState, Entry } from './state.js';
import type { ComputeHooks, ComputeTiming } from './types.js';

/** How one kind of operation finishes or is undone; also what a restart does with it. */
export interface ActionSpec {
  /** Done once the work succeeded (and, after a restart, for `onRestart: 'commit'`). */
  commit(ctx: ServiceContext, action: ActionRecord): void;
  /** Undoes what the request reserved; after a restart, for `onRestart: 'rollback'`. */
  rollback(ctx: ServiceContext, action: ActionRecord): void;
  onRestart: 'commit' | 'rollback';
}

export class ClosedError extends Error {
  constructor() {
    super('the Compute service is closed');
    this.name = 'ClosedError';
  }
}

export class ServiceContext {
  readonly actions = new Map<string, ActionSpec>();
  ops!: OperationEngine;
  private readonly timers = new Set<{ timer: NodeJS.Timeout; reject: (e: Error) => void }>();
  private closedFlag = false;
  private readonly closedPromise: Promise<never>;
  private rejectClosed!: (e: Error) => void;

  constructor(
    readonly project: string,
    readonly links: Links,
    readonly locations: Locations,
    readonly state: ComputeState,
    readonly faults: FaultRegistry,
    readonly hooks: Required<Omit<ComputeHooks, 'checkHealth'>> & Pick<ComputeHooks, 'checkHealth'>,
    readonly timing: ComputeTiming,
  ) {
    this.closedPromise = new Promise<never>((_, reject) => {
      this.rejectClosed = reject;
    });
    // Nobody may be racing it yet; an unobserved rejection must not crash the process.
    this.closedPromise.catch(() => {});
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  now(): number {
    return Date.now();
  }

  /** Persists and tells the lab. */
  changed(): void {
    if (this.closedFlag) return;
    this.state.prune(this.now());
    this.state.save();
    try {
      this.hooks.onChange();
    } catch {
      // The lab's listener must not break a request.
    }
  }

  /** Gives an address back to the lab; its failure must not break an operation (the address leaks instead). */
  releaseIP(ip: string): void {
    try {
      this.hooks.releaseIP(ip);
    } catch {
      // The lab's allocator keeps the address; nothing in Compute uses it any more.
    }
  }

  sleep(ms: number): Promise<void> {
    if (this.closedFlag) return Promise.reject(new ClosedError());
    return new Promise((resolve, reject) => {
      const t = {
        timer: setTimeout(() => {
          this.timers.delete(t);
          resolve();
        }, ms),
        reject,
      };
      this.timers.add(t);
    });
  }

  /** A hook's promise, abandoned (ClosedError) if the service closes first. */
  guard<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.closedPromise]);
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const t of this.timers) {
      clearTimeout(t.timer);
      t.reject(new ClosedError());
    }
    this.timers.clear();
    this.rejectClosed(new ClosedError());
  }

  /** GCE runs one operation at a time per resource. */
  checkNotBusy(entry: Entry<unknown>, path: string): void {
    if (entry.meta.busyOp || entry.meta.pending) throw notReady(path);
  }
}
