// The lab's load balancer as a GCE target pool, through the real Compute
// client: which member a connection to the forwarding rule's IP reaches, and
// what targetPools.getHealth reports, with no health check, with an HTTP check
// on the port where the "apiserver" speaks only TLS, and with an HTTP check on a
// port where a plain HTTP server answers. The members are stand-ins on their
// loopback IPs: a TLS server on the apiserver port that answers with its
// instance's name, so the answer says which backend took the connection.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { waitForOperation } from '../../src/gce/operations.js';
import { AddressPool } from '../../src/lab/addresses.js';
import type { HttpHealthCheckResource, InstanceResource } from '../../src/lab/compute/index.js';
import { LabLoadBalancers } from '../../src/lab/lb-proxy.js';
import { canListen, claimLoopbackBlock, type LoopbackBlock } from '../../src/lab/loopback.js';
import { FAST, instanceBody, type Lab, PROJECT, Recorder, startLab } from './compute/harness.js';

const REGION = 'us-central1';
const P = `projects/${PROJECT}`;
const MEMBERS = [
  { name: 'kubernetes-master', zone: 'us-central1-b' },
  { name: 'kubernetes-master-x7k', zone: 'us-central1-c' },
  { name: 'kubernetes-master-q2p', zone: 'us-central1-f' },
];
const [A, B, C] = MEMBERS as [(typeof MEMBERS)[0], (typeof MEMBERS)[0], (typeof MEMBERS)[0]];
const url = (m: { name: string; zone: string }) => `${P}/zones/${m.zone}/instances/${m.name}`;
/** The plain HTTP port the health-check tests serve on. */
const HTTP_PORT = 8080;

let block: LoopbackBlock;
let lab: Lab;
let lbs: LabLoadBalancers;
let port: number;
let pkiDir: string;
const ips = new Map<string, string>();
const servers: { close(cb: () => void): unknown; closeAllConnections?(): void }[] = [];

const done = (r: [unknown, ...unknown[]]) =>
  waitForOperation(lab.clients, r[0] as { latestResponse?: unknown }, { deadlineMs: 10_000 });

/** A GET through the forwarding rule's IP: the name of the member that answered, or the error. */
function through(ip: string): Promise<string> {
  return new Promise((resolve) => {
    const req = httpsRequest(
      { host: ip, port, path: '/', rejectUnauthorized: false, agent: false, timeout: 3000 },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve(body));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve(`error: ${err.message}`));
    req.end();
  });
}

async function answersThrough(ip: string, n = 6): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await through(ip));
  return out;
}

async function health(pool: string, m: { name: string; zone: string }): Promise<string[]> {
  const [r] = await lab.clients.targetPools.getHealth({
    project: PROJECT,
    region: REGION,
    targetPool: pool,
    instanceReferenceResource: { instance: url(m) },
  });
  return (r.healthStatus ?? []).map((h) => h.healthState ?? '?');
}

/** A static address, a pool of `members` (with `check` if given) and a forwarding rule on 443: the rule's IP. */
async function loadBalancer(
  name: string,
  members: { name: string; zone: string }[],
  check?: string,
): Promise<string> {
  const c = lab.clients;
  await done(await c.addresses.insert({ project: PROJECT, region: REGION, addressResource: { name } }));
  const [address] = await c.addresses.get({ project: PROJECT, region: REGION, address: name });
  await done(
    await c.targetPools.insert({
      project: PROJECT,
      region: REGION,
      targetPoolResource: {
        name,
        instances: members.map(url),
        ...(check ? { healthChecks: [`${P}/global/httpHealthChecks/${check}`] } : {}),
      },
    }),
  );
  await done(
    await c.forwardingRules.insert({
      project: PROJECT,
      region: REGION,
      forwardingRuleResource: {
        name,
        IPAddress: address.address ?? '',
        IPProtocol: 'TCP',
        portRange: '443',
        target: `${P}/regions/${REGION}/targetPools/${name}`,
      },
    }),
  );
  await lbs.reconcile();
  return address.address ?? '';
}

