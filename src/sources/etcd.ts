// Observes one etcd cluster: membership from any seed that answers, then the
// status of every member through its own client (etcd3 picks a random host per
// call, so per-member status needs one client per endpoint). A member is asked
// at a seed whose status named it, else at its VM's address: never at its
// advertised client URL, which kube-up sets to 127.0.0.1 on every member
// (see domain/member-endpoints.ts).
//
// The member list is asked of one endpoint (the one that answered last), and of
// the others only when that one fails or is slow: asking every seed each second
// tripled the console's etcd calls. The console also reuses a recent list (see
// ObserveEtcdOptions) while nothing hints that membership changed.
//
// With no seeds given (a bastion or a laptop with the TLS files and a GCE
// target), the seeds are every replica VM's internal IP on the cluster's
// client port, as Compute lists them.
import type { Etcd3 } from 'etcd3';
import {
  type ClientPortStyle,
  clientStyleOf,
  derivedSeedsAdvice,
  memberEndpoints,
  noEndpointReason,
  noSeedsReason,
  seedsFromHosts,
} from '../domain/member-endpoints.js';
import { otherErrors } from '../domain/member-health.js';
import type { EtcdClusterName, EtcdEndpointStatus, EtcdMember, EtcdObservation } from '../domain/types.js';
import { MemberCerts } from './cert-probe.js';
import { errorMessage, memberIdHex, toEtcdMember } from './etcd-client.js';
import { MemberMetrics } from './etcd-metrics.js';
import { MemberClients } from './member-clients.js';
import type { EtcdTarget } from './target.js';

export interface ObserveEtcdOptions {
  /**
   * Reuse a member list read less than this long ago (default 0: read it every
   * time, as status and the operations do). A list is never reused after a
   * failed list or status call, or when a member's status names a member or a
   * leader that the list lacks.
   */
  membersMaxAgeMs?: number;
  /**
   * The VMs' addresses by instance name, when they come (GCE observed beside
   * etcd): awaited only when a member has no endpoint otherwise.
   */
  hosts?: Promise<ReadonlyMap<string, string> | null>;
}

/** How long a member's metrics and certificate are waited for after its Status answered. */
export const EXTRAS_GRACE_MS = 500;

/** Ask the other endpoints for the member list when the first has not answered by then. */
export const MEMBER_LIST_HEDGE_MS = 300;

/** The first underlying error of listMembers' "no etcd endpoint answered (...): cause". */
function firstCause(err: unknown): string {
  const msg = errorMessage(err);
  const i = msg.indexOf('): ');
  return msg.startsWith('no etcd endpoint answered') && i > 0 ? msg.slice(i + 3) : msg;
}

export class EtcdClusterSource {
  private readonly clients: MemberClients;
  private readonly metrics: MemberMetrics;
  private readonly certs: MemberCerts;
  /** Endpoints whose client has answered a Status (later calls' latency is the member's). */
  private readonly warm = new Set<string>();
  private readonly style: ClientPortStyle;
  /** Instance name -> internal IP (from GCE), for members no seed answers for. */
  private hosts: ReadonlyMap<string, string> = new Map();
  /** Whether Compute has said the VMs' addresses yet (an empty map is an answer too). */
  private hostsKnown = false;
  /** The endpoint that last answered a member list: asked first next time. */
  private preferred: string | null = null;
  private lastList: { members: EtcdMember[]; at: number; seeds: string } | null = null;

  constructor(
    readonly cluster: EtcdClusterName,
    readonly target: EtcdTarget,
    readonly timeoutMs: number,
    /** For advice that names the masters' firewall tag. */
    private readonly opts: { masterName?: string } = {},
  ) {
    this.certs = new MemberCerts(target.tls, timeoutMs);
    this.clients = new MemberClients({
      tls: target.tls,
      timeoutMs,
      onCert: (e, cert) => this.certs.seed(e, cert),
    });
    this.metrics = new MemberMetrics(timeoutMs);
    this.style = clientStyleOf(target.endpoints, cluster);
  }

  client(endpoint: string): Promise<Etcd3> {
    return this.clients.get(endpoint);
  }

  /** The VMs' addresses by instance name: where members that no seed answers for are reached. */
  setHosts(hosts: ReadonlyMap<string, string>): void {
    this.hosts = hosts;
    this.hostsKnown = true;
  }

  /** No seeds were given: they come from the VMs' addresses. */
  get derivesSeeds(): boolean {
    return this.target.endpoints.length === 0;
  }

  /**
   * The endpoints to start from: the seeds given, else every VM's address on
   * the client port (waiting for `hostsLater` when given); null when neither
   * is known yet.
   */
  async seeds(hostsLater?: Promise<ReadonlyMap<string, string> | null>): Promise<string[] | null> {
    if (!this.derivesSeeds) return this.target.endpoints;
    const fresh = hostsLater ? await hostsLater.catch(() => null) : null;
    if (fresh) this.setHosts(fresh);
    return this.hostsKnown ? seedsFromHosts(this.hosts, this.style) : null;
  }

