import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientCertRequest, peerCertRequest, serverCertRequest } from '../../src/domain/master-certs.js';
import { ensureCA, issueWithCA } from '../../src/pki/certs.js';

describe('issueWithCA', () => {
  it("signs a peer certificate naming the new replica with the cluster's CA, as kube-up's peer profile", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-ha-ca-'));
    try {
      const { caFile, caKey } = await ensureCA(dir);
      const ca = { certPem: readFileSync(caFile, 'utf8'), keyPem: readFileSync(caKey, 'utf8') };
      const got = await issueWithCA(ca, peerCertRequest('kubernetes-master-x7k'));
      const cert = new X509Certificate(got.certPem);
      const caCert = new X509Certificate(ca.certPem);
      expect(cert.checkIssued(caCert)).toBe(true);
      expect(cert.verify(caCert.publicKey)).toBe(true);
      // kube-up: DNS:<instance>, IP:127.0.0.1, no VM IP; CN the instance.
      expect(cert.subjectAltName).toBe('IP Address:127.0.0.1, DNS:kubernetes-master-x7k');
      expect(cert.subject).toContain('CN=kubernetes-master-x7k');
      expect(cert.toLegacyObject().ext_key_usage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
      const server = new X509Certificate(
        (await issueWithCA(ca, serverCertRequest('kubernetes-master-x7k'))).certPem,
      );
      expect(server.subjectAltName).toBe('IP Address:127.0.0.1, DNS:etcd-kubernetes-master-x7k');
      expect(server.toLegacyObject().ext_key_usage).toEqual(['1.3.6.1.5.5.7.3.1']);
      const client = new X509Certificate((await issueWithCA(ca, clientCertRequest())).certPem);
      expect(client.subject).toContain('CN=client');
      expect(client.toLegacyObject().ext_key_usage).toEqual(['1.3.6.1.5.5.7.3.2']);
      expect(
        cert.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(got.keyPem))),
      ).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