async function httpCheck(name: string, checkPort: number, thresholds = { healthy: 1, unhealthy: 1 }) {
  await done(
    await lab.clients.httpHealthChecks.insert({
      project: PROJECT,
      httpHealthCheckResource: {
        name,
        port: checkPort,
        requestPath: '/healthz',
        checkIntervalSec: 1,
        timeoutSec: 1,
        healthyThreshold: thresholds.healthy,
        unhealthyThreshold: thresholds.unhealthy,
      },
    }),
  );
}

beforeAll(async () => {
  block = await claimLoopbackBlock();
  const addresses = new AddressPool(block.n, null);
  // kube-apiserver's port, chosen as the lab chooses it: 443 when it can be bound.
  port = (await canListen(block.controlIP, 443)) ? 443 : 6443;
  const rec = new Recorder();
  lab = await startLab(
    {
      timing: { ...FAST, lbReadyDelayMs: 200 },
      hooks: {
        ...rec.hooks(),
        allocateIP: (kind) => addresses.allocate(kind),
        releaseIP: (ip) => addresses.release(ip),
        onChange: () => void lbs?.reconcile(),
        checkHealth: async ({ instance, healthCheck }) =>
          lbs.memberHealthy(instance.networkInterfaces[0]?.networkIP, healthCheck),
      },
    },
    rec,
  );
  lbs = new LabLoadBalancers({ compute: lab.service, port: () => port, tickMs: 50 });
  lbs.start();

  pkiDir = mkdtempSync(join(tmpdir(), 'kube-ha-lb-test-'));
  const key = join(pkiDir, 'key.pem');
  const cert = join(pkiDir, 'cert.pem');
  execFileSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-subj',
    '/CN=kubernetes-master',
    '-days',
    '1',
  ]);
  const tls = { key: readFileSync(key), cert: readFileSync(cert) };

  for (const m of MEMBERS) {
    await done(
      await lab.clients.instances.insert({
        project: PROJECT,
        zone: m.zone,
        instanceResource: instanceBody(m.zone, m.name),
      }),
    );
    const [inst] = await lab.clients.instances.get({ project: PROJECT, zone: m.zone, instance: m.name });
    expect(inst.status).toBe('RUNNING');
    const ip = (inst as unknown as InstanceResource).networkInterfaces[0]?.networkIP ?? '';
    ips.set(m.name, ip);
    // The member's "kube-apiserver": TLS only on its port, answering with the instance's name.
    const s = createHttpsServer(tls, (_req, res) => res.end(m.name));
    await new Promise<void>((r) => s.listen(port, ip, r));
    servers.push(s);
  }
});

afterAll(async () => {
  await lbs?.stop();
  for (const s of servers) {
    s.closeAllConnections?.();
    await new Promise<void>((r) => s.close(() => r()));
  }
  await lab?.close();
  await new Promise<void>((r) => block?.server.close(() => r()));
  if (pkiDir) rmSync(pkiDir, { recursive: true, force: true });
});

