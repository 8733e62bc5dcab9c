// One runner per step kind: `run` does the step, `undo` reverses it, `absent`
// checks after a failure that nothing changed. Every runner first looks at
// what exists (a resumed run repeats a step that may have half happened), and
// every etcd change goes to a member that answered just now.
// One file per resource; this table puts them together, one runner per kind.

import type { PlanStep, StepKind } from '../../domain/ops/plan.js';
import { ADDRESS_RUNNERS } from './address.js';
import type { Runner } from './context.js';
import { DEFRAG_RUNNERS } from './defrag.js';
import { DISK_RUNNERS } from './disk.js';
import { ETCD_MEMBER_RUNNERS } from './etcd-members.js';
import { INSTANCE_RUNNERS } from './instance.js';
import { LOAD_BALANCER_RUNNERS } from './load-balancer.js';
import { REMEDY_RUNNERS } from './remedy.js';
import { SNAPSHOT_RUNNERS } from './snapshot.js';
import { STATIC_IP_RUNNERS } from './static-ip.js';
import { VERIFY_RUNNERS } from './verify.js';

export {
  CancelledError,
  DEFAULT_TIMING,
  type RunContext,
  type RunOutcome,
  type Timing,
} from './context.js';
export { verifyProblems } from './verify.js';

const RUNNERS: { [K in StepKind]: Runner<K> } = {
  ...SNAPSHOT_RUNNERS,
  ...LOAD_BALANCER_RUNNERS,
  ...STATIC_IP_RUNNERS,
  ...ADDRESS_RUNNERS,
  ...DISK_RUNNERS,
  ...ETCD_MEMBER_RUNNERS,
  ...INSTANCE_RUNNERS,
  ...VERIFY_RUNNERS,
  ...REMEDY_RUNNERS,
  ...DEFRAG_RUNNERS,
};

export function runnerFor(step: PlanStep): Runner<StepKind> {
  return RUNNERS[step.kind] as unknown as Runner<StepKind>;
}
