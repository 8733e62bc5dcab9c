// Operation lifecycle: PENDING -> RUNNING -> DONE with real time passing, the
// resource lock GCE holds meanwhile, `wait`, failures in `error.errors`, and
// what a restart does with operations that were still running.
import { ClosedError, type ServiceContext } from './context.js';
import { httpStatusText, OperationFailure } from './errors.js';
import type { ComputeFault } from './faults.js';
import { newId, operationName, timestamp } from './ids.js';
import { type ActionRecord, type OperationRecord, type Scope, TABLE_NAMES, type TableName } from './state.js';
import type { OperationResource } from './types.js';

export interface StartParams {
  scope: Scope;
  operationType: string;
  targetLink: string;
  targetId?: string;
  action: ActionRecord;
  /** An injected `operation` fault: the operation starts, then fails. */
  fault: ComputeFault | null;
  /** Runs while RUNNING; a rejection fails the operation (after the action's rollback). */
  work?: () => Promise<void>;
  /** Who asked (default: the lab's service account); GCE writes `system` for its own events. */
  user?: string;
}

function tableOf(action: ActionRecord): TableName {
  return action.type.slice(0, action.type.indexOf('.')) as TableName;
}

export class OperationEngine {
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly ctx: ServiceContext) {}

  private scopeFields(scope: Scope): { selfBase: string; zone?: string; region?: string } {
    const l = this.ctx.links;
    if (scope.kind === 'zone')
      return { selfBase: `${l.zonePath(scope.name)}/operations`, zone: l.url(l.zonePath(scope.name)) };
    if (scope.kind === 'region') {
      return { selfBase: `${l.regionPath(scope.name)}/operations`, region: l.url(l.regionPath(scope.name)) };
    }
    return { selfBase: `${l.globalPath()}/operations` };
  }

  /** Creates the operation, locks its target and runs it in the background. */
  start(p: StartParams): OperationResource {
    const ctx = this.ctx;
    const nowMs = ctx.now();
    const name = operationName(nowMs);
    const { selfBase, ...where } = this.scopeFields(p.scope);
    const op: OperationResource = {
      kind: 'compute#operation',
      id: newId(),
      name,
      operationType: p.operationType,
      targetLink: p.targetLink,
      ...(p.targetId ? { targetId: p.targetId } : {}),
      status: 'PENDING',
      user: p.user ?? `lab@${ctx.project}.iam.gserviceaccount.com`,
      progress: 0,
      insertTime: timestamp(nowMs),
      selfLink: ctx.links.url(`${selfBase}/${name}`),
      ...where,
    };
    const rec: OperationRecord = { op, scope: p.scope, action: p.action };
    ctx.state.operations.set(name, rec);
    const target = ctx.state.table(tableOf(p.action)).get(p.action.key);
    if (target) target.meta.busyOp = name;
    ctx.changed();
    // run() settles the operation itself; nothing may escape as an unhandled rejection.
    this.run(rec, p).catch(() => {});
    return structuredClone(op);
  }

  private async run(rec: OperationRecord, p: StartParams): Promise<void> {
    const ctx = this.ctx;
    const spec = ctx.actions.get(p.action.type);
    try {
      if (!spec) throw new Error(`no action spec for ${p.action.type}`);
      await ctx.sleep(ctx.timing.operationStepMs);
      rec.op.status = 'RUNNING';
      rec.op.startTime = timestamp(ctx.now());
      ctx.changed();
      if (p.fault) {
        await ctx.sleep(ctx.timing.operationStepMs);
        throw this.faultFailure(p.fault, rec);
      }
      if (p.work) await p.work();
      else await ctx.sleep(ctx.timing.operationStepMs);
      if (ctx.closed) return;
      spec.commit(ctx, p.action);
      this.finish(rec, null);
    } catch (err) {
      // A closed service leaves the operation as it is; the next start settles it.
      if (err instanceof ClosedError || ctx.closed) return;
      try {
        spec?.rollback(ctx, p.action);
      } catch {
        // Undo is best effort; the operation still has to end.
      }
      this.finish(
        rec,
        err instanceof OperationFailure
          ? err
          : new OperationFailure('INTERNAL_ERROR', err instanceof Error ? err.message : String(err), 500),
      );
    }
  }

  private faultFailure(f: ComputeFault, rec: OperationRecord): OperationFailure {
    if (typeof f.code === 'string') {
      const known = this.knownFailure(f.code, rec);
      return new OperationFailure(
        f.code,
        f.message ?? known?.message ?? `Injected failure (${f.code}).`,
        f.httpStatus ?? known?.httpStatus ?? 400,
      );
    }
    if (rec.action.type === 'instances.insert' && rec.scope.kind === 'zone') {
      return new OperationFailure(
        'ZONE_RESOURCE_POOL_EXHAUSTED',
        f.message ??
          `The zone '${this.ctx.links.zonePath(rec.scope.name)}' does not have enough resources available to fulfill the request.  Try a different zone, or try again later.`,
        f.httpStatus ?? 503,
      );
    }
    return new OperationFailure(
      'INTERNAL_ERROR',
      f.message ?? "Internal error. Please try again or contact Google Support. (Code: 'lab-injected-fault')",
      f.httpStatus ?? 500,
    );
  }

  /**
   * GCE's wording and status for the operation errors kube-ha tells apart:
   * RESOURCE_OPERATION_RATE_EXCEEDED as reported in googleapis/python-compute#279
   * (403 FORBIDDEN) and gcp-compute-persistent-disk-csi-driver#1847 ("Operation
   * rate exceeded for resource '...'. Too frequent operations from the source
   * resource."); QUOTA_EXCEEDED as gcloud prints it ("Quota 'CPUS' exceeded.
   * Limit: 24.0 in region ...").
   */
  private knownFailure(code: string, rec: OperationRecord): { message: string; httpStatus: number } | null {
    const target = rec.op.targetLink.replace(/^.*?\/projects\//, 'projects/');
    const region =
      rec.scope.kind === 'zone'
        ? rec.scope.name.replace(/-[a-z]$/, '')
        : rec.scope.kind === 'region'
          ? rec.scope.name
          : 'global';
    switch (code) {
      case 'RESOURCE_OPERATION_RATE_EXCEEDED':
        return {
          message: `Operation rate exceeded for resource '${target}'. Too frequent operations from the source resource.`,
          httpStatus: 403,
        };
      case 'QUOTA_EXCEEDED':
        return { message: `Quota 'CPUS' exceeded.  Limit: 24.0 in region ${region}.`, httpStatus: 403 };
      case 'ZONE_RESOURCE_POOL_EXHAUSTED':
      case 'ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS':
        return {
          message: `The zone '${rec.scope.kind === 'zone' ? this.ctx.links.zonePath(rec.scope.name) : region}' does not have enough resources available to fulfill the request.  Try a different zone, or try again later.`,
          httpStatus: 503,
        };
      default:
        return null;
    }
  }

  private finish(rec: OperationRecord, failure: OperationFailure | null): void {
    const ctx = this.ctx;
    const op = rec.op;
    op.status = 'DONE';
    op.progress = 100;
    op.startTime ??= timestamp(ctx.now());
    op.endTime = timestamp(ctx.now());
    if (failure) {
      op.error = { errors: [{ code: failure.code, message: failure.message }] };
      op.httpErrorStatusCode = failure.httpStatus;
      op.httpErrorMessage = httpStatusText(failure.httpStatus);
    }
    const target = ctx.state.table(tableOf(rec.action)).get(rec.action.key);
    if (target?.meta.busyOp === op.name) delete target.meta.busyOp;
    ctx.changed();
    const ws = this.waiters.get(op.name);
    this.waiters.delete(op.name);
    for (const w of ws ?? []) w();
  }

  get(name: string): OperationRecord | undefined {
    return this.ctx.state.operations.get(name);
  }

  /** Resolves when the operation is DONE, after `maxMs`, on abort, or on close. */
  wait(name: string, maxMs: number, signal: AbortSignal): Promise<void> {
    const rec = this.get(name);
    if (!rec || rec.op.status === 'DONE' || this.ctx.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const set = this.waiters.get(name) ?? new Set<() => void>();
      this.waiters.set(name, set);
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      signal.addEventListener('abort', done);
      set.add(done);
    });
  }

  /** Releases every waiter (service closing). */
  releaseWaiters(): void {
    for (const set of this.waiters.values()) for (const w of [...set]) w();
    this.waiters.clear();
  }

  /**
   * Settles operations a previous process left running: creations are undone
   * and fail, deletions and changes complete, as each action's `onRestart`
   * says. Hooks are not called: the VMs went with the process.
   */
  recover(): void {
    const ctx = this.ctx;
    let touched = false;
    for (const rec of ctx.state.operations.values()) {
      if (rec.op.status === 'DONE') continue;
      touched = true;
      const spec = ctx.actions.get(rec.action.type);
      const commit = spec?.onRestart === 'commit';
      try {
        if (commit) spec.commit(ctx, rec.action);
        else spec?.rollback(ctx, rec.action);
      } catch {
        // Best effort, as in run(): the operation must still end.
      }
      this.finish(
        rec,
        commit
          ? null
          : new OperationFailure(
              'INTERNAL_ERROR',
              'The operation was interrupted by a restart of the Compute server and was rolled back.',
              500,
            ),
      );
    }
    // Locks whose operation is gone or finished would block the resource forever.
    for (const t of TABLE_NAMES) {
      for (const [, e] of ctx.state.table(t).entries()) {
        const owner = e.meta.busyOp ? ctx.state.operations.get(e.meta.busyOp) : undefined;
        if (e.meta.busyOp && (!owner || owner.op.status === 'DONE')) {
          delete e.meta.busyOp;
          touched = true;
        }
      }
    }
    if (touched) ctx.changed();
  }
}
