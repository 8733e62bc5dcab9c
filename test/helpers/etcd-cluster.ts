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

export async function startTestCluster(size = 1): Promise<TestCluster> {
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
  }));
  const initialCluster = specs.map((s) => `${s.name}=http://${s.ip}:${s.peerPort}`).join(',');
  const members = specs.map((s) => startEtcd({ ...s, initialCluster }));
  const endpoints = specs.map((s) => clientURL(s));
  await Promise.all(endpoints.map((e) => waitForHealth(e)));
  return {
    endpoints,
    members,
    dir,
    block,
    async stop() {
      await Promise.all(members.map((m) => stopEtcd(m)));
      block.server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
