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
import { apiserverURL, failedChecks, probeApiserver } from '../../src/net/apiserver.js';
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
