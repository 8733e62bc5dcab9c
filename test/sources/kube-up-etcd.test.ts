// `kube-ha status --etcd-endpoints` against etcd started the way kube-up
// starts it: every member advertises its client URL as 127.0.0.1 and its peer
// URL by instance name, and its server certificate names `etcd-<instance>`
// and 127.0.0.1, never the address kube-ha dials. Every member must come out
// healthy, with the leader etcd itself reports. And etcd's own one-host layout
// (three members on one address, ports apart) is three members, not one.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterStatus } from '../../src/domain/types.js';
import { type RunningEtcd, startEtcd, stopEtcd } from '../../src/lab/etcd-process.js';
import { claimLoopbackBlock, type LoopbackBlock } from '../../src/lab/loopback.js';
import { EtcdOps } from '../../src/ops/etcd-ops.js';
import { eventually, runCli } from '../helpers/cli.js';
import { type KubeUpCluster, startKubeUpCluster, waitForHealth } from '../helpers/etcd-cluster.js';

/** etcdctl's view, as an operator on a replica would get it (the server name checked off, as `-k`). */
function etcdctlStatus(c: KubeUpCluster): {
  leader: string;
  members: { id: string; clientURLs: string[] }[];
} {
  const args = [
    '--endpoints',
    c.endpoints.join(','),
    '--cacert',
    c.tls.caFile,
    '--cert',
    c.tls.certFile,
    '--key',
    c.tls.keyFile,
    '--insecure-skip-tls-verify',
    '-w',
    'json',
  ];
  const env = { ...process.env, ETCDCTL_API: '3' };
  // uint64 IDs lose precision as JSON numbers: read them as strings.
  const json = (sub: string[]) =>
    JSON.parse(
      execFileSync('etcdctl', [...args, ...sub], { env, encoding: 'utf8' }).replace(
        /("(?:ID|leader|member_id|cluster_id)":)(\d+)/g,
        '$1"$2"',
      ),
    );
  const st = json(['endpoint', 'status']) as { Status: { leader: string } }[];
  const ml = json(['member', 'list']) as { members: { ID: string; clientURLs: string[] }[] };
  return {
    leader: BigInt(st[0]!.Status.leader).toString(16),
    members: ml.members.map((m) => ({ id: BigInt(m.ID).toString(16), clientURLs: m.clientURLs })),
  };
}

