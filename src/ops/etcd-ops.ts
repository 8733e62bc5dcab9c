// etcd membership changes for one cluster (main or events), as the runners
// make them: always sent to a member that answered just now (the leader when
// it can), matched by ID or peer URL (never by name: a member that never
// started has none), every call deadline-bound and logged.
import type { Etcd3 } from 'etcd3';
import {
  type ClientPortStyle,
  clientStyleOf,
  endpointAt,
  memberEndpoints,
} from '../domain/member-endpoints.js';
import type { EtcdClusterName, EtcdMember } from '../domain/types.js';
import { errorMessage, memberIdHex, toEtcdMember } from '../sources/etcd-client.js';
import { MemberClients } from '../sources/member-clients.js';
import type { EtcdTarget } from '../sources/target.js';
import { type SavedSnapshot, saveSnapshot } from './etcd-snapshot.js';

/** A member as the member list returns it (ID in lower-case hex, as etcdctl shows it). */
export type LiveMember = EtcdMember;

export interface LiveStatus {
  endpoint: string;
  memberId: string;
  leaderId: string;
  raftIndex: number;
  appliedIndex: number;
  isLearner: boolean;
}

export interface Snapshot {
  members: LiveMember[];
  /** By member ID (hex); members whose endpoint did not answer are absent. */
  statuses: Map<string, LiveStatus>;
  leader: string | null;
}

const decimal = (hex: string) => BigInt(`0x${hex}`).toString();

/** Peer URLs compare by scheme, host and port (etcd normalises a trailing slash away). */
export function samePeerURL(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.protocol === y.protocol && x.hostname === y.hostname && x.port === y.port;
  } catch {
    return a === b;
  }
}

/**
 * The etcd calls the step runners make: EtcdOps against real members, a model
 * in memory in the executor's unit tests (test/ops/fake-etcd.ts).
 */
export type RunnerEtcd = Pick<
  EtcdOps,
  | 'cluster'
  | 'snapshot'
  | 'find'
  | 'pickHealthy'
  | 'addLearner'
  | 'promote'
  | 'remove'
  | 'moveLeader'
  | 'learnHost'
  | 'saveSnapshot'
>;

export class EtcdOps {
  private readonly clients: MemberClients;
  private readonly known: Set<string>;
  private readonly seeds: ReadonlySet<string>;
  private readonly style: ClientPortStyle;
  /** Instance name -> internal IP: where a member no seed answers for is reached. */
  private readonly hosts = new Map<string, string>();

  constructor(
    readonly cluster: EtcdClusterName,
    target: EtcdTarget,
    timeoutMs: number,
    private readonly log: (line: string) => void,
  ) {
    this.known = new Set(target.endpoints);
    this.seeds = new Set(target.endpoints);
    this.clients = new MemberClients({ tls: target.tls, timeoutMs });
    this.style = clientStyleOf(target.endpoints, cluster);
  }

  /**
   * A VM's address: its member (peer URL by instance name) is asked there.
   * With no seeds given (a bastion: endpoints derived from the VMs), the VM's
   * client endpoint also becomes one to ask for the member list.
   */
  learnHost(name: string, ip: string): void {
    this.hosts.set(name, ip);
    if (this.seeds.size === 0) this.known.add(endpointAt(ip, this.style));
  }

  /** Seeds and every member endpoint that answered since. */
  endpoints(): string[] {
    return [...this.known];
  }

  client(endpoint: string): Promise<Etcd3> {
    return this.clients.get(endpoint);
  }

  private etcdctl(args: string, via: string): string {
    return `etcd ${this.cluster} ${args} (via ${via})`;
  }