  async listMembers(endpoints: string[]): Promise<EtcdMember[]> {
    // Only the first answer decides who is asked first next time: a slow
    // member answering late must not take the place of the one that answered.
    let winner: string | null = null;
    const ask = async (e: string) => {
      const res = await (await this.client(e)).cluster.memberList({});
      winner ??= e;
      return res.members.map(toEtcdMember);
    };
    const pick =
      this.preferred !== null && endpoints.includes(this.preferred) ? this.preferred : endpoints[0];
    const rest = endpoints.filter((e) => e !== pick);
    const first = pick === undefined ? Promise.reject(new Error('no endpoints')) : ask(pick);
    // The others are asked when the first fails or is slow (a frozen member).
    const others = new Promise<EtcdMember[]>((resolve, reject) => {
      let asked = false;
      const askOthers = () => {
        if (asked) return;
        asked = true;
        clearTimeout(timer);
        if (!rest.length) reject(new Error('no other endpoint'));
        else Promise.any(rest.map(ask)).then(resolve, reject);
      };
      const timer = setTimeout(askOthers, MEMBER_LIST_HEDGE_MS);
      first.then(() => clearTimeout(timer), askOthers);
    });
    others.catch(() => {});
    try {
      const members = await Promise.any([first, others]);
      if (winner !== null) this.preferred = winner;
      return members;
    } catch (err) {
      const cause = err instanceof AggregateError ? err.errors[0] : err;
      throw new Error(`no etcd endpoint answered (${endpoints.join(', ')}): ${errorMessage(cause)}`);
    }
  }

  async endpointStatus(endpoint: string, forMember: string | null = null): Promise<EtcdEndpointStatus> {
    // Metrics and the serving certificate are read beside the Status call, and
    // waited for only a short grace after it (a late answer serves the next look).
    this.metrics.refresh(endpoint);
    const started = Date.now();
    try {
      const client = await this.client(endpoint);
      // After the client: a new one's name lookup has just read the certificate.
      this.certs.refresh(endpoint);
      // The call alone: a first call's TLS name lookup is not the member being slow.
      const asked = Date.now();
      const s = await client.maintenance.status();
      const latencyMs = Date.now() - asked;
      // A first call also connects (TCP, TLS, HTTP/2): its time says nothing about the member.
      const firstCall = !this.warm.has(endpoint);
      this.warm.add(endpoint);
      const [metrics, cert] = await Promise.all([
        this.metrics.get(endpoint, EXTRAS_GRACE_MS),
        this.certs.get(endpoint, EXTRAS_GRACE_MS),
      ]);
      // Alarms are in `errors` too, but a member in alarm answers: it is not in error (issue 15).
      const other = otherErrors(s.errors);
      return {
        endpoint,
        memberId: memberIdHex(s.header.member_id),
        ...(forMember ? { forMember } : {}),
        ok: true,
        error: other.length ? other.join('; ') : null,
        version: s.version,
        dbSizeBytes: Number(s.dbSize),
        dbSizeInUseBytes: Number(s.dbSizeInUse ?? 0),
        leaderId: memberIdHex(s.leader),
        raftTerm: Number(s.raftTerm),
        raftIndex: Number(s.raftIndex),
        raftAppliedIndex: Number(s.raftAppliedIndex ?? 0),
        isLearner: Boolean(s.isLearner),
        errors: s.errors ?? [],
        latencyMs,
        ...(firstCall ? { firstCall } : {}),
        ...(metrics !== undefined ? { metrics } : {}),
        ...(cert !== undefined ? { cert } : {}),
      };
    } catch (err) {
      this.clients.forget(endpoint);
      this.warm.delete(endpoint);
      return {
        endpoint,
        memberId: null,
        ...(forMember ? { forMember } : {}),
        ok: false,
        error: errorMessage(err),
        latencyMs: Date.now() - started,
      };
    }
  }

