// Observes one etcd cluster: membership from any seed that answers, then the
// status of every member through its own client (etcd3 picks a random host per
// call, so per-member status needs one client per endpoint).
import type { Etcd3 } from 'etcd3';
import type { EtcdClusterName, EtcdEndpointStatus, EtcdMember, EtcdObservation } from '../domain/types.js';
import { EtcdClientPool, errorMessage, memberIdHex, toEtcdMember } from './etcd-client.js';
import type { EtcdTarget } from './target.js';

export class EtcdClusterSource {
  private readonly clients: EtcdClientPool;

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
    const attempts = endpoints.map(async (e) => {
      const res = await this.client(e).cluster.memberList({});
      return res.members.map(toEtcdMember);
    });
    try {
      return await Promise.any(attempts);
    } catch (err) {
      const first = err instanceof AggregateError ? err.errors[0] : err;
      throw new Error(`no etcd endpoint answered (${endpoints.join(', ')}): ${errorMessage(first)}`);
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

  async observe(): Promise<EtcdObservation> {
    const seeds = this.target.endpoints;
    let members: EtcdMember[] | null = null;
    let membersError: string | null = null;
    try {
      members = await this.listMembers(seeds);
    } catch (err) {
      membersError = errorMessage(err);
    }
    // Status every member's advertised endpoint; fall back to the seeds for
    // members that never started (no client URL) or when the list failed.
    const endpoints = new Set<string>();
    for (const m of members ?? []) if (m.clientURLs[0]) endpoints.add(m.clientURLs[0]);
    if (!members) for (const s of seeds) endpoints.add(s);
    const statuses = await Promise.all([...endpoints].map((e) => this.endpointStatus(e)));
    this.clients.retain(new Set([...endpoints, ...seeds]));
    return { cluster: this.cluster, seeds, members, membersError, statuses, fetchedAt: Date.now() };
  }

  close(): void {
    this.clients.close();
  }
}
