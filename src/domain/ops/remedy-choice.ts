// The rung of the remediation ladder a sick replica is offered first (the
// console's R): start for a VM GCE stopped, reset for a RUNNING one whose
// members are unhealthy; replace only after those, or when neither applies. Pure.
import type { ReplicaView } from '../types.js';
import type { RemedyKind } from './request.js';
import { unhealthyReasons } from './resolve.js';

export interface RemedyChoice {
  kind: RemedyKind;
  /** Why this rung, in words: `its VM is TERMINATED`. */
  why: string;
}

export function lighterRemedy(r: ReplicaView): RemedyChoice | null {
  const s = r.vm.status;
  if (s === 'TERMINATED' || s === 'STOPPED') return { kind: 'start', why: `its VM is ${s}` };
  if (s !== 'RUNNING') return null;
  const reasons = unhealthyReasons(r);
  return reasons.length ? { kind: 'reset', why: `its VM is RUNNING but ${reasons.join('; ')}` } : null;
}
