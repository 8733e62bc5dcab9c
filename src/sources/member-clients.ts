// One etcd client per member endpoint, each verifying the member's server
// certificate against the name that certificate carries. kube-up's member
// certificates name `etcd-<instance>` and 127.0.0.1, never the VM's IP, so a
// client that dials https://<VM IP>:2379 and checks the IP fails every
// handshake. The name is learned once per endpoint from a TLS handshake that
// verifies the chain against the operator's CA (--cacert): a member is trusted
// because the cluster's CA signed it, and identified by its member ID.
import type { DetailedPeerCertificate } from 'node:tls';
import type { Etcd3 } from 'etcd3';
import { urlHost } from '../domain/names.js';
import type { ServingCert } from '../domain/types.js';
import { verifiedHandshake } from '../net/tls-handshake.js';
import { servingCertOf } from './cert-probe.js';
import { createEtcdClient } from './etcd-client.js';
import type { TlsFiles } from './target.js';

export interface MemberClientsOptions {
  tls: TlsFiles | null;
  timeoutMs: number;
  /** The member's serving certificate, read from the handshake that learned its name. */
  onCert?: (endpoint: string, cert: ServingCert) => void;
}

/**
 * The name to verify an endpoint's certificate against: null when the
 * endpoint's own host is in it, else its first `etcd-` DNS name, else its
 * first DNS name. Rejects when no verified handshake completes in time.
 */
export function learnServerName(
  endpoint: string,
  tls: TlsFiles,
  timeoutMs: number,
  onCert?: (cert: ServingCert) => void,
): Promise<string | null> {
  const host = urlHost(endpoint) ?? new URL(endpoint).hostname;
  // The chain is verified; the name is what this handshake is to learn (and
  // the certificate's dates, which cert-probe.ts would otherwise connect again for).
  return verifiedHandshake(endpoint, tls, timeoutMs, (socket) => {
    const leaf = socket.getPeerCertificate(Boolean(onCert));
    if (onCert) onCert(servingCertOf(leaf as DetailedPeerCertificate, tls));
    const sans = (leaf.subjectaltname ?? '').split(',').map((s) => s.trim());
    const dns = sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
    const ips = sans.filter((s) => s.startsWith('IP Address:')).map((s) => s.slice(11));
    if (ips.includes(host) || dns.includes(host)) return null;
    return dns.find((d) => d.startsWith('etcd-')) ?? dns.find((d) => !d.includes('*')) ?? null;
  });
}

export class MemberClients {
  private readonly clients = new Map<string, { client: Etcd3; serverName: string | null }>();
  private readonly names = new Map<string, string | null>();
  /** Lookups under way: the member list, a Status and the leases ask at once on a first look. */
  private readonly learning = new Map<string, Promise<string | null>>();

  constructor(private readonly opts: MemberClientsOptions) {}

  private async serverName(endpoint: string): Promise<string | null> {
    const tls = this.opts.tls;
    if (!tls?.caFile || !endpoint.startsWith('https:')) return null;
    const known = this.names.get(endpoint);
    if (known !== undefined) return known;
    // One handshake for every caller that asks meanwhile (each made its own before: 3
    // handshakes per member on a first look, where 1 does).
    const pending = this.learning.get(endpoint);
    if (pending) return pending;
    // A member that does not complete the handshake is down: the callers report why.
    // Forgotten meanwhile (a failed call): the name is not kept, the next caller learns anew.
    const onCert = this.opts.onCert;
    const mine: Promise<string | null> = learnServerName(
      endpoint,
      tls,
      this.opts.timeoutMs,
      onCert && ((cert) => onCert(endpoint, cert)),
    ).then(
      (name) => {
        if (this.learning.get(endpoint) === mine) {
          this.learning.delete(endpoint);
          this.names.set(endpoint, name);
        }
        return name;
      },
      (err: unknown) => {
        if (this.learning.get(endpoint) === mine) this.learning.delete(endpoint);
        throw err;
      },
    );
    this.learning.set(endpoint, mine);
    return mine;
  }

  /**
   * The endpoint's client, made (or remade) with the name its certificate
   * carries; rejects when that name cannot be learned (the member is down).
   */
  async get(endpoint: string): Promise<Etcd3> {
    const serverName = await this.serverName(endpoint);
    const have = this.clients.get(endpoint);
    if (have && have.serverName === serverName) return have.client;
    have?.client.close();
    const client = createEtcdClient(endpoint, { ...this.opts, serverName });
    this.clients.set(endpoint, { client, serverName });
    return client;
  }

  /**
   * After a failed call: the name and client of this endpoint are learned
   * anew next time. GCE reuses internal IPs: a replica replaced in its zone can
   * come back on the old one's address with a certificate naming the new
   * instance, and a client kept for the old name would call it down forever.
   */
  forget(endpoint: string): void {
    this.names.delete(endpoint);
    this.learning.delete(endpoint);
    const c = this.clients.get(endpoint);
    if (!c) return;
    c.client.close();
    this.clients.delete(endpoint);
  }

  /** Closes the clients of endpoints not in `keep` (members that left). */
  retain(keep: ReadonlySet<string>): void {
    for (const [endpoint, c] of this.clients) {
      if (keep.has(endpoint)) continue;
      c.client.close();
      this.clients.delete(endpoint);
      this.names.delete(endpoint);
      this.learning.delete(endpoint);
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.client.close();
    this.clients.clear();
  }
}
