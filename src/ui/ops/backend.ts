// What the console's operator flows need from src/ops, as one small interface:
// the real one wraps an OpsSession (opened lazily on the first action), the UI
// tests pass a fake. The UI never talks to Compute or etcd itself.
import type { Journal } from '../../domain/ops/journal.js';
import type { PlannedOperation } from '../../domain/ops/operation.js';
import type { Plan } from '../../domain/ops/plan.js';
import type { OpRequest } from '../../domain/ops/request.js';
import type { ExecOptions, OpResult, OpsSession } from '../../ops/index.js';

export interface OpsBackend {
  /** The region's zones as Compute lists them; null when not known. */
  zones(): Promise<string[] | null>;
  plan(request: OpRequest): Promise<PlannedOperation>;
  execute(plan: Plan, opts: ExecOptions): Promise<OpResult>;
  resume(journal: Journal, opts: ExecOptions): Promise<OpResult>;
  rollback(journal: Journal, opts: ExecOptions): Promise<OpResult>;
  close(): Promise<void>;
}

/** The real backend: the same session and executor as `kube-ha add|remove|replace`. */
export async function sessionBackend(session: OpsSession): Promise<OpsBackend> {
  const { executePlan, resumeOperation, rollbackOperation } = await import('../../ops/index.js');
  return {
    zones: () => session.deps.zonesInRegion().catch(() => null),
    plan: async (request) => (await session.plan(request)).planned,
    execute: (plan, opts) => executePlan(plan, session.deps, opts),
    resume: (journal, opts) => resumeOperation(journal, session.deps, opts),
    rollback: (journal, opts) => rollbackOperation(journal, session.deps, opts),
    close: () => session.close(),
  };
}
