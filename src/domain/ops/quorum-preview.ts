// Quorum and fault tolerance before -> after an operation, per etcd cluster,
// assuming the new replica ends healthy and the removed one is gone. Pure.
import { faultTolerance, quorumOf, survivesZoneLoss } from '../quorum.js';
import type { ClusterStatus, EtcdClusterName } from '../types.js';
import { ETCD_CLUSTERS } from '../types.js';
import type { Plan } from './plan.js';

export interface QuorumFigures {
  replicas: number;
  voters: number;
  healthyVoters: number;
  quorum: number;
  /** -1 when quorum is lost. */
  faultTolerance: number;
  /** Voters per zone. */
  zones: Record<string, number>;
  /** Losing the zone holding the most voters keeps a quorum. */
  survivesZoneLoss: boolean;
}

export type QuorumPreview = Record<EtcdClusterName, { before: QuorumFigures; after: QuorumFigures }>;

interface Seat {
  name: string;
  zone: string | null;
  voter: boolean;
  healthy: boolean;
}

function figures(seats: Seat[], replicas: number): QuorumFigures {
  const voters = seats.filter((s) => s.voter);
  const healthy = voters.filter((s) => s.healthy).length;
  const zones = new Map<string, number>();
  for (const v of voters) {
    const z = v.zone ?? '(unknown zone)';
    zones.set(z, (zones.get(z) ?? 0) + 1);
  }
  return {
    replicas,
    voters: voters.length,
    healthyVoters: healthy,
    quorum: quorumOf(voters.length),
    faultTolerance: faultTolerance(voters.length, healthy),
    zones: Object.fromEntries(zones),
    survivesZoneLoss: voters.length > 0 && survivesZoneLoss(zones).ok,
  };
}

function seatsOf(status: ClusterStatus, cluster: EtcdClusterName): Seat[] {
  return status.replicas
    .filter((r) => r.etcd[cluster] !== null)
    .map((r) => {
      const m = r.etcd[cluster]!;
      return { name: r.name, zone: r.zone, voter: !m.learner, healthy: m.healthy };
    });
}

export function quorumPreview(status: ClusterStatus, plan: Plan): QuorumPreview {
  const out = {} as QuorumPreview;
  for (const cluster of ETCD_CLUSTERS) {
    const before = seatsOf(status, cluster);
    let after = before.filter((s) => s.name !== plan.remove?.name);
    // A reset or start: the same members, the replica's back and healthy.
    const back = plan.remedy?.replica;
    if (back) after = after.map((s) => (s.name === back ? { ...s, healthy: true } : s));
    if (plan.add)
      after = [...after, { name: plan.add.name, zone: plan.add.zone, voter: true, healthy: true }];
    out[cluster] = {
      before: figures(before, plan.replicasBefore.length),
      after: figures(after, plan.replicasAfter.length),
    };
  }
  return out;
}

/**
 * `voters 3 → 4 · quorum 2 → 3 · tolerates 1 → 1 failure`; a side without
 * quorum says so instead of a count (`tolerates 1 failure → QUORUM LOST`).
 */
export function describePreview(p: QuorumPreview, cluster: EtcdClusterName = 'main'): string {
  const { before: a, after: b } = p[cluster];
  return `etcd ${cluster}: voters ${a.voters} → ${b.voters} · healthy ${a.healthyVoters} → ${b.healthyVoters} · quorum ${a.quorum} → ${b.quorum} · ${toleranceChange(a.faultTolerance, b.faultTolerance)}`;
}

function toleranceChange(before: number, after: number): string {
  const failures = (n: number) => `${n} failure${n === 1 ? '' : 's'}`;
  if (before >= 0 && after >= 0) return `tolerates ${before} → ${failures(after)}`;
  const side = (n: number) => (n < 0 ? 'QUORUM LOST' : `tolerates ${failures(n)}`);
  return `${side(before)} → ${side(after)}`;
}
