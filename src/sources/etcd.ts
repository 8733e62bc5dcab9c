// Observes one etcd cluster: membership from any seed that answers, then the
// status of every member through its own client (etcd3 picks a random host per
// call, so per-member status needs one client per endpoint).
//
// The member list is asked of one endpoint (the one that answered last), and of
// the others only when that one fails or is slow: asking every seed each second
// tripled the console's etcd calls. The console also reuses a recent list (see
// ObserveEtcdOptions) while nothing hints that membership changed.
import type { Etcd3 } from 'etcd3';
import type { EtcdClusterName, EtcdEndpointStatus, EtcdMember, EtcdObservation } from '../domain/types.js';
import { EtcdClientPool, errorMessage, memberIdHex, toEtcdMember } from './etcd-client.js';
import type { EtcdTarget } from './target.js';

export interface ObserveEtcdOptions {
  /**
   * Reuse a member list read less than this long ago (default 0: read it every
   * time, as status and the operations do). A list is never reused after a
   * failed list or status call, or when a member's status names a member or a
   * leader that the list lacks.
   */
  membersMaxAgeMs?: number;
}

/** Ask the other endpoints for the member list when the first has not answered by then. */
export const MEMBER_LIST_HEDGE_MS = 300;

export class EtcdClusterSource {
  private readonly clients: EtcdClientPool;
  /** The endpoint that last answered a member list: asked first next time. */
  private preferred: string | null = null;
  private lastList: { members: EtcdMember[]; at: number; seeds: string } | null = null;

  constructor(
    readonly cluster: EtcdClusterName,
    readonly target: EtcdTarget,
    readonly timeoutMs: number,
  ) {
    this.clients = new EtcdClientPool({ tls: target.tls, timeoutMs });
  }

  client(endpoint: string): Etcd3 {
    return this.clients.get(endpoint);
  }

  async listMembers(endpoints: string[]): Promise<EtcdMember[]> {
    // Only the first answer decides who is asked first next time: a slow
    // member answering late must not take the place of the one that answered.
    let winner: string | null = null;
    const ask = async (e: string) => {
      const res = await this.client(e).cluster.memberList({});
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

  async endpointStatus(endpoint: string): Promise<EtcdEndpointStatus> {
    const started = Date.now();
    try {
      const s = await this.client(endpoint).maintenance.status();
      return {
        endpoint,
        memberId: memberIdHex(s.header.member_id),
        ok: true,
        error: s.errors?.length ? s.errors.join('; ') : null,
        version: s.version,
        dbSizeBytes: Number(s.dbSize),
        dbSizeInUseBytes: Number(s.dbSizeInUse ?? 0),
        leaderId: memberIdHex(s.leader),
        raftTerm: Number(s.raftTerm),
        raftIndex: Number(s.raftIndex),
        raftAppliedIndex: Number(s.raftAppliedIndex ?? 0),
        isLearner: Boolean(s.isLearner),
        errors: s.errors ?? [],
        latencyMs: Date.now() - started,
      };
    } catch (err) {
      return {
        endpoint,
        memberId: null,
        ok: false,
        error: errorMessage(err),
        latencyMs: Date.now() - started,
      };
    }
  }

  async observe(opts: ObserveEtcdOptions = {}): Promise<EtcdObservation> {
    const seeds = this.target.endpoints;
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
        membersError = errorMessage(err);
        this.lastList = null;
      }
    };
    // The seeds' statuses are asked beside a fresh list rather than after it: the
    // seeds are normally the members, so the first poll costs one round trip
    // (and one connection setup per member), not two.
    const early = reuse ? null : new Map(seeds.map((e) => [e, this.endpointStatus(e)] as const));
    if (!reuse) await list();
    let statuses = await this.statusAll(members, seeds, early);
    if (reuse && !this.listStillFits(members ?? [], statuses)) {
      await list();
      statuses = await this.statusAll(members, seeds);
    }
    return { cluster: this.cluster, seeds, members, membersError, statuses, fetchedAt: Date.now() };
  }

  /**
   * Status of every member's advertised endpoint; the seeds stand in for
   * members that never started (no client URL) or when the list failed.
   */
  private async statusAll(
    members: EtcdMember[] | null,
    seeds: string[],
    early: ReadonlyMap<string, Promise<EtcdEndpointStatus>> | null = null,
  ): Promise<EtcdEndpointStatus[]> {
    const endpoints = new Set<string>();
    for (const m of members ?? []) if (m.clientURLs[0]) endpoints.add(m.clientURLs[0]);
    if (!members) for (const s of seeds) endpoints.add(s);
    // A seed that is no longer a member was asked for nothing: its answer is dropped.
    const statuses = await Promise.all([...endpoints].map((e) => early?.get(e) ?? this.endpointStatus(e)));
    this.clients.retain(new Set([...endpoints, ...seeds]));
    return statuses;
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
