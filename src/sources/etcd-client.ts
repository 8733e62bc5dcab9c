// etcd3 clients with a deadline on every unary call. etcd3 has no default
// timeout: a call to a frozen member (SIGSTOP, a VM dropping packets) never
// returns. Retries and the circuit breaker are switched off so that one slow
// member costs one deadline, not three plus an open breaker.
import { readFileSync } from 'node:fs';
import { noop } from 'cockatiel';
import { Etcd3, type IOptions } from 'etcd3';
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

/** Member IDs arrive as uint64 decimal strings; etcdctl prints hex. */
export function memberIdHex(id: string | number | bigint): string {
  return BigInt(id).toString(16);
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    // grpc errors carry "4 DEADLINE_EXCEEDED: ..." style messages; keep them short.
    return err.message.replace(/^\d+ [A-Z_]+: /, '').split('\n')[0] ?? err.message;
  }
  return String(err);
}
