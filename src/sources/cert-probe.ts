// A member's serving certificate and its CA, read from one TLS handshake with
// the operator's CA and client pair (as the etcd client connects), once per
// member per 10 minutes: kube-up signs the CA and every member certificate
// for the same span, so replicas built together expire the same day (issue 15).
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DetailedPeerCertificate } from 'node:tls';
import type { ServingCert } from '../domain/types.js';
import { verifiedHandshake } from '../net/tls-handshake.js';
import { Refreshing } from './refreshing.js';
import type { TlsFiles } from './target.js';

export const CERT_PROBE_EVERY_MS = 10 * 60_000;

const iso = (validTo: string) => new Date(validTo).toISOString();
const dn = (s: Record<string, unknown> | undefined) =>
  Object.entries(s ?? {})
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
    .join(', ');

/** The CA from the operator's --cacert that issued `leaf`, when the handshake's chain lacks it. */
function caFromFile(
  tls: TlsFiles,
  leaf: DetailedPeerCertificate,
): { notAfter: string; subject: string } | null {
  if (!tls.caFile) return null;
  try {
    const pem = readFileSync(tls.caFile, 'utf8');
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    const leafX = new X509Certificate(leaf.raw);
    for (const b of blocks) {
      const ca = new X509Certificate(b);
      if (leafX.checkIssued(ca))
        return { notAfter: iso(ca.validTo), subject: ca.subject.replace(/\n/g, ', ') };
    }
  } catch {
    // An unreadable CA file is the etcd client's error to report.
  }
  return null;
}

/** One verified handshake: the leaf's notAfter and its issuer's. Rejects on failure or after the deadline. */
export function readServingCert(endpoint: string, tls: TlsFiles, timeoutMs: number): Promise<ServingCert> {
  // The name is checked by the etcd client (member-clients.ts); here only the dates.
  return verifiedHandshake(endpoint, tls, timeoutMs, (socket) =>
    servingCertOf(socket.getPeerCertificate(true), tls),
  );
}

/** The serving certificate's dates, from a handshake that verified the chain (getPeerCertificate(true)). */
export function servingCertOf(leaf: DetailedPeerCertificate, tls: TlsFiles): ServingCert {
  const issuer = leaf.issuerCertificate;
  const ca =
    issuer && issuer.fingerprint256 !== leaf.fingerprint256
      ? {
          notAfter: iso(issuer.valid_to),
          subject: dn(issuer.subject as unknown as Record<string, unknown>),
        }
      : caFromFile(tls, leaf);
  return {
    notAfter: iso(leaf.valid_to),
    subject: dn(leaf.subject as unknown as Record<string, unknown>),
    caNotAfter: ca?.notAfter ?? null,
    caSubject: ca?.subject ?? null,
  };
}

/** Serving certificates of https members, each read at most every 10 minutes. */
export class MemberCerts {
  private readonly cache: Refreshing<ServingCert | null>;

  constructor(
    private readonly tls: TlsFiles | null,
    timeoutMs: number,
  ) {
    this.cache = new Refreshing(CERT_PROBE_EVERY_MS, (e) =>
      tls ? readServingCert(e, tls, timeoutMs).catch(() => null) : Promise.resolve(null),
    );
  }

  /** Whether this endpoint has a certificate to read (https, with the operator's CA). */
  applies(endpoint: string): boolean {
    return Boolean(this.tls?.caFile) && endpoint.startsWith('https:');
  }

  refresh(endpoint: string): void {
    if (this.applies(endpoint)) this.cache.refresh(endpoint);
  }

  /** A certificate read by another handshake (the member client's name lookup): no probe of its own. */
  seed(endpoint: string, cert: ServingCert): void {
    if (this.applies(endpoint)) this.cache.seed(endpoint, cert);
  }

  /** undefined: not an https member, or not read yet; null: the handshake failed. */
  async get(endpoint: string, waitMs: number): Promise<ServingCert | null | undefined> {
    return this.applies(endpoint) ? this.cache.get(endpoint, waitMs) : undefined;
  }

  retain(keep: ReadonlySet<string>): void {
    this.cache.retain(keep);
  }
}