describe('status against etcd started with kube-up flags', () => {
  let c: KubeUpCluster;
  beforeAll(async () => {
    c = await startKubeUpCluster(3);
  });
  afterAll(async () => {
    await c?.stop();
  });

  it('operations from a bastion (no endpoints given) reach the members once the VMs are known (issue 10)', async () => {
    const ops = new EtcdOps('main', { endpoints: [], tls: c.tls }, 3000, () => {});
    try {
      // Nothing to ask before Compute has named the VMs.
      await expect(ops.members(true)).rejects.toThrow(/no etcd main endpoint answered/);
      for (const [name, ip] of c.hosts) ops.learnHost(name, ip);
      expect(ops.endpoints()).toEqual([...c.hosts.values()].map((ip) => `https://${ip}:2379`));
      // Right after the cluster starts, a member may not have a leader yet: asked until it does.
      const snap = await eventually(async () => {
        const s = await ops.snapshot(true);
        expect(s.statuses.size).toBe(3);
        return s;
      });
      expect(snap.members).toHaveLength(3);
      expect(snap.leader).not.toBeNull();
    } finally {
      ops.close();
    }
  });

  it('saves a snapshot etcdctl reads, verified by its SHA-256; a cancelled one leaves no file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-ha-snap-'));
    const ops = new EtcdOps('main', { endpoints: c.endpoints, tls: c.tls }, 3000, () => {});
    try {
      const client = await ops.client(c.endpoints[1]!);
      await client.put('/registry/kube-ha-test').value('x'.repeat(4096));
      const path = join(dir, 'op-1-main.db');
      const saved = await ops.saveSnapshot(path, c.endpoints[1]!, { deadlineMs: 30_000, idleMs: 10_000 });
      expect(saved.bytes).toBe(statSync(path).size);
      expect(saved.sha256).toMatch(/^[0-9a-f]{64}$/);
      const status = JSON.parse(
        execFileSync('etcdctl', ['snapshot', 'status', path, '-w', 'json'], {
          env: { ...process.env, ETCDCTL_API: '3' },
          encoding: 'utf8',
        }),
      ) as { revision: number; totalKey: number };
      expect(String(status.revision)).toBe(saved.revision);
      expect(status.totalKey).toBeGreaterThan(0);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      // Cancelled as the stream starts (the status before it is answered first).
      const cancel = new AbortController();
      const cancelled = ops.saveSnapshot(join(dir, 'op-2-main.db'), c.endpoints[1]!, {
        deadlineMs: 30_000,
        idleMs: 10_000,
        signal: cancel.signal,
      });
      cancel.abort();
      await expect(cancelled).rejects.toThrow(/cancelled/);
      expect(readdirSync(dir).sort()).toEqual(['op-1-main.db']);
    } finally {
      ops.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows every member healthy with its real leader, though each advertises 127.0.0.1', async () => {
    const truth = await eventually(async () => {
      const t = etcdctlStatus(c);
      return t.leader !== '0' ? t : null;
    });
    expect(truth.members.map((m) => m.clientURLs)).toEqual([
      ['https://127.0.0.1:2379'],
      ['https://127.0.0.1:2379'],
      ['https://127.0.0.1:2379'],
    ]);
    const res = await runCli([
      'status',
      '--etcd-endpoints',
      c.endpoints.join(','),
      '--cacert',
      c.tls.caFile,
      '--cert',
      c.tls.certFile,
      '--key',
      c.tls.keyFile,
      '--json',
    ]);
    const s = JSON.parse(res.stdout) as ClusterStatus;
    expect(s.etcd.main.members).toBe(3);
    expect(s.etcd.main.healthyMembers).toBe(3);
    const mains = s.replicas.map((r) => r.etcd.main);
    expect(mains.every((m) => m?.healthy)).toBe(true);
    expect(mains.find((m) => m?.leader)?.memberId).toBe(truth.leader);
    // One replica per instance name, each reached at its own address.
    expect(s.replicas.map((r) => r.name).sort()).toEqual([...c.hosts.keys()].sort());
    for (const r of s.replicas) expect(r.etcd.main?.endpoint).toBe(`https://${c.hosts.get(r.name)}:2379`);
  });
});

describe("status against etcd's one-host layout", () => {
  let block: LoopbackBlock;
  let dir: string;
  let members: RunningEtcd[] = [];
  let endpoints: string[];
  beforeAll(async () => {
    block = await claimLoopbackBlock();
    dir = mkdtempSync(join(tmpdir(), 'kube-ha-onehost-'));
    const ip = `127.${block.n}.1.1`;
    // etcd's Procfile: infra1..3 on one host, client 2379/22379/32379, peer 12380/22380/32380.
    const specs = [1, 2, 3].map((i) => ({
      name: `infra${i}`,
      dataDir: join(dir, `infra${i}`),
      ip,
      clientPort: i === 1 ? 2379 : i * 10000 + 2379,
      peerPort: i * 10000 + 2380,
      initialCluster: [1, 2, 3].map((j) => `infra${j}=http://${ip}:${j * 10000 + 2380}`).join(','),
      initialClusterState: 'new' as const,
      heartbeatMs: 50,
      electionMs: 250,
    }));
    members = specs.map((s) => startEtcd(s));
    endpoints = specs.map((s) => `http://${ip}:${s.clientPort}`);
    await Promise.all(endpoints.map((e) => waitForHealth(e)));
  });
  afterAll(async () => {
    await Promise.all(members.map((m) => stopEtcd(m)));
    block?.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts three members on one address as three, with a leader', async () => {
    const s = await eventually(async () => {
      const res = await runCli(['status', '--etcd-endpoints', endpoints.join(','), '--json']);
      const j = JSON.parse(res.stdout) as ClusterStatus;
      return j.etcd.main.healthyMembers === 3 ? j : null;
    });
    expect(s.etcd.main.members).toBe(3);
    expect(s.replicas).toHaveLength(3);
    expect(s.replicas.filter((r) => r.etcd.main?.leader)).toHaveLength(1);
    expect(s.warnings.map((w) => w.code)).not.toContain('NO_LEADER');
  });
});
