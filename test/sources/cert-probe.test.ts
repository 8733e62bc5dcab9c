// The serving certificate and its CA read from a real TLS handshake (as a
// member's client endpoint answers), then judged: a CA 20 days from expiry is
// a warning, a member certificate 5 days from it an error (issue 15).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildStatus } from '../../src/domain/status.js';
import type { ServingCert } from '../../src/domain/types.js';
import { readServingCert } from '../../src/sources/cert-probe.js';
import { learnServerName, MemberClients } from '../../src/sources/member-clients.js';
import { etcd, healthy } from '../helpers/observations.js';

const DAY = 86_400_000;

describe('serving certificate expiry, read in a TLS handshake', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kube-ha-certs-'));
  const f = (n: string) => join(dir, n);
  let server: Server;
  let endpoint: string;

  beforeAll(async () => {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.crt'),
      '-days',
      '20',
      '-subj',
      '/CN=etcd-ca',
    );
    const leaf = (name: string, days: number, usage: string) => {
      writeFileSync(
        f(`${name}.ext`),
        `basicConstraints=CA:FALSE\nextendedKeyUsage=${usage}\nsubjectAltName=DNS:etcd-kubernetes-master,IP:127.0.0.1\n`,
      );
      ssl(
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        f(`${name}.key`),
        '-out',
        f(`${name}.csr`),
        '-subj',
        `/CN=${name}`,
      );
      ssl(
        'x509',
        '-req',
        '-in',
        f(`${name}.csr`),
        '-CA',
        f('ca.crt'),
        '-CAkey',
        f('ca.key'),
        '-set_serial',
        '0x1234',
        '-days',
        String(days),
        '-extfile',
        f(`${name}.ext`),
        '-out',
        f(`${name}.crt`),
      );
    };
    leaf('etcd-kubernetes-master', 5, 'serverAuth');
    leaf('client', 20, 'clientAuth');
    server = createServer({
      key: readFileSync(f('etcd-kubernetes-master.key')),
      cert: readFileSync(f('etcd-kubernetes-master.crt')),
      ca: readFileSync(f('ca.crt')),
      requestCert: true,
      rejectUnauthorized: true,
    });
    server.on('secureConnection', (s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  /** Counts the server's connections (a handshake each) until stop(). */
  const countConnections = () => {
    const c = {
      seen: 0,
      stop: () => server.off('connection', count),
    };
    const count = () => {
      c.seen++;
    };
    server.on('connection', count);
    return c;
  };
  afterAll(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads notAfter of the member certificate and of its CA; 5 days is an error, the CA at 20 days a warning', async () => {
    const tls = { caFile: f('ca.crt'), certFile: f('client.crt'), keyFile: f('client.key') };
    const cert = await readServingCert(endpoint, tls, 3000);
    expect(cert.subject).toBe('CN=etcd-kubernetes-master');
    expect(cert.caSubject).toBe('CN=etcd-ca');
    const now = Date.now();
    expect(Date.parse(cert.notAfter) - now).toBeGreaterThan(4.9 * DAY);
    expect(Date.parse(cert.notAfter) - now).toBeLessThan(5.1 * DAY);
    expect(Date.parse(cert.caNotAfter!) - now).toBeGreaterThan(19.9 * DAY);

    const obs = healthy();
    const main = etcd('main', 3);
    main.statuses = main.statuses.map((s, i) => (i === 0 ? { ...s, cert } : s));
    const w = buildStatus({ ...obs, etcd: { ...obs.etcd, main } }).warnings.filter(
      (x) => x.code === 'ETCD_CERT_EXPIRY',
    );
    expect(w.map((x) => [x.severity, x.replica ?? 'CA'])).toEqual([
      ['error', 'kubernetes-master'],
      ['warning', 'CA'],
    ]);
    expect(w[0]!.message).toContain('(in 4 days)');
  });

  it("the member client's name lookup reads the certificate in the same handshake (issue 12)", async () => {
    const tls = { caFile: f('ca.crt'), certFile: f('client.crt'), keyFile: f('client.key') };
    const connections = countConnections();
    try {
      const certs: ServingCert[] = [];
      // The address dialled is in the certificate (IP:127.0.0.1): no name to override with.
      expect(await learnServerName(endpoint, tls, 3000, (c) => certs.push(c))).toBeNull();
      expect(certs).toEqual([await readServingCert(endpoint, tls, 3000)]);
      expect(certs[0]!.subject).toBe('CN=etcd-kubernetes-master');
      // One connection each (the server may count one just after the client is done): two, not three.
      await vi.waitFor(() => expect(connections.seen).toBe(2), { timeout: 2000 });
      await new Promise((r) => setTimeout(r, 100));
      expect(connections.seen).toBe(2);
    } finally {
      connections.stop();
    }
  });

  it('callers asking for one member at once share one name lookup (issue 12)', async () => {
    const tls = { caFile: f('ca.crt'), certFile: f('client.crt'), keyFile: f('client.key') };
    const connections = countConnections();
    const clients = new MemberClients({ tls, timeoutMs: 3000 });
    try {
      // A first look asks for the member list, a Status and the leases at once.
      const [a, b, c] = await Promise.all([
        clients.get(endpoint),
        clients.get(endpoint),
        clients.get(endpoint),
      ]);
      expect(b).toBe(a);
      expect(c).toBe(a);
      await new Promise((r) => setTimeout(r, 100));
      expect(connections.seen).toBe(1);
      // Known now: no lookup at all.
      expect(await clients.get(endpoint)).toBe(a);
      // A failed call forgets the name, even one being learned: the next caller learns anew.
      clients.forget(endpoint);
      const again = clients.get(endpoint);
      clients.forget(endpoint);
      const d = await clients.get(endpoint);
      expect(d).not.toBe(a);
      await again.then((x) => x.close());
      await vi.waitFor(() => expect(connections.seen).toBe(3), { timeout: 2000 });
    } finally {
      clients.close();
      connections.stop();
    }
  });

  it('a handshake the CA does not verify is refused, within its deadline', async () => {
    const wrong = { caFile: f('client.crt'), certFile: f('client.crt'), keyFile: f('client.key') };
    await expect(readServingCert(endpoint, wrong, 3000)).rejects.toThrow();
    await expect(readServingCert('https://127.255.255.254:9', wrong, 300)).rejects.toThrow();
  });
});
