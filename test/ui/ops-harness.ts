// A fake OpsBackend for the operator-flow screens: plans with the real pure
// planner on a fixture status, records what the console asked for, and lets a
// test drive an operation's events and outcome by hand.
import { newJournal } from '../../src/domain/ops/journal.js';
import { type PlannedOperation, planOperation } from '../../src/domain/ops/operation.js';
import type { Plan } from '../../src/domain/ops/plan.js';
import type { OpRequest } from '../../src/domain/ops/request.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import type { ExecOptions, OpResult } from '../../src/ops/index.js';
import type { OpsBackend } from '../../src/ui/ops/index.js';
import { ctx, REGION_ZONES, status } from '../ops/fixtures.js';

export interface Execution {
  kind: 'execute' | 'resume' | 'rollback';
  plan: Plan;
  opts: ExecOptions;
  finish(result: Partial<OpResult>): void;
}

export interface FakeBackend extends OpsBackend {
  requests: OpRequest[];
  executions: Execution[];
  opened: number;
  closed: number;
}

export const clusterStatus = (): ClusterStatus => status(3);

export function fakeBackend(s: ClusterStatus = clusterStatus()): FakeBackend {
  const fake: FakeBackend = {
    requests: [],
    executions: [],
    opened: 0,
    closed: 0,
    zones: async () => REGION_ZONES,
    plan: async (request): Promise<PlannedOperation> => {
      fake.requests.push(request);
      return planOperation(s, request, ctx());
    },
    execute: (plan, opts) => run('execute', plan, opts),
    resume: (journal, opts) => run('resume', journal.plan, opts),
    rollback: (journal, opts) => run('rollback', journal.plan, opts),
    close: async () => {
      fake.closed++;
    },
  };
  function run(kind: Execution['kind'], plan: Plan, opts: ExecOptions): Promise<OpResult> {
    return new Promise((resolve) => {
      fake.executions.push({
        kind,
        plan,
        opts,
        finish: (r) =>
          resolve({
            outcome: 'done',
            operationId: plan.operationId,
            summary: plan.summary,
            exitCode: 0,
            reasons: [],
            cancelled: false,
            elapsedMs: 1234,
            timings: [],
            leftovers: [],
            journal: null,
            ...r,
          }),
      });
    });
  }
  return fake;
}

/** A journal of an add that stopped after its first two steps. */
export function unfinishedAdd(s: ClusterStatus = clusterStatus()) {
  const planned = planOperation(s, { kind: 'add', zone: 'us-central1-f', name: null }, ctx());
  const j = newJournal(
    planned.plan!,
    { user: 'ops', host: 'bastion', pid: 1, tool: 'kube-ha add' },
    new Date(0),
  );
  return {
    ...j,
    state: 'failed' as const,
    error: 'killed',
    steps: j.steps.map((r, i) => (i < 2 ? { ...r, status: 'done' as const } : r)),
  };
}