describe('the lab load balancer, as a GCE target pool', () => {
  it('with no health check: every RUNNING member is HEALTHY and takes connections; one being deleted does not', async () => {
    const ip = await loadBalancer('no-check', [A, B, C]);
    await vi.waitFor(
      async () => {
        for (const m of [A, B, C]) expect(await health('no-check', m)).toEqual(['HEALTHY']);
      },
      { timeout: 5000, interval: 100 },
    );
    // Round robin over the members: six connections reach all three.
    expect(new Set(await answersThrough(ip))).toEqual(new Set([A.name, B.name, C.name]));

    // C is being deleted and stays STOPPING (its VM takes its time to stop) while its stand-in
    // server still listens: it is no longer RUNNING, so it gets no traffic and is UNHEALTHY.
    lab.rec.hangStop = true;
    void lab.clients.instances.delete({ project: PROJECT, zone: C.zone, instance: C.name }).catch(() => {});
    await vi.waitFor(() => expect(lab.service.loadBalancer(ip)?.members[2]?.status).toBe('STOPPING'), {
      timeout: 5000,
      interval: 20,
    });
    expect(await health('no-check', C)).toEqual(['UNHEALTHY']);
    expect(new Set(await answersThrough(ip))).toEqual(new Set([A.name, B.name]));
  });

  it('with an HTTP health check on the TLS port: every member UNHEALTHY (no traffic chosen by health: all, force mode)', async () => {
    await httpCheck('http-on-tls-port', port);
    const ip = await loadBalancer('checked-tls-port', [A, B], 'http-on-tls-port');
    const [got] = await lab.clients.httpHealthChecks.get({
      project: PROJECT,
      httpHealthCheck: 'http-on-tls-port',
    });
    const check = { selfLink: got.selfLink } as HttpHealthCheckResource;
    // Probed, and failed: plain HTTP to a TLS server gets no HTTP 200.
    await vi.waitFor(
      () => {
        for (const m of [A, B]) {
          const err = lbs.prober.lastError(ips.get(m.name) ?? '', check);
          expect(err).toBeTruthy();
          expect(err).not.toBe('not probed yet');
        }
      },
      { timeout: 5000, interval: 100 },
    );
    // Several intervals later, still unhealthy (a healthyThreshold of 1 would have turned a pass healthy).
    await new Promise((r) => setTimeout(r, 2500));
    expect(await health('checked-tls-port', A)).toEqual(['UNHEALTHY']);
    expect(await health('checked-tls-port', B)).toEqual(['UNHEALTHY']);
    // GCE's target pool with no backup pool and no healthy member ("force" mode): traffic goes to all.
    expect(new Set(await answersThrough(ip))).toEqual(new Set([A.name, B.name]));
  });

  it('with an HTTP health check where a plain HTTP server answers: thresholds, Host header, traffic to the healthy', async () => {
    // A's check port answers 200 (until told otherwise), B's 503: each records what it was asked.
    const asked: Record<string, { host: string | undefined; path: string | undefined; code: number }[]> = {
      [A.name]: [],
      [B.name]: [],
    };
    const code: Record<string, number> = { [A.name]: 200, [B.name]: 503 };
    for (const m of [A, B]) {
      const s: HttpServer = createHttpServer((req, res) => {
        asked[m.name]?.push({ host: req.headers.host, path: req.url, code: code[m.name] ?? 500 });
        res.statusCode = code[m.name] ?? 500;
        res.end('ok');
      });
      await new Promise<void>((r) => s.listen(HTTP_PORT, ips.get(m.name), r));
      servers.push(s);
    }
    await httpCheck('plain-http', HTTP_PORT, { healthy: 3, unhealthy: 2 });
    const ip = await loadBalancer('checked-http', [A, B], 'plain-http');

    // HEALTHY only after healthyThreshold (3) passes in a row.
    await vi.waitFor(async () => expect(await health('checked-http', A)).toEqual(['HEALTHY']), {
      timeout: 10_000,
      interval: 50,
    });
    expect(asked[A.name]?.length).toBeGreaterThanOrEqual(3);
    expect(await health('checked-http', B)).toEqual(['UNHEALTHY']);
    expect(asked[B.name]?.length).toBeGreaterThanOrEqual(2);
    // GCE's probe: GET of the requestPath, Host the forwarding rule's IP when the check names no host.
    expect(asked[A.name]?.[0]).toMatchObject({ host: ip, path: '/healthz' });
    // Only the healthy member takes connections.
    expect(await answersThrough(ip)).toEqual(Array(6).fill(A.name));

    // A starts failing: UNHEALTHY only after unhealthyThreshold (2) failures in a row.
    code[A.name] = 500;
    const before = asked[A.name]?.length ?? 0;
    await vi.waitFor(async () => expect(await health('checked-http', A)).toEqual(['UNHEALTHY']), {
      timeout: 10_000,
      interval: 50,
    });
    const failures = (asked[A.name] ?? []).slice(before).filter((a) => a.code === 500).length;
    expect(failures).toBeGreaterThanOrEqual(2);
    // No member healthy now: force mode, both take connections again.
    expect(new Set(await answersThrough(ip))).toEqual(new Set([A.name, B.name]));
  }, 40_000);
});