  /** The member list from the first endpoint that answers (every known endpoint is tried at once). */
  async members(quiet = false): Promise<LiveMember[]> {
    const endpoints = [...this.known];
    const attempts = endpoints.map(async (e) => {
      const res = await (await this.client(e)).cluster.memberList({ linearizable: true });
      return { e, members: res.members };
    });
    try {
      const { e, members } = await Promise.any(attempts);
      const out = members.map(toEtcdMember);
      if (!quiet) this.log(this.etcdctl(`member list → ${out.length} members`, e));
      return out;
    } catch (err) {
      const first = err instanceof AggregateError ? err.errors[0] : err;
      const msg = `no etcd ${this.cluster} endpoint answered the member list (${endpoints.join(', ')}): ${errorMessage(first)}`;
      this.log(`etcd ${this.cluster} member list → ${msg}`);
      throw new Error(msg);
    }
  }

  async status(endpoint: string): Promise<LiveStatus | null> {
    try {
      const s = await (await this.client(endpoint)).maintenance.status();
      return {
        endpoint,
        memberId: memberIdHex(s.header.member_id),
        leaderId: memberIdHex(s.leader),
        raftIndex: Number(s.raftIndex),
        appliedIndex: Number(s.raftAppliedIndex ?? s.raftIndex),
        isLearner: Boolean(s.isLearner),
      };
    } catch {
      // Asked afresh next time (a new VM may answer on a reused address).
      this.clients.forget(endpoint);
      return null;
    }
  }

  /**
   * Members and the status of each, in parallel: the known endpoints first
   * (their answers say which member each is), then each member none answered
   * for at its VM's address. Never at an advertised client URL (127.0.0.1 on kube-up's).
   */
  async snapshot(quiet = false): Promise<Snapshot> {
    const known = [...this.known];
    const [members, seedStatuses] = await Promise.all([
      this.members(quiet),
      Promise.all(known.map((e) => this.status(e))),
    ]);
    const statuses = new Map<string, LiveStatus>();
    const answers = new Map<string, string | null>(
      known.map((e, i) => [e, seedStatuses[i]?.memberId ?? null]),
    );
    const keep = (m: LiveMember, s: LiveStatus | null) => {
      if (s && s.memberId === m.id && s.leaderId !== '0') statuses.set(m.id, s);
    };
    for (const s of seedStatuses) {
      const m = s ? members.find((x) => x.id === s.memberId) : undefined;
      if (m) keep(m, s);
    }
    // An address learned for a member that left (or stopped answering) is not asked again.
    for (const [e, id] of answers)
      if (!this.seeds.has(e) && !members.some((m) => m.id === id)) this.known.delete(e);
    const endpoints = memberEndpoints(members, answers, this.style, this.hosts);
    await Promise.all(
      members
        // A member that never started (no name yet) has nothing to ask.
        .filter((m) => m.name && !statuses.has(m.id) && !answers.has(endpoints.get(m.id) ?? ''))
        .map(async (m) => {
          const ep = endpoints.get(m.id);
          if (!ep) return;
          const s = await this.status(ep);
          keep(m, s);
          // A member's address that answered joins the endpoints asked next time.
          if (s?.memberId === m.id) this.known.add(ep);
        }),
    );
    const leaders = [...statuses.values()].map((s) => s.leaderId);
    const leader = leaders.find((l) => statuses.has(l)) ?? null;
    return { members, statuses, leader };
  }

  /** A snapshot of this cluster from the member at `endpoint`, verified, into `path` (see etcd-snapshot.ts). */
  async saveSnapshot(
    path: string,
    endpoint: string,
    o: { deadlineMs: number; idleMs: number; signal?: AbortSignal | undefined },
  ): Promise<SavedSnapshot> {
    const started = Date.now();
    try {
      const saved = await saveSnapshot(await this.client(endpoint), path, o);
      this.log(
        this.etcdctl(
          `snapshot save ${path} → ${saved.bytes} bytes, revision ${saved.revision}, sha256 ok (${((Date.now() - started) / 1000).toFixed(1)} s)`,
          endpoint,
        ),
      );
      return saved;
    } catch (err) {
      this.log(this.etcdctl(`snapshot save ${path} → ${errorMessage(err)}`, endpoint));
      throw err;
    }
  }

