import { describe, expect, it } from 'vitest';
import {
  masterCertsFor,
  parseMasterCerts,
  peerCertNeed,
  peerCertOf,
  renderMasterCerts,
  withPeerCert,
} from '../../src/domain/master-certs.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const CA = {
  certPem: '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n',
  keyPem: '-----BEGIN EC PRIVATE KEY-----\nk\n-----END EC PRIVATE KEY-----\n',
};
const PEER = {
  certPem: '-----BEGIN CERTIFICATE-----\npeer-a\n-----END CERTIFICATE-----\n',
  keyPem: '-----BEGIN EC PRIVATE KEY-----\npa\n-----END EC PRIVATE KEY-----\n',
};

describe("kube-up's kube-master-certs", () => {
  it("reads and writes its KEY: 'value' lines, keeping the order and the other keys", () => {
    const text = `CA_CERT: '${b64('x')}'\nMASTER_CERT: "${b64('m')}"\n# comment\nETCD_PEER_CERT: '${b64('p')}'\n`;
    const e = parseMasterCerts(text);
    expect([...e.keys()]).toEqual(['CA_CERT', 'MASTER_CERT', 'ETCD_PEER_CERT']);
    expect(e.get('MASTER_CERT')).toBe(b64('m'));
    expect(parseMasterCerts(renderMasterCerts(e))).toEqual(e);
  });

  it('a replica with a peer certificate needs its own, signed by the etcd CA it carries', () => {
    const text = masterCertsFor(CA, PEER);
    const need = peerCertNeed(text);
    expect(need).toEqual({ kind: 'issue', ca: CA });
    const other = {
      certPem: PEER.certPem.replace('peer-a', 'peer-b'),
      keyPem: PEER.keyPem.replace('pa', 'pb'),
    };
    const replaced = withPeerCert(`CA_CERT: 'eA=='\n${text}`, other);
    expect(peerCertOf(replaced)).toEqual({ ...other, caPem: CA.certPem });
    expect(parseMasterCerts(replaced).get('CA_CERT')).toBe('eA==');
  });

  it('without a peer certificate nothing is issued; without the CA key it cannot be, and says why', () => {
    expect(peerCertNeed(undefined)).toEqual({ kind: 'none' });
    expect(peerCertNeed(`CA_CERT: '${b64('x')}'\n`)).toEqual({ kind: 'none' });
    const noKey = `ETCD_CA_CERT: '${b64(CA.certPem)}'\nETCD_PEER_CERT: '${b64(PEER.certPem)}'\nETCD_PEER_KEY: '${b64(PEER.keyPem)}'\n`;
    const need = peerCertNeed(noKey);
    expect(need.kind).toBe('impossible');
    expect(need.kind === 'impossible' && need.reason).toMatch(/no usable ETCD_CA_CERT and ETCD_CA_KEY/);
  });
});
