// One etcd cluster in memory for the executor's unit tests: members, learners
// added, promoted and removed, leadership moved. A member answers (has a
// status) only while the VM its peer URL names runs in the fake Compute: a
// learner starts with its VM, a member whose VM is deleted goes silent. Any
// change can fail at its n-th call, before or after it applies.
import type { ClusterStatus, EtcdClusterName } from '../../src/domain/types.js';
import {
  EtcdOps,
  type LiveMember,
  type LiveStatus,
  type RunnerEtcd,
  type Snapshot,
} from '../../src/ops/etcd-ops.js';
import type { SavedSnapshot } from '../../src/ops/etcd-snapshot.js';
import type { FakeCompute, Fault } from './fake-compute.js';

export type EtcdChange = 'addLearner' | 'promote' | 'remove' | 'moveLeader';

/** The instance a peer URL names (kube-up's peers by hostname). */
export const hostOf = (peerURL: string): string => new URL(peerURL).hostname;

export class FakeEtcd implements RunnerEtcd {
  members: LiveMember[] = [];
  leader: string | null = null;
  /** Learners that never catch up (their applied index stays 0). */
  stuck = false;
  faults: Fault<EtcdChange>[] = [];
  calls: string[] = [];
  private counts = new Map<string, number>();
  private next = 0;
  onChange: ((method: EtcdChange, id: string) => void) | null = null;

  constructor(
    readonly cluster: EtcdClusterName,
    private readonly compute: FakeCompute,
  ) {}

  static fromStatus(cluster: EtcdClusterName, st: ClusterStatus, compute: FakeCompute): FakeEtcd {
    const e = new FakeEtcd(cluster, compute);
    for (const r of st.replicas) {
      const m = r.etcd[cluster];
      if (!m) continue;
      e.members.push({
        id: m.memberId,
        name: m.name,
        peerURLs: [...m.peerURLs],
        clientURLs: [...m.clientURLs],
        isLearner: m.learner,
      });
      if (m.leader) e.leader = m.memberId;
    }
    return e;
  }

  /** Members as plain sorted data: what a test compares before and after. */
  membership(): { peerURL: string; learner: boolean }[] {
    return this.members
      .map((m) => ({ peerURL: m.peerURLs[0] ?? '', learner: m.isLearner }))
      .sort((a, b) => a.peerURL.localeCompare(b.peerURL));
  }

  /** The member whose peer URL names `instance`. */
  memberOf(instance: string): LiveMember | null {
    return this.members.find((m) => m.peerURLs.some((u) => hostOf(u) === instance)) ?? null;
  }

  private running(m: LiveMember): boolean {
    return m.peerURLs.some((u) => {
      const i = this.compute.instance(hostOf(u));
      return i?.status === 'RUNNING' && !i.hung;
    });
  }

  learnHost(): void {}

  /** No file: the executor's unit tests run without a snapshot dir (the step is skipped). */
  async saveSnapshot(path: string): Promise<SavedSnapshot> {
    return { path, bytes: 0, revision: '1', sha256: '' };
  }

  async snapshot(): Promise<Snapshot> {
    const up = this.members.filter((m) => this.running(m));
    const voters = up.filter((m) => !m.isLearner);
    // A leader needs a majority of the voters answering.
    const allVoters = this.members.filter((m) => !m.isLearner).length;
    if (!this.leader || !voters.some((m) => m.id === this.leader))
      this.leader = voters.length > allVoters / 2 ? (voters[0]?.id ?? null) : null;
    const statuses = new Map<string, LiveStatus>();
    for (const m of up) {
      const host = hostOf(m.peerURLs[0] ?? 'https://x');
      statuses.set(m.id, {
        endpoint: `https://${this.compute.instance(host)?.networkIP}:2379`,
        memberId: m.id,
        leaderId: this.leader ?? '0',
        raftIndex: 100,
        appliedIndex: m.isLearner && this.stuck ? 0 : 100,
        isLearner: m.isLearner,
      });
    }
    const members = this.members.map((m) => ({
      ...m,
      name: this.running(m) ? m.name || `etcd-${hostOf(m.peerURLs[0] ?? 'https://x')}` : m.name,
    }));
    return { members, statuses, leader: this.leader };
  }

  find(snap: Snapshot, by: { id?: string | null; peerURLs?: string[] }): LiveMember | null {
    return EtcdOps.prototype.find.call(this, snap, by);
  }

  pickHealthy(snap: Snapshot, exclude?: (m: LiveMember) => boolean) {
    return EtcdOps.prototype.pickHealthy.call(this, snap, exclude);
  }

  private async change<T>(method: EtcdChange, what: string, apply: () => T): Promise<T> {
    this.calls.push(`${this.cluster} ${method} ${what}`);
    const n = (this.counts.get(method) ?? 0) + 1;
    this.counts.set(method, n);
    const fault = this.faults.find((f) => f.method === method && (f.call ?? 1) === n);
    if (fault?.when === 'before')
      throw new Error(`etcd ${this.cluster} ${method} ${what}: injected failure (before the change)`);
    this.onChange?.(method, what);
    const r = apply();
    if (fault?.when === 'after')
      throw new Error(`etcd ${this.cluster} ${method} ${what}: injected failure (after the change)`);
    return r;
  }

  addLearner(peerURL: string): Promise<LiveMember> {
    return this.change('addLearner', peerURL, () => {
      const m: LiveMember = {
        id: `${this.cluster[0]}f${this.next++}`,
        name: '',
        peerURLs: [peerURL],
        clientURLs: [],
        isLearner: true,
      };
      this.members.push(m);
      return { ...m };
    });
  }

  promote(id: string): Promise<void> {
    return this.change('promote', id, () => {
      const m = this.members.find((x) => x.id === id);
      if (!m) throw new Error(`etcd ${this.cluster} member promote ${id}: member not found`);
      m.isLearner = false;
    });
  }

  remove(id: string): Promise<void> {
    return this.change('remove', id, () => {
      if (!this.members.some((x) => x.id === id))
        throw new Error(`etcd ${this.cluster} member remove ${id}: member not found`);
      this.members = this.members.filter((x) => x.id !== id);
      if (this.leader === id) this.leader = null;
    });
  }

  moveLeader(targetId: string): Promise<void> {
    return this.change('moveLeader', targetId, () => {
      this.leader = targetId;
    });
  }
}
