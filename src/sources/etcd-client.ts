// etcd3 clients with a deadline on every unary call. etcd3 has no default
// timeout: a call to a frozen member (SIGSTOP, a VM dropping packets) never
// returns. Retries and the circuit breaker are switched off so that one slow
// member costs one deadline, not three plus an open breaker.
import { readFileSync } from 'node:fs';
import { noop } from 'cockatiel';
import { Etcd3, type IMember, type IOptions } from 'etcd3';
import type { EtcdMember } from '../domain/types.js';
import type { TlsFiles } from './target.js';

export interface EtcdClientOptions {
  tls: TlsFiles | null;
  timeoutMs: number;
}

export function etcdCredentials(tls: TlsFiles | null): IOptions['credentials'] {
  if (!tls?.caFile) return undefined;
  return {
    rootCertificate: readFileSync(tls.caFile),
    ...(tls.keyFile ? { privateKey: readFileSync(tls.keyFile) } : {}),
    ...(tls.certFile ? { certChain: readFileSync(tls.certFile) } : {}),
  };
}

export function createEtcdClient(hosts: string | string[], opts: EtcdClientOptions): Etcd3 {
  return new Etcd3({
    hosts,
    credentials: etcdCredentials(opts.tls),
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + opts.timeoutMs }),
    faultHandling: { host: () => noop, global: noop },
    grpcOptions: {
      // Fail fast on a dead member instead of grpc's minute-long reconnect backoff.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    },
  });
}

/**
 * One client per endpoint, kept across calls (TLS handshakes are not free;
 * etcd3 picks a random host per call, so per-member calls need their own client).
 */
export class EtcdClientPool {
  private readonly clients = new Map<string, Etcd3>();

  constructor(private readonly opts: EtcdClientOptions) {}

  get(endpoint: string): Etcd3 {
    let c = this.clients.get(endpoint);
    if (!c) {
      c = createEtcdClient(endpoint, this.opts);
      this.clients.set(endpoint, c);
    }
    return c;
  }

  /** Closes the clients of endpoints not in `keep` (members that left). */
  retain(keep: Set<string>): void {
    for (const [endpoint, c] of this.clients) {
      if (!keep.has(endpoint)) {
        c.close();
        this.clients.delete(endpoint);
      }
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/** A member as etcd's member list returns it, with its ID in hex. */
export function toEtcdMember(m: IMember): EtcdMember {
  return {
    id: memberIdHex(m.ID),
    name: m.name,
    peerURLs: m.peerURLs ?? [],
    clientURLs: m.clientURLs ?? [],
    isLearner: Boolean(m.isLearner),
  };
}

/** Member IDs arrive as uint64 decimal strings; etcdctl prints hex. */
export function memberIdHex(id: string | number | bigint): string {
  return BigInt(id).toString(16);
}

export function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // grpc: "4 DEADLINE_EXCEEDED: Deadline exceeded after 1.642s,name resolution: ...".
  const deadline = /Deadline exceeded after ([\d.]+)s/.exec(err.message);
  if (deadline) return `deadline exceeded: no answer in ${Number(deadline[1]).toFixed(1)} s`;
  // "No connection established. Last error: Error: connect ECONNREFUSED 10.0.0.2:2379. Resolution note: "
  const connect = /connect (E[A-Z]+) ([^\s.]+(?:\.[^\s.]+)*:\d+)/.exec(err.message);
  if (connect) {
    const words: Record<string, string> = {
      ECONNREFUSED: 'connection refused',
      EHOSTUNREACH: 'host unreachable',
      ETIMEDOUT: 'connect timed out',
    };
    return `${words[connect[1]!] ?? connect[1]} (${connect[2]})`;
  }
  if (/^(\d+ [A-Z_]+: )?No connection established/.test(err.message)) return 'no connection (member down)';
  return err.message.replace(/^\d+ [A-Z_]+: /, '').split('\n')[0] ?? err.message;
}
