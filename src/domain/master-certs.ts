// The `kube-master-certs` metadata kube-up puts on every control-plane VM:
// YAML lines `KEY: 'base64 of a PEM'` (CA_CERT, MASTER_CERT, ETCD_CA_CERT,
// ETCD_CA_KEY, ETCD_PEER_CERT, ETCD_PEER_KEY, ...). A replica's etcd peer
// certificate names that replica, so a new replica needs its own: copying
// the source's would make its peers refuse it. Pure.

export const MASTER_CERTS_KEY = 'kube-master-certs';

/** The entries, in their order; values as written (base64). Lines that are not `KEY: value` are skipped. */
export function parseMasterCerts(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+):\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!.trim();
    if (v.length >= 2 && ((v.startsWith("'") && v.endsWith("'")) || (v.startsWith('"') && v.endsWith('"'))))
      v = v.slice(1, -1);
    out.set(m[1]!, v);
  }
  return out;
}

export function renderMasterCerts(entries: ReadonlyMap<string, string>): string {
  return `${[...entries].map(([k, v]) => `${k}: '${v}'`).join('\n')}\n`;
}

const b64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');
const pemOf = (v: string | undefined) => (v ? Buffer.from(v, 'base64').toString('utf8') : null);

/** What a new replica's peer certificate needs from the source's metadata. */
export type PeerCertNeed =
  | { kind: 'none' }
  | { kind: 'issue'; ca: { certPem: string; keyPem: string } }
  | { kind: 'impossible'; reason: string };

/**
 * Whether the new replica needs its own etcd peer certificate, and the CA to
 * sign it with. 'none' when the metadata carries no peer certificate.
 */
export function peerCertNeed(text: string | null | undefined): PeerCertNeed {
  if (!text) return { kind: 'none' };
  const e = parseMasterCerts(text);
  if (!e.has('ETCD_PEER_CERT') && !e.has('ETCD_PEER_KEY')) return { kind: 'none' };
  const certPem = pemOf(e.get('ETCD_CA_CERT'));
  const keyPem = pemOf(e.get('ETCD_CA_KEY'));
  if (!certPem?.includes('BEGIN CERTIFICATE') || !keyPem?.includes('PRIVATE KEY'))
    return {
      kind: 'impossible',
      reason:
        `${MASTER_CERTS_KEY} has an etcd peer certificate but no usable ETCD_CA_CERT and ETCD_CA_KEY: ` +
        "the new replica's own peer certificate cannot be issued (a copy of the source's would name the source)",
    };
  return { kind: 'issue', ca: { certPem, keyPem } };
}

/** The metadata text with the peer certificate and key replaced. */
export function withPeerCert(text: string, cert: { certPem: string; keyPem: string }): string {
  const e = parseMasterCerts(text);
  e.set('ETCD_PEER_CERT', b64(cert.certPem));
  e.set('ETCD_PEER_KEY', b64(cert.keyPem));
  return renderMasterCerts(e);
}

/** The peer certificate and key a replica's metadata carries, as PEM, or null. */
export function peerCertOf(
  text: string | null | undefined,
): { certPem: string; keyPem: string; caPem: string } | null {
  if (!text) return null;
  const e = parseMasterCerts(text);
  const certPem = pemOf(e.get('ETCD_PEER_CERT'));
  const keyPem = pemOf(e.get('ETCD_PEER_KEY'));
  const caPem = pemOf(e.get('ETCD_CA_CERT'));
  return certPem && keyPem && caPem ? { certPem, keyPem, caPem } : null;
}

/** kube-master-certs for a replica: the etcd CA and that replica's peer certificate. */
export function masterCertsFor(
  ca: { certPem: string; keyPem: string },
  peer: { certPem: string; keyPem: string },
): string {
  return renderMasterCerts(
    new Map([
      ['ETCD_CA_CERT', b64(ca.certPem)],
      ['ETCD_CA_KEY', b64(ca.keyPem)],
      ['ETCD_PEER_CERT', b64(peer.certPem)],
      ['ETCD_PEER_KEY', b64(peer.keyPem)],
    ]),
  );
}