  async observe(opts: ObserveEtcdOptions = {}): Promise<EtcdObservation> {
    const seeds = await this.seeds(opts.hosts);
    if (!seeds?.length) {
      return {
        cluster: this.cluster,
        seeds: [],
        members: null,
        membersError: noSeedsReason(seeds !== null),
        statuses: [],
        fetchedAt: Date.now(),
      };
    }
    const seedKey = seeds.join(',');
    const maxAge = opts.membersMaxAgeMs ?? 0;
    const cached = this.lastList;
    const reuse = cached !== null && cached.seeds === seedKey && Date.now() - cached.at < maxAge;
    let members: EtcdMember[] | null = reuse ? cached.members : null;
    let membersError: string | null = null;
    const list = async () => {
      try {
        members = await this.listMembers(seeds);
        membersError = null;
        this.lastList = { members, at: Date.now(), seeds: seedKey };
      } catch (err) {
        members = null;
        // Derived seeds that all fail are most often kube-up's loopback-only client port.
        membersError = this.derivesSeeds
          ? derivedSeedsAdvice(this.cluster, seeds, this.opts.masterName ?? null, firstCause(err))
          : errorMessage(err);
        this.lastList = null;
      }
    };
    // The seeds' statuses are asked beside a fresh list rather than after it: the
    // seeds are normally the members, so the first poll costs one round trip
    // (and one connection setup per member), not two.
    const early = reuse ? null : new Map(seeds.map((e) => [e, this.endpointStatus(e)] as const));
    if (!reuse) await list();
    let all = await this.statusAll(members, seeds, early, opts.hosts);
    if (reuse && !this.listStillFits(members ?? [], all.statuses)) {
      await list();
      all = await this.statusAll(members, seeds, null, opts.hosts);
    }
    return {
      cluster: this.cluster,
      seeds,
      members,
      membersError,
      statuses: all.statuses,
      ...(Object.keys(all.unreachable).length ? { unreachable: all.unreachable } : {}),
      fetchedAt: Date.now(),
    };
  }

  /**
   * Every seed's status, then the status of each member no seed answered for
   * at its VM's address. A member with no known endpoint is reported as such.
   */
  private async statusAll(
    members: EtcdMember[] | null,
    seeds: string[],
    early: ReadonlyMap<string, Promise<EtcdEndpointStatus>> | null = null,
    hostsLater?: Promise<ReadonlyMap<string, string> | null>,
  ): Promise<{ statuses: EtcdEndpointStatus[]; unreachable: Record<string, string> }> {
    const seedStatuses = await Promise.all(seeds.map((e) => early?.get(e) ?? this.endpointStatus(e)));
    const unreachable: Record<string, string> = {};
    if (!members) {
      this.clients.retain(new Set(seeds));
      return { statuses: seedStatuses, unreachable };
    }
    const answers = new Map(seedStatuses.map((s) => [s.endpoint, s.ok ? s.memberId : null] as const));
    const answered = new Set(seedStatuses.filter((s) => s.ok).map((s) => s.memberId));
    // A member that never started (no name, no client URL) has nothing to ask yet.
    const silent = members.filter((m) => !answered.has(m.id) && (m.name || m.clientURLs.length));
    let endpoints = memberEndpoints(members, answers, this.style, this.hosts);
    if (hostsLater && silent.some((m) => !endpoints.has(m.id))) {
      const hosts = await hostsLater.catch(() => null);
      if (hosts) {
        this.hosts = hosts;
        endpoints = memberEndpoints(members, answers, this.style, hosts);
      }
    }
    // One silent member and one seed that did not answer: that seed is its address.
    const unclaimed = seedStatuses.filter((s) => !s.ok && ![...endpoints.values()].includes(s.endpoint));
    const lost = silent.filter((m) => !endpoints.has(m.id));
    if (lost.length === 1 && unclaimed.length === 1) endpoints.set(lost[0]!.id, unclaimed[0]!.endpoint);
    const more = await Promise.all(
      silent.map((m) => {
        const e = endpoints.get(m.id);
        if (!e) {
          unreachable[m.id] = noEndpointReason(m);
          return null;
        }
        // A seed that failed is this member's address: its answer stands, marked for it.
        const seed = seedStatuses.find((s) => s.endpoint === e);
        return seed ? Promise.resolve({ ...seed, forMember: m.id }) : this.endpointStatus(e, m.id);
      }),
    );
    const extra = more.filter((s): s is EtcdEndpointStatus => s !== null);
    const statuses = [...seedStatuses.filter((s) => !extra.some((x) => x.endpoint === s.endpoint)), ...extra];
    // A seed that answered for no current member (one that left) is dropped.
    const ids = new Set(members.map((m) => m.id));
    const kept = statuses.filter((s) => !s.ok || (s.memberId !== null && ids.has(s.memberId)));
    const keep = new Set([...seeds, ...endpoints.values()]);
    this.clients.retain(keep);
    this.metrics.retain(keep);
    this.certs.retain(keep);
    for (const e of this.warm) if (!keep.has(e)) this.warm.delete(e);
    return { statuses: kept, unreachable };
  }

  /** A reused list still describes the cluster: every status answered and names only listed members. */
  private listStillFits(members: EtcdMember[], statuses: EtcdEndpointStatus[]): boolean {
    const ids = new Set(members.map((m) => m.id));
    return statuses.every(
      (s) =>
        s.ok &&
        s.memberId !== null &&
        ids.has(s.memberId) &&
        (!s.leaderId || s.leaderId === '0' || ids.has(s.leaderId)),
    );
  }

  close(): void {
    this.clients.close();
  }
}
