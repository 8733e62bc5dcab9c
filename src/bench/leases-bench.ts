// Leases at scale: a status poll costs the same with 10,000 node heartbeat
// leases in etcd as with none, because the leader leases are read by exact
// key, never by a range over /registry/leases/. Measured against one real
// etcd member: the in-process poll (what the console and `status` do), the
// lease read alone, `kube-ha status --json` end to end, and, for contrast, the
// range read that is avoided.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStatus } from '../domain/status.js';
import { seedNodeLeases } from '../lab/components/leader-elector.js';
import { clientURL, startEtcd, stopEtcd } from '../lab/etcd-process.js';
import { claimLoopbackBlock } from '../lab/loopback.js';
import { createEtcdClient } from '../sources/etcd-client.js';
import { benchReadLeaderRecords } from '../sources/leases.js';
import { Observer } from '../sources/observe.js';
import type { Target } from '../sources/target.js';
import { fmt, repeat, timeCommand } from './measure.js';

const BIN = fileURLToPath(new URL('../../bin/kube-ha.js', import.meta.url));
const NODE_LEASES = 10_000;

async function waitHealthy(endpoint: string): Promise<void> {
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    try {
      const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
      if (((await res.json()) as { health?: string }).health === 'true') return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`etcd at ${endpoint} did not become healthy`);
}

export async function benchLeases(runs = 9): Promise<string[]> {
  const block = await claimLoopbackBlock();
  const dir = mkdtempSync(join(tmpdir(), 'kube-ha-bench-leases-'));
  const spec = {
    name: 'bench',
    dataDir: join(dir, 'etcd'),
    ip: `127.${block.n}.1.1`,
    clientPort: 2379,
    peerPort: 2380,
    initialCluster: `bench=http://127.${block.n}.1.1:2380`,
    initialClusterState: 'new' as const,
  };
  const etcd = startEtcd(spec);
  const endpoint = clientURL(spec);
  const client = createEtcdClient(endpoint, { tls: null, timeoutMs: 10_000 });
  const target: Target = {
    project: null,
    region: null,
    masterName: 'kubernetes-master',
    compute: null,
    etcd: { main: { endpoints: [endpoint], tls: null }, events: null },
    etcdPrefix: '/registry',
    apiserverPort: 443,
    lab: null,
    stateDir: dir,
    callTimeoutMs: 1500,
  };
  const observer = new Observer(target, null);
  const lines: string[] = [];
  try {
    await waitHealthy(endpoint);
    const measure = async (label: string) => {
      const poll = await repeat(runs * 5, async () => {
        const t0 = performance.now();
        const s = buildStatus(await observer.observeAll({ leases: true, apiservers: true }));
        if (!s.leases) throw new Error('no leases in the status');
        return performance.now() - t0;
      });
      const read = await benchReadLeaderRecords(client, { iterations: 200 });
      const cli = await repeat(runs, async () => {
        const r = await timeCommand(process.execPath, [
          BIN,
          'status',
          '--json',
          '--etcd-endpoints',
          endpoint,
        ]);
        if (!r.stdout.includes('"leases"')) throw new Error('status printed no leases');
        return r.ms;
      });
      const range = await repeat(runs, async () => {
        const t0 = performance.now();
        await client.getAll().prefix('/registry/leases/').keys();
        return performance.now() - t0;
      });
      lines.push(`${label}: status poll in-process (etcd main + leases + apiserver probe): ${fmt(poll)}`);
      lines.push(
        `${label}: leader-lease read alone (9 exact keys, one txn): median ${read.medianMs.toFixed(2)} ms (p95 ${read.p95Ms.toFixed(2)}, n=${read.iterations})`,
      );
      lines.push(`${label}: kube-ha status --json --etcd-endpoints (process start to exit): ${fmt(cli)}`);
      lines.push(`${label}: for contrast, a keys-only range over /registry/leases/ (avoided): ${fmt(range)}`);
      return { poll, read };
    };
    // Warm up (JIT, TLS-free connections) so that the first series is not the slow one.
    for (let i = 0; i < 30; i++) buildStatus(await observer.observeAll({ leases: true, apiservers: true }));
    await benchReadLeaderRecords(client, { iterations: 50 });
    const none = await measure('0 node leases');
    const seedStart = performance.now();
    await seedNodeLeases(client, NODE_LEASES);
    const seeded = (performance.now() - seedStart) / 1000;
    const count = await client.getAll().prefix('/registry/leases/kube-node-lease/').count();
    lines.push(`seeded ${count} node heartbeat leases in ${seeded.toFixed(1)} s`);
    const many = await measure(`${count} node leases`);
    const ratio = many.poll.median / none.poll.median;
    lines.push(
      `status poll with ${count} node leases / with none: ${ratio.toFixed(2)}x (lease read ${(many.read.medianMs / none.read.medianMs).toFixed(2)}x)`,
    );
  } finally {
    await observer.close();
    client.close();
    await stopEtcd(etcd);
    block.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}
