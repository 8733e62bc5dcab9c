// `kube-ha status --etcd-endpoints ...` (etcd-only mode) reads the leader
// leases from a plain etcd: the Kubernetes fixture Lease stored at the
// scheduler's key is reported with its real fields, the prefix is the one
// configured, and the apiserver is looked for next to the etcd member.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterStatus } from '../../src/domain/types.js';
import { createEtcdClient } from '../../src/sources/etcd-client.js';
import { runCli } from '../helpers/cli.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';
import { FIXTURE_SPEC, fixture, V1_LEASE } from './fixtures.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster(1);
  const client = createEtcdClient(cluster.endpoints, { tls: null, timeoutMs: 3000 });
  try {
    await client
      .put('/registry/leases/kube-system/kube-scheduler')
      .value(Buffer.from(fixture(V1_LEASE)))
      .exec();
    // The same bytes under another prefix, as a cluster started with --etcd-prefix=/k8s has them.
    await client
      .put('/k8s/leases/kube-system/kube-controller-manager')
      .value(Buffer.from(fixture(V1_LEASE)))
      .exec();
  } finally {
    client.close();
  }
});

afterAll(async () => {
  await cluster?.stop();
});

const status = async (...extra: string[]) => {
  const res = await runCli(['status', '--etcd-endpoints', cluster.endpoints.join(','), '--json', ...extra]);
  return { ...res, json: JSON.parse(res.stdout) as ClusterStatus };
};

describe('status in etcd-only mode reads the leases', () => {
  it('reports the fixture Lease at /registry/leases/kube-system/kube-scheduler with its real fields', async () => {
    const { code, json: s } = await status();
    const sched = s.leases?.find((l) => l.name === 'kube-scheduler');
    expect(sched).toEqual({
      name: 'kube-scheduler',
      holderIdentity: FIXTURE_SPEC.holderIdentity,
      holderReplica: null,
      leaseDurationSeconds: FIXTURE_SPEC.leaseDurationSeconds,
      acquireTime: FIXTURE_SPEC.acquireTime,
      renewTime: FIXTURE_SPEC.renewTime,
      leaseTransitions: FIXTURE_SPEC.leaseTransitions,
      state: 'stale',
      source: 'lease',
      modRevision: expect.stringMatching(/^\d+$/),
      staleBy: 'clock',
      judgedBy: 'clock',
      reason: expect.stringMatching(/^renewTime is \d+ s old by the local clock/),
      // Its holder is none of the replicas: whether it is up is unknown.
      holderHealthy: null,
      expiresAt: '2004-01-01T01:01:03.000004Z',
    });
    expect(s.leases?.map((l) => [l.name, l.state])).toEqual([
      ['kube-controller-manager', 'missing'],
      ['kube-scheduler', 'stale'],
      ['cluster-autoscaler', 'missing'],
    ]);
    const warnings = s.warnings.map((w) => `${w.severity}:${w.code}`);
    expect(warnings).toContain('error:STALE_LEASE');
    expect(warnings).toContain('warning:LEASE_HOLDER_UNKNOWN');
    // Nothing listens at the member's host on 443: looked for there, reported, but only as a warning.
    expect(s.replicas).toHaveLength(1);
    const host = new URL(cluster.endpoints[0]!).hostname;
    expect(s.replicas[0]?.apiserver).toMatchObject({
      healthy: false,
      state: 'not-answering',
      url: `https://${host}:443/readyz`,
    });
    expect(s.warnings.find((w) => w.code === 'APISERVER_UNHEALTHY')?.severity).toBe('warning');
    expect(code).toBe(5);
  });

  it('uses the configured --etcd-prefix, and prints a LEASES section for people', async () => {
    const { json: s } = await status('--etcd-prefix', '/k8s/');
    expect(s.leases?.map((l) => [l.name, l.state, l.holderIdentity])).toEqual([
      ['kube-controller-manager', 'stale', FIXTURE_SPEC.holderIdentity],
      ['kube-scheduler', 'missing', null],
      ['cluster-autoscaler', 'missing', null],
    ]);
    const text = await runCli(['status', '--etcd-endpoints', cluster.endpoints.join(',')]);
    expect(text.stdout).toContain("LEASES (alive or stale judged by renewTime against this machine's clock)");
    expect(text.stdout).toMatch(
      /kube-scheduler +STALE +\(unknown\) +\d+s ago +5 +lease +holderIdentityValue/,
    );
    expect(text.stdout).toMatch(/cluster-autoscaler +MISSING/);
  });
});
