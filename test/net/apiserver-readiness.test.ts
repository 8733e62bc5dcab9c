// The readiness probe against the lab's simulated kube-apiserver on a real etcd
// member: ready, alive but not ready (a graceful termination's shutdown check),
// not ready because etcd is gone; an apiserver without /readyz (before 1.16)
// probed at /healthz instead; a closed port.
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedApiserver } from '../../src/lab/components/apiserver.js';
import { stopEtcd } from '../../src/lab/etcd-process.js';
import { listenExclusive } from '../../src/lab/loopback.js';
import { apiserverURL, failedChecks, probeApiserver, probeApiservers } from '../../src/net/apiserver.js';
import { createEtcdClient } from '../../src/net/etcd-client.js';
import { issueCert } from '../../src/pki/certs.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';

const PORT = 6443;
let cluster: TestCluster;
let etcd: Etcd3;
let api: SimulatedApiserver;
let old: Server;
let apiIP: string;
let oldIP: string;
let closedIP: string;

function get(ip: string, path: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: ip, port: PORT, path, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += String(c);
      });
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    });
    req.on('error', (err) => resolve(`error ${err.message}`));
    req.end();
  });
}

const probe = (ip: string) => probeApiserver(ip, apiserverURL(ip, PORT), { timeoutMs: 2000 });

describe('kube-apiserver readiness: /readyz, its failed checks, the /healthz fallback', () => {
  beforeAll(async () => {
    cluster = await startTestCluster(1);
    const n = cluster.block.n;
    [apiIP, oldIP, closedIP] = [`127.${n}.2.1`, `127.${n}.2.2`, `127.${n}.2.3`];
    const tls = await issueCert(cluster.dir, 'apiserver', { ips: [apiIP, oldIP] });
    etcd = createEtcdClient(cluster.endpoints, { tls: null, timeoutMs: 1000 });
    // The check result is cached 250 ms by default: none here, so each step is seen at once.
    api = new SimulatedApiserver({ name: 'vm', ip: apiIP, port: PORT, tls, etcd, cacheMs: 0 });
    await api.start();
    // An apiserver older than 1.16: /healthz only.
    old = createServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, (req, res) => {
      res.writeHead(req.url === '/healthz' ? 200 : 404);
      res.end(req.url === '/healthz' ? 'ok' : '404 page not found');
    });
    await listenExclusive(old, oldIP, PORT);
  }, 30_000);

  afterAll(async () => {
    await api?.close();
    old?.close();
    etcd?.close();
    await cluster?.stop();
  });

  it('ready: /readyz, /livez and /healthz answer ok', async () => {
    expect(await probe(apiIP)).toEqual({
      host: apiIP,
      url: `https://${apiIP}:${PORT}/readyz`,
      healthy: true,
      answered: true,
      error: null,
      failedChecks: [],
    });
    expect(await get(apiIP, '/livez')).toBe('200 ok');
    expect(await get(apiIP, '/healthz')).toBe('200 ok');
  });

  it('alive but not ready: /readyz fails its shutdown check as the real one does, /livez stays ok; ready again', async () => {
    api.setReady(false);
    expect(await get(apiIP, '/readyz')).toBe(
      '500 [+]ping ok\n[+]log ok\n[+]etcd ok\n[+]etcd-readiness ok\n[-]shutdown failed: reason withheld\nreadyz check failed\n',
    );
    expect(await get(apiIP, '/livez')).toBe('200 ok');
    expect(await probe(apiIP)).toMatchObject({
      healthy: false,
      answered: true,
      error: 'HTTP 500: shutdown failed',
      failedChecks: ['shutdown'],
    });
    api.setReady(true);
    expect(await probe(apiIP)).toMatchObject({ healthy: true, failedChecks: [] });
  });

  it('an apiserver without /readyz (404) is asked /healthz; a closed port is not answering', async () => {
    expect(await probe(oldIP)).toMatchObject({
      url: `https://${oldIP}:${PORT}/healthz`,
      healthy: true,
      answered: true,
    });
    expect(await probe(closedIP)).toMatchObject({
      url: `https://${closedIP}:${PORT}/readyz`,
      healthy: false,
      answered: false,
      error: 'connection refused',
    });
  });

  it("the console's probes keep their connection (not the load balancer's), and see a restarted or stopped apiserver", async () => {
    const n = cluster.block.n;
    const [ip, lbIP] = [`127.${n}.2.4`, `127.${n}.2.5`];
    const tls = await issueCert(cluster.dir, 'apiserver-kept', { ips: [ip, lbIP] });
    const connections: Record<string, number> = { [ip]: 0, [lbIP]: 0 };
    const servers = [ip, lbIP].map((host) => {
      const s = createServer(
        { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) },
        (_req, res) => res.end('ok'),
      );
      s.on('secureConnection', () => {
        connections[host]!++;
      });
      return s;
    });
    await listenExclusive(servers[0]!, ip, PORT);
    await listenExclusive(servers[1]!, lbIP, PORT);
    try {
      const round = () =>
        probeApiservers([ip, lbIP], PORT, { timeoutMs: 2000, keepAlive: true, fresh: [lbIP] });
      for (let i = 0; i < 3; i++) expect((await round()).map((p) => p.healthy)).toEqual([true, true]);
      expect(connections).toEqual({ [ip]: 1, [lbIP]: 3 });
      // The server drops its idle connections (a restart, its keep-alive timeout): still ready, on a new one.
      servers[0]!.closeIdleConnections();
      expect((await round()).map((p) => p.healthy)).toEqual([true, true]);
      expect(connections[ip]).toBe(2);
      // Gone: not answering, however the last probe went.
      await new Promise<void>((r) => {
        servers[0]!.close(() => r());
        servers[0]!.closeAllConnections();
      });
      expect((await round())[0]).toMatchObject({
        healthy: false,
        answered: false,
        error: 'connection refused',
      });
    } finally {
      for (const s of servers) {
        s.closeAllConnections();
        s.close();
      }
    }
  });

  it('its etcd gone: /readyz and /livez fail the etcd check, listed by name', async () => {
    await stopEtcd(cluster.members[0]!);
    const body = await get(apiIP, '/livez');
    expect(body).toMatch(
      /^500 \[\+\]ping ok\n\[\+\]log ok\n\[-\]etcd failed: reason withheld\nlivez check failed\n$/,
    );
    expect(failedChecks(body.slice(4))).toEqual(['etcd']);
    expect(await probe(apiIP)).toMatchObject({
      healthy: false,
      answered: true,
      error: 'HTTP 500: etcd failed, etcd-readiness failed',
      failedChecks: ['etcd', 'etcd-readiness'],
    });
  });
});