  /** An endpoint of a member healthy now, not excluded: the leader when it qualifies. */
  pickHealthy(
    snap: Snapshot,
    exclude: (m: LiveMember) => boolean = () => false,
  ): { endpoint: string; member: LiveMember } {
    const healthy = snap.members.filter((m) => snap.statuses.has(m.id) && !m.isLearner && !exclude(m));
    const chosen = healthy.find((m) => m.id === snap.leader) ?? healthy[0];
    const endpoint = chosen ? snap.statuses.get(chosen.id)?.endpoint : undefined;
    if (!chosen || !endpoint) throw new Error(`no healthy etcd ${this.cluster} voter to send the change to`);
    return { endpoint, member: chosen };
  }

  find(snap: Snapshot, by: { id?: string | null; peerURLs?: string[] }): LiveMember | null {
    if (by.id) {
      const m = snap.members.find((x) => x.id === by.id);
      if (m) return m;
    }
    const urls = by.peerURLs ?? [];
    return snap.members.find((m) => m.peerURLs.some((p) => urls.some((u) => samePeerURL(p, u)))) ?? null;
  }

  async addLearner(peerURL: string, via: string): Promise<LiveMember> {
    const started = Date.now();
    try {
      const res = await (await this.client(via)).cluster.memberAdd({ peerURLs: [peerURL], isLearner: true });
      const m = res.member;
      const out: LiveMember = {
        id: memberIdHex(m.ID),
        name: m.name,
        peerURLs: m.peerURLs ?? [peerURL],
        clientURLs: m.clientURLs ?? [],
        isLearner: Boolean(m.isLearner),
      };
      this.log(
        this.etcdctl(
          `member add --peer-urls=${peerURL} --learner → ${out.id} (${Date.now() - started} ms)`,
          via,
        ),
      );
      return out;
    } catch (err) {
      this.log(this.etcdctl(`member add --peer-urls=${peerURL} --learner → ${errorMessage(err)}`, via));
      throw new Error(`etcd ${this.cluster} member add ${peerURL}: ${errorMessage(err)}`);
    }
  }

  async promote(id: string, via: string): Promise<void> {
    try {
      await (await this.client(via)).cluster.memberPromote({ ID: decimal(id) });
      this.log(this.etcdctl(`member promote ${id} → ok`, via));
    } catch (err) {
      this.log(this.etcdctl(`member promote ${id} → ${errorMessage(err)}`, via));
      throw new Error(`etcd ${this.cluster} member promote ${id}: ${errorMessage(err)}`);
    }
  }

  async remove(id: string, via: string): Promise<void> {
    try {
      await (await this.client(via)).cluster.memberRemove({ ID: decimal(id) });
      this.log(this.etcdctl(`member remove ${id} → ok`, via));
    } catch (err) {
      this.log(this.etcdctl(`member remove ${id} → ${errorMessage(err)}`, via));
      throw new Error(`etcd ${this.cluster} member remove ${id}: ${errorMessage(err)}`);
    }
  }

  /** Maintenance API: only the current leader can hand leadership over. */
  async moveLeader(targetId: string, leaderEndpoint: string): Promise<void> {
    try {
      await (await this.client(leaderEndpoint)).maintenance.moveLeader({ targetID: decimal(targetId) });
      this.log(this.etcdctl(`move-leader ${targetId} → ok`, leaderEndpoint));
    } catch (err) {
      this.log(this.etcdctl(`move-leader ${targetId} → ${errorMessage(err)}`, leaderEndpoint));
      throw new Error(`etcd ${this.cluster} move-leader ${targetId}: ${errorMessage(err)}`);
    }
  }

  /** A member's own Status (`etcdctl endpoint status`): its database size, revision and the alarms it lists. */
  async endpointStatus(endpoint: string): Promise<EndpointStatus> {
    const s = await (await this.client(endpoint)).maintenance.status();
    return {
      endpoint,
      memberId: memberIdHex(s.header.member_id),
      leaderId: memberIdHex(s.leader),
      revision: String(s.header.revision),
      dbSize: Number(s.dbSize),
      dbSizeInUse: s.dbSizeInUse === undefined ? null : Number(s.dbSizeInUse),
      errors: s.errors ?? [],
    };
  }

