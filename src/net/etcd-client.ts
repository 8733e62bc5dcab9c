// etcd3 clients with a deadline on every unary call, and etcd errors in
// operators' words: shared by the product and the lab's simulated control
// plane, so they live in neither. etcd3 has no default timeout: a call to a
// frozen member (SIGSTOP, a VM dropping packets) never returns. Retries and
// the circuit breaker are switched off so that one slow member costs one
// deadline, not three plus an open breaker.
import { readFileSync } from 'node:fs';
import { noop } from 'cockatiel';
import { Etcd3, type IOptions } from 'etcd3';

/** etcdctl's --cacert, --cert and --key. */
export interface TlsFiles {
  caFile: string | null;
  certFile: string | null;
  keyFile: string | null;
}

export interface EtcdClientOptions {
  tls: TlsFiles | null;
  timeoutMs: number;
  /**
   * The name to verify the server certificate against, when the endpoint's
   * host is not in it: kube-up's member certificates name `etcd-<instance>`
   * and 127.0.0.1, never the VM's IP.
   */
  serverName?: string | null;
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
      ...(opts.serverName ? { 'grpc.ssl_target_name_override': opts.serverName } : {}),
    },
  });
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
