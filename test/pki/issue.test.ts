import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureCA, issueWithCA } from '../../src/pki/certs.js';

describe('issueWithCA', () => {
  it("signs a peer certificate naming the new replica with the cluster's CA", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-ha-ca-'));
    try {
      const { caFile, caKey } = await ensureCA(dir);
      const ca = { certPem: readFileSync(caFile, 'utf8'), keyPem: readFileSync(caKey, 'utf8') };
      const got = await issueWithCA(ca, 'etcd-kubernetes-master-x7k', {
        ips: ['10.0.0.7', '127.0.0.1'],
        dns: ['kubernetes-master-x7k', 'localhost'],
      });
      const cert = new X509Certificate(got.certPem);
      const caCert = new X509Certificate(ca.certPem);
      expect(cert.checkIssued(caCert)).toBe(true);
      expect(cert.verify(caCert.publicKey)).toBe(true);
      expect(cert.subjectAltName).toBe(
        'IP Address:10.0.0.7, IP Address:127.0.0.1, DNS:kubernetes-master-x7k, DNS:localhost',
      );
      expect(
        cert.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(got.keyPem))),
      ).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
