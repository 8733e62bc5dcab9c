import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKubeEnv, renderKubeEnv } from '../../src/domain/kube-env.js';
import {
  apiserverEtcdEntries,
  apiserverEtcdMaterialOf,
  decodeCert,
  decodeKey,
  encodeCert,
  encodeKey,
  kubeEnvWithPeerCert,
  masterCertsWithApiserverEtcd,
  peerCertRequest,
  peerKubeEnvEntries,
  peerMaterialOf,
  replicaCertNeed,
} from '../../src/domain/master-certs.js';
import { ensureCA, issueWithCA } from '../../src/pki/certs.js';

let dir: string;
let CA: { certPem: string; keyPem: string };
let PEER: { certPem: string; keyPem: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kube-ha-certs-'));
  const { caFile, caKey } = await ensureCA(dir);
  CA = { certPem: readFileSync(caFile, 'utf8'), keyPem: readFileSync(caKey, 'utf8') };
  PEER = await issueWithCA(CA, peerCertRequest('kubernetes-master'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("kube-up's etcd certificate encodings", () => {
  it('writes certificates gzip+base64 and keys base64, as configure-helper.sh reads them', () => {
    const cert = encodeCert(PEER.certPem);
    expect(cert.startsWith('H4sI')).toBe(true);
    const key = encodeKey(PEER.keyPem);
    expect(key.startsWith('LS0tLS1CRUdJTi')).toBe(true);
    // The replica's own reader: `echo VALUE | base64 --decode | gunzip`.
    const file = join(dir, 'v');
    writeFileSync(file, cert);
    expect(execFileSync('sh', ['-c', `base64 --decode < ${file} | gunzip`], { encoding: 'utf8' })).toBe(
      PEER.certPem,
    );
    expect(decodeCert(cert)).toBe(PEER.certPem);
    expect(decodeKey(key)).toBe(PEER.keyPem);
  });

  it('does not take plain base64 PEM for a certificate (gunzip would fail on the replica)', () => {
    expect(decodeCert(Buffer.from(PEER.certPem).toString('base64'))).toBeNull();
    expect(decodeCert(undefined)).toBeNull();
    expect(decodeKey(Buffer.from('not a key').toString('base64'))).toBeNull();
  });
});

describe('replicaCertNeed', () => {
  const kubeEnv = () =>
    renderKubeEnv({
      ZONE: 'us-central1-a',
      ...peerKubeEnvEntries(CA, PEER),
      INITIAL_ETCD_CLUSTER: 'kubernetes-master',
    });
  const masterCerts = () => renderKubeEnv(apiserverEtcdEntries(CA, PEER, PEER));

  it('finds the peer CA in kube-env and the apiserver↔etcd CA in kube-master-certs', () => {
    const need = replicaCertNeed(kubeEnv(), masterCerts());
    expect(need.kind).toBe('issue');
    if (need.kind !== 'issue') return;
    expect(need.peerCA).toEqual(CA);
    expect(need.apiserverCA).toEqual(CA);
  });

  it('refuses when a certificate is there but its CA key is not (a copy would name the source)', () => {
    const env = parseKubeEnv(kubeEnv());
    delete env.ETCD_CA_KEY;
    const need = replicaCertNeed(renderKubeEnv(env), masterCerts());
    expect(need.kind).toBe('impossible');
    if (need.kind === 'impossible') expect(need.reason).toMatch(/ETCD_CA_KEY/);
    const certs = parseKubeEnv(masterCerts());
    delete certs.ETCD_APISERVER_CA_KEY;
    const need2 = replicaCertNeed(kubeEnv(), renderKubeEnv(certs));
    expect(need2.kind).toBe('impossible');
    if (need2.kind === 'impossible') expect(need2.reason).toMatch(/ETCD_APISERVER_CA/);
  });

  it('refuses a CA certificate written as plain base64 PEM (not what kube-up writes)', () => {
    const env = parseKubeEnv(kubeEnv());
    env.ETCD_CA_CERT = Buffer.from(CA.certPem).toString('base64');
    expect(replicaCertNeed(renderKubeEnv(env), null).kind).toBe('impossible');
  });

  it('needs nothing from a source without etcd certificates', () => {
    expect(replicaCertNeed(renderKubeEnv({ ZONE: 'us-central1-a' }), null)).toEqual({ kind: 'none' });
  });

  it('replaces the peer pair in kube-env and the server/client pairs in kube-master-certs, in their encodings', async () => {
    const other = await issueWithCA(CA, peerCertRequest('kubernetes-master-x7k'));
    const env = parseKubeEnv(kubeEnvWithPeerCert(kubeEnv(), other));
    expect(env.ZONE).toBe('us-central1-a');
    expect(env.ETCD_PEER_CERT?.startsWith('H4sI')).toBe(true);
    const p = peerMaterialOf(env);
    expect(p.certPem).toBe(other.certPem);
    expect(p.keyPem).toBe(other.keyPem);
    expect(p.caPem).toBe(CA.certPem);
    expect(new X509Certificate(p.certPem!).subjectAltName).toContain('DNS:kubernetes-master-x7k');
    const certs = parseKubeEnv(masterCertsWithApiserverEtcd(masterCerts(), other, PEER));
    const a = apiserverEtcdMaterialOf(certs);
    expect(a.server).toEqual(other);
    expect(a.client).toEqual(PEER);
    expect(a.caKeyPem).toBe(CA.keyPem);
  });
});
