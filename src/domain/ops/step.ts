// A plan step: what kind it is (one runner per kind in src/ops), its
// arguments, and its words for the plan, the call log and a hand finish. The
// factories fill the defaults most steps share (nothing to undo, reversible,
// not a checkpoint) and build the steps several plans hold alike.
import type { EtcdClusterName } from '../types.js';
import { etcdctlVia } from './manual.js';

export interface Located {
  name: string;
  zone: string;
}

export interface PeerURLTemplate {
  scheme: 'http' | 'https';
  port: number;
}

/** Each kind is one runner in src/ops; args carry everything it needs, no lookups by guess. */
export type StepSpec =
  /**
   * No plan has it any more (the target pool has no health check, as kube-up's):
   * kept so that an operation journalled with it can still be resumed or rolled back.
   */
  | { kind: 'lb.create-health-check'; args: { name: string; port: number; path: string } }
  /** A copy of etcd main before anything changes (events hold nothing that outlives an hour). */
  | { kind: 'etcd.snapshot'; args: { cluster: EtcdClusterName } }
  /** kube-ha defrag (plan-defrag.ts): compaction, one member's defragmentation, the alarms' disarm, the check. */
  | { kind: 'etcd.compact'; args: { cluster: EtcdClusterName } }
  | { kind: 'etcd.defrag'; args: { cluster: EtcdClusterName; replica: string; memberId: string } }
  | { kind: 'etcd.disarm'; args: { cluster: EtcdClusterName } }
  | { kind: 'etcd.verify-space'; args: { cluster: EtcdClusterName; replicas: string[] } }
  | {
      kind: 'lb.create-target-pool';
      /** healthCheck: null in every new plan; a name only in operations journalled before. */
      args: { name: string; region: string; healthCheck: string | null; instances: Located[] };
    }
  | { kind: 'lb.detach-static-ip'; args: { replica: Located; address: string; region: string } }
  | {
      kind: 'lb.create-forwarding-rule';
      args: { name: string; region: string; address: string; pool: string };
    }
  | { kind: 'lb.wait-ready'; args: { forwardingRule: string; region: string; pool: string } }
  | { kind: 'address.reserve-internal'; args: { name: string; region: string; replica: string } }
  | { kind: 'disk.create'; args: { name: string; zone: string; like: Located } }
  | {
      kind: 'etcd.add-learner';
      args: { cluster: EtcdClusterName; replica: string; peer: PeerURLTemplate; host: string | null };
    }
  | {
      kind: 'instance.insert';
      args: {
        name: string;
        zone: string;
        source: Located;
        initialCluster: string[];
        internalAddress: string | null;
      };
    }
  | { kind: 'etcd.wait-caught-up'; args: { cluster: EtcdClusterName; replica: string } }
  | { kind: 'etcd.promote'; args: { cluster: EtcdClusterName; replica: string } }
  | { kind: 'apiserver.wait-healthy'; args: { replica: string } }
  | { kind: 'lb.add-instance'; args: { pool: string; region: string; replica: Located } }
  | { kind: 'etcd.move-leader'; args: { cluster: EtcdClusterName; replica: string; memberId: string } }
  | { kind: 'lb.remove-instance'; args: { pool: string; region: string; replica: Located } }
  | {
      kind: 'etcd.remove-member';
      args: { cluster: EtcdClusterName; replica: string; memberId: string; peerURLs: string[] };
    }
  | { kind: 'instance.delete'; args: { name: string; zone: string } }
  | { kind: 'disk.delete'; args: { name: string; zone: string } }
  | { kind: 'address.delete'; args: { name: string; region: string } }
  | { kind: 'lb.delete-forwarding-rule'; args: { name: string; region: string } }
  | { kind: 'lb.attach-static-ip'; args: { replica: Located; address: string; region: string } }
  | { kind: 'lb.delete-target-pool'; args: { name: string; region: string } }
  | { kind: 'lb.delete-health-check'; args: { name: string } }
  | { kind: 'verify'; args: { replicas: string[]; loadBalancer: boolean; pool: string | null } }
  /** reset / start (plan-remedy.ts): the VM's lifecycle call, waited for until RUNNING. */
  | { kind: 'instance.reset'; args: { name: string; zone: string; force: boolean } }
  | { kind: 'instance.start'; args: { name: string; zone: string } }
  /** The same member (by ID) answering again; `answers` where its cluster cannot have quorum yet. */
  | {
      kind: 'etcd.wait-member-healthy';
      args: { cluster: EtcdClusterName; replica: string; memberId: string; until: 'healthy' | 'answers' };
    };

