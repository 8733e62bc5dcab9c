// Starts a plain (no TLS) etcd cluster of real Debian etcd processes for tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientURL, type RunningEtcd, startEtcd, stopEtcd } from '../../src/lab/etcd-process.js';
import { claimLoopbackBlock, type LoopbackBlock } from '../../src/lab/loopback.js';

export interface TestCluster {
  endpoints: string[];
  members: RunningEtcd[];
  dir: string;
  block: LoopbackBlock;
  stop(): Promise<void>;
}

export async function waitForHealth(endpoint: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { health?: string };
      if (body.health === 'true') return;
      last = JSON.stringify(body);
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`etcd at ${endpoint} not healthy after ${timeoutMs} ms: ${last}`);
}

export interface TestClusterOptions {
  /** --quota-backend-bytes (etcd's default, 2 GiB, when unset): a tiny one trips NOSPACE fast. */
  quotaBackendBytes?: number;
  /** How long the members have to report healthy (20 s). */
  healthTimeoutMs?: number;
}

export async function startTestCluster(size = 1, opts: TestClusterOptions = {}): Promise<TestCluster> {
  const block = await claimLoopbackBlock();
  const dir = mkdtempSync(join(tmpdir(), 'kube-ha-etcd-'));
  const specs = Array.from({ length: size }, (_, i) => ({
    name: `m${i}`,
    dataDir: join(dir, `m${i}`),
    ip: `127.${block.n}.1.${i + 1}`,
    clientPort: 2379,
    peerPort: 2380,
    initialCluster: '',
    initialClusterState: 'new' as const,
    initialClusterToken: `test-${block.n}`,
    // Short timings, asked for by the tests (the lab runs etcd's defaults, as kube-up).
    heartbeatMs: 50,
    electionMs: 250,
    ...(opts.quotaBackendBytes ? { quotaBackendBytes: opts.quotaBackendBytes } : {}),
  }));
  const initialCluster = specs.map((s) => `${s.name}=http://${s.ip}:${s.peerPort}`).join(',');
  const members = specs.map((s) => startEtcd({ ...s, initialCluster }));
  const endpoints = specs.map((s) => clientURL(s));
  const stop = async () => {
    await Promise.all(members.map((m) => stopEtcd(m)));
    block.server.close();
    rmSync(dir, { recursive: true, force: true });
  };
  // A cluster that never became healthy is stopped here: nobody else holds it to stop.
  try {
    await Promise.all(endpoints.map((e) => waitForHealth(e, opts.healthTimeoutMs)));
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message} (its cluster in ${dir} was stopped and removed)`);
  }
  return { endpoints, members, dir, block, stop };
}

export interface KubeUpCluster extends TestCluster {
  /** Instance name -> its IP (the names the members' peer URLs use). */
  hosts: Map<string, string>;
  tls: { caFile: string; certFile: string; keyFile: string };
}

/**
 * etcd main as kube-up starts it on each master (prepare-etcd-manifest), one
 * member per "instance" on its own loopback address: name `etcd-<instance>`,
 * peer URL `https://<instance>:2380` (resolved through a private hosts file),
 * client URL advertised as `https://127.0.0.1:2379`, client mTLS with the
 * server certificate kube-up issues (SANs `etcd-<instance>` and 127.0.0.1),
 * peer certificates naming the instance and 127.0.0.1.
 */
export async function startKubeUpCluster(size = 3): Promise<KubeUpCluster> {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const { ensureCA, issueCert, issueWithCA } = await import('../../src/pki/certs.js');
  const { peerCertRequest, serverCertRequest } = await import('../../src/domain/master-certs.js');
  const block = await claimLoopbackBlock();
  const dir = mkdtempSync(join(tmpdir(), 'kube-ha-kubeup-'));
  const { caFile, caKey } = await ensureCA(join(dir, 'pki'));
  const ca = { certPem: readFileSync(caFile, 'utf8'), keyPem: readFileSync(caKey, 'utf8') };
  const names = Array.from({ length: size }, (_, i) =>
    i === 0 ? 'kubernetes-master' : `kubernetes-master-a${i}x`,
  );
  const hosts = new Map(names.map((n, i) => [n, `127.${block.n}.1.${i + 1}`]));
  const hostsFile = join(dir, 'hosts');
  writeFileSync(
    hostsFile,
    ['127.0.0.1 localhost', ...[...hosts].map(([n, ip]) => `${ip} ${n}`)].join('\n') + '\n',
  );
  const write = (name: string, pem: { certPem: string; keyPem: string }) => {
    writeFileSync(join(dir, `${name}.crt`), pem.certPem);
    writeFileSync(join(dir, `${name}.key`), pem.keyPem, { mode: 0o600 });
    return { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`), caFile };
  };
  const specs = await Promise.all(
    names.map(async (n) => ({
      name: `etcd-${n}`,
      dataDir: join(dir, n),
      ip: hosts.get(n)!,
      peerHost: n,
      advertiseClientHost: '127.0.0.1',
      clientPort: 2379,
      peerPort: 2380,
      initialCluster: names.map((h) => `etcd-${h}=https://${h}:2380`).join(','),
      initialClusterState: 'new' as const,
      peerTls: write(`${n}-peer`, await issueWithCA(ca, peerCertRequest(n))),
      clientTls: write(`${n}-server`, await issueWithCA(ca, serverCertRequest(n))),
      hostsFile,
    })),
  );
  const client = await issueCert(join(dir, 'pki'), 'client', { clientOnly: true, cn: 'client' });
  const members = specs.map((s) => startEtcd(s));
  const endpoints = specs.map((s) => clientURL(s));
  const cluster: KubeUpCluster = {
    endpoints,
    members,
    dir,
    block,
    hosts,
    tls: { caFile, certFile: client.certFile, keyFile: client.keyFile },
    async stop() {
      await Promise.all(members.map((m) => stopEtcd(m)));
      block.server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}