  /**
   * Compacts the key-value history up to `revision`, physically: the call
   * returns once the compacted revisions are gone from the backend, so the
   * defragmentation that follows finds their pages free.
   */
  async compact(revision: string, via: string, deadlineMs: number): Promise<void> {
    const started = Date.now();
    try {
      await (await this.client(via)).kv.compact(
        { revision, physical: true },
        { deadline: Date.now() + deadlineMs },
      );
      this.log(this.etcdctl(`compaction --physical ${revision} → ok (${Date.now() - started} ms)`, via));
    } catch (err) {
      this.log(this.etcdctl(`compaction --physical ${revision} → ${errorMessage(err)}`, via));
      throw new Error(`etcd ${this.cluster} compaction ${revision}: ${errorMessage(err)}`);
    }
  }

  /** Defragments the one member at `endpoint` (etcd defragments only the member asked). */
  async defragment(endpoint: string, deadlineMs: number): Promise<void> {
    const started = Date.now();
    try {
      await (await this.client(endpoint)).maintenance.defragment({ deadline: Date.now() + deadlineMs });
      this.log(this.etcdctl(`defrag → ok (${((Date.now() - started) / 1000).toFixed(1)} s)`, endpoint));
    } catch (err) {
      this.log(this.etcdctl(`defrag → ${errorMessage(err)}`, endpoint));
      throw new Error(`etcd ${this.cluster} defrag of ${endpoint}: ${errorMessage(err)}`);
    }
  }

  /** The cluster's alarms (`etcdctl alarm list`): member ID in hex and the alarm's name (NOSPACE, CORRUPT). */
  async alarmList(via: string): Promise<{ memberId: string; alarm: string }[]> {
    const res = await (await this.client(via)).maintenance.alarm({ action: 0, memberID: 0, alarm: 0 });
    return (res.alarms ?? []).map((a) => ({
      memberId: memberIdHex(a.memberID),
      alarm: String(a.alarm).toUpperCase(),
    }));
  }

  /** Clears one member's NOSPACE alarm (`etcdctl alarm disarm`, which clears them all, asks this per alarm). */
  async disarmNoSpace(memberId: string, via: string): Promise<void> {
    try {
      await (await this.client(via)).maintenance.alarm({ action: 2, memberID: decimal(memberId), alarm: 1 });
      this.log(this.etcdctl(`alarm disarm NOSPACE of ${memberId} → ok`, via));
    } catch (err) {
      this.log(this.etcdctl(`alarm disarm NOSPACE of ${memberId} → ${errorMessage(err)}`, via));
      throw new Error(`etcd ${this.cluster} alarm disarm: ${errorMessage(err)}`);
    }
  }

  /**
   * A write through raft that etcd accepts even in NOSPACE: deleting a key
   * that does not exist is proposed, committed by a quorum and applied, and
   * adds no revision. It answers only while the cluster commits writes.
   */
  async canaryWrite(via: string): Promise<number> {
    const started = Date.now();
    try {
      await (await this.client(via)).delete().key(CANARY_KEY);
      return Date.now() - started;
    } catch (err) {
      this.log(this.etcdctl(`del ${CANARY_KEY} → ${errorMessage(err)}`, via));
      throw new Error(`etcd ${this.cluster}: a write through ${via} did not commit: ${errorMessage(err)}`);
    }
  }

  close(): void {
    this.clients.close();
  }
}

/** Never written: the canary write deletes it (see canaryWrite). Under kube-ha's prefix, outside /registry. */
export const CANARY_KEY = '/kube-ha/defrag-canary';

export interface EndpointStatus {
  endpoint: string;
  memberId: string;
  leaderId: string;
  revision: string;
  dbSize: number;
  /** etcd 3.4+: the pages in use (the rest is free, which a defragmentation gives back). */
  dbSizeInUse: number | null;
  /** Alarms in protobuf text form (see domain/member-health.ts parseAlarm). */
  errors: string[];
}