export type StepKind = StepSpec['kind'];

export interface StepCommon {
  /** Unique in the plan, stable across a resume: `add.learner.main`. */
  id: string;
  title: string;
  /** What it changes, in words. */
  changes: string;
  /** How it is undone, in words; null when there is nothing to undo. */
  undo: string | null;
  /** The same step by hand (gcloud / etcdctl), for the call log and for finishing by hand. */
  manual: string;
  manualUndo: string | null;
  /**
   * false = a point of no return (an etcd member removed cannot be put back):
   * once it has run, a rollback first finishes forward to the next checkpoint.
   */
  reversible: boolean;
  /** The cluster is consistent after this step (end of a remove within a replace). */
  checkpoint: boolean;
}

export type PlanStep = StepCommon & StepSpec;

type ArgsOf<K extends StepKind> = Extract<StepSpec, { kind: K }>['args'];

/** A step's words; what is left out defaults to: nothing to undo, reversible, not a checkpoint. */
export interface StepWords {
  title: string;
  changes: string;
  manual: string;
  undo?: string | null;
  manualUndo?: string | null;
  reversible?: boolean;
  checkpoint?: boolean;
}

export function step<K extends StepKind>(id: string, kind: K, args: ArgsOf<K>, w: StepWords): PlanStep {
  // TypeScript cannot see that kind K with ArgsOf<K> is one member of the StepSpec union.
  return {
    id,
    kind,
    args,
    title: w.title,
    changes: w.changes,
    undo: w.undo ?? null,
    manual: w.manual,
    manualUndo: w.manualUndo ?? null,
    reversible: w.reversible ?? true,
    checkpoint: w.checkpoint ?? false,
  } as PlanStep;
}

/**
 * First, a copy of etcd main: a membership change that goes wrong can cost
 * the data, and etcd's maintainers steer recovery to a snapshot restore. The
 * events cluster holds events with a one-hour TTL: not worth the wait.
 */
export function snapshotStep(master: string, note = ''): PlanStep {
  return step(
    'snapshot.main',
    'etcd.snapshot',
    { cluster: 'main' },
    {
      title: 'Save a snapshot of etcd main',
      changes: `nothing in the cluster: etcd main's data, from a healthy member (a follower when there is one), saved in the state dir and checked against its SHA-256${note}`,
      manual: `${etcdctlVia('main')} snapshot save kube-ha-${master}-main.db`,
    },
  );
}

export function apiserverStep(id: string, replica: string): PlanStep {
  return step(
    id,
    'apiserver.wait-healthy',
    { replica },
    {
      title: `Wait for ${replica}'s apiserver to be healthy`,
      changes: 'nothing (skipped with a note where no apiserver health endpoint exists)',
      manual: `curl -k https://<${replica} IP>/healthz`,
    },
  );
}

/** The whole-cluster check; pool: the target pool every replica must be in, null without a load balancer. */
export function verifyStep(replicas: string[], pool: string | null): PlanStep {
  const lb = pool !== null;
  return step(
    'verify',
    'verify',
    { replicas, loadBalancer: lb, pool },
    {
      title: 'Verify the result',
      changes: `nothing (checks: ${replicas.length} healthy voters in main and events, ${lb ? 'every replica in the target pool' : 'no load balancer, the static IP on the replica'})`,
      manual: 'kube-ha status',
    },
  );
}

/** The cluster is consistent once the last step so far has run. */
export function markCheckpoint(steps: PlanStep[]): void {
  const last = steps[steps.length - 1];
  if (last) last.checkpoint = true;
}
