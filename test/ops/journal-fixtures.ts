// Journals for the journal, store, executor and CLI tests: plans built from
// the shared healthy-cluster fixtures, steps marked as a run left them.
import { type Journal, newJournal, type StepStatus, updateStep } from '../../src/domain/ops/journal.js';
import { buildPlan } from '../../src/domain/ops/plan.js';
import type { OpRequest } from '../../src/domain/ops/request.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { ctx, hostnameStyle } from './fixtures.js';

export const HOLDER = { user: 'bob', host: 'laptop', pid: 1, tool: 'kube-ha add' };
export const ADD: OpRequest = { kind: 'add', zone: 'us-central1-f', name: null };

export function journalFor(
  r: OpRequest = ADD,
  s: ClusterStatus = hostnameStyle(3),
  operationId = 'op-test',
): Journal {
  const b = buildPlan(s, r, ctx({ operationId }));
  if (!b.ok) throw new Error(b.reason);
  return newJournal(b.plan, HOLDER, new Date(0));
}

/** Marks the steps before `id` done and `id` itself `last`. */
export function runTo(j: Journal, id: string, last: StepStatus = 'done'): Journal {
  let out = j;
  for (const s of j.plan.steps) {
    if (s.id === id) return updateStep(out, s.id, { status: last });
    out = updateStep(out, s.id, { status: 'done' });
  }
  throw new Error(`no step ${id}`);
}
