// `kube-ha snapshot` (issue 16 item 2): a verified snapshot in the state dir
// with a record of its revision, which restores into a working one-member
// cluster holding every key written before it (etcd's own restore tool).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientURL, type RunningEtcd, startEtcd, stopEtcd } from '../../src/lab/etcd-process.js';
import { claimLoopbackBlock, type LoopbackBlock } from '../../src/lab/loopback.js';
import { latestSnapshot, type SnapshotRecord } from '../../src/ops/etcd-snapshot.js';
import { runCli } from '../helpers/cli.js';
import { startTestCluster, type TestCluster, waitForHealth } from '../helpers/etcd-cluster.js';

let cluster: TestCluster;
const state = mkdtempSync(join(tmpdir(), 'kube-ha-snapshot-'));
const env = { XDG_STATE_HOME: state };
const etcdctl = (endpoint: string, ...args: string[]) =>
  execFileSync('etcdctl', ['--endpoints', endpoint, '--command-timeout=5s', ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    encoding: 'utf8',
    timeout: 20_000,
  });

beforeAll(async () => {
  cluster = await startTestCluster(3);
  for (let i = 0; i < 50; i++) etcdctl(cluster.endpoints[0]!, 'put', `/registry/test/k${i}`, `v${i}`);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(state, { recursive: true, force: true });
});

describe('kube-ha snapshot', { timeout: 90_000 }, () => {
  let record: SnapshotRecord;

  it('saves a verified snapshot with its revision, from a follower, and says how to restore it', async () => {
    const res = await runCli(['snapshot', '--etcd-endpoints', cluster.endpoints.join(','), '--json'], {
      env,
    });
    expect(res.code, res.stderr).toBe(0);
    const { pruned, ...rec } = JSON.parse(res.stdout) as SnapshotRecord & { pruned: string[] };
    expect(pruned).toEqual([]);
    record = rec;
    expect(existsSync(record.file)).toBe(true);
    expect(record.file.startsWith(state)).toBe(true);
    expect(record.cluster).toBe('main');
    expect(record.operationId).toBeNull();
    // etcd's own tool agrees on the file: its hash and its revision.
    const st = JSON.parse(
      execFileSync('etcdctl', ['snapshot', 'status', record.file, '-w', 'json'], {
        env: { ...process.env, ETCDCTL_API: '3' },
        encoding: 'utf8',
      }),
    ) as { revision: number; totalKey: number };
    expect(String(st.revision)).toBe(record.revision);
    expect(st.totalKey).toBeGreaterThanOrEqual(50);
    // The record beside it is what the console's header reads.
    expect(latestSnapshot(join(record.file, '..'))).toEqual(record);
    expect(JSON.parse(readFileSync(`${record.file}.json`, 'utf8'))).toEqual(record);
    // A follower, not the leader, streamed it.
    const leader = JSON.parse(
      etcdctl(cluster.endpoints[0]!, 'endpoint', 'status', '--cluster', '-w', 'json'),
    ).find(
      (s: { Status: { leader: string; header: { member_id: string } } }) =>
        s.Status.leader === s.Status.header.member_id,
    )?.Endpoint as string;
    expect(record.from).not.toBe(leader);

    const human = await runCli(['snapshot', '--etcd-endpoints', cluster.endpoints.join(',')], { env });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^saved \S+snapshot-\S+-main\.db\n {2}etcd main, revision \d+, /);
    expect(human.stdout).toContain('etcdctl snapshot restore');
  });

  it('restores into a working one-member cluster with every key written before it', async () => {
    const block: LoopbackBlock = await claimLoopbackBlock();
    const dir = mkdtempSync(join(tmpdir(), 'kube-ha-restore-'));
    let restored: RunningEtcd | null = null;
    try {
      const ip = `127.${block.n}.1.1`;
      const peer = `http://${ip}:2380`;
      execFileSync(
        'etcdctl',
        [
          'snapshot',
          'restore',
          record.file,
          '--name',
          'r0',
          '--initial-cluster',
          `r0=${peer}`,
          '--initial-advertise-peer-urls',
          peer,
          '--data-dir',
          join(dir, 'r0'),
        ],
        { env: { ...process.env, ETCDCTL_API: '3' }, stdio: 'pipe', timeout: 30_000 },
      );
      const spec = {
        name: 'r0',
        dataDir: join(dir, 'r0'),
        ip,
        clientPort: 2379,
        peerPort: 2380,
        initialCluster: `r0=${peer}`,
        initialClusterState: 'new' as const,
        initialClusterToken: 'restored',
      };
      restored = startEtcd(spec);
      const endpoint = clientURL(spec);
      await waitForHealth(endpoint);
      const keys = etcdctl(endpoint, 'get', '--prefix', '/registry/test/', '--keys-only')
        .split('\n')
        .filter(Boolean);
      expect(keys).toHaveLength(50);
      expect(etcdctl(endpoint, 'get', '/registry/test/k42', '--print-value-only').trim()).toBe('v42');
      expect(JSON.parse(etcdctl(endpoint, 'member', 'list', '-w', 'json')).members).toHaveLength(1);
      // It takes writes: a cluster, not a read-only copy.
      etcdctl(endpoint, 'put', '/registry/test/after', 'yes');
    } finally {
      if (restored) await stopEtcd(restored);
      block.server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without a healthy member: exit 1, no file', async () => {
    const res = await runCli(['snapshot', '--etcd-endpoints', 'http://127.0.0.1:9', '--timeout', '1'], {
      env,
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/no snapshot saved/);
  });
});
