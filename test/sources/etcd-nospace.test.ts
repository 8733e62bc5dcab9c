// A real 3-member etcd with a tiny --quota-backend-bytes, filled until it
// raises NOSPACE: every member still answers with a leader, so kube-ha says
// "in alarm NOSPACE" with the remedy and keeps quorum, never QUORUM_LOST
// (issue 15). Then etcd's remedy (compact, defragment, disarm) through etcd3,
// and the cluster reads healthy again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStatus, statusExitCode } from '../../src/domain/status.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { fillUntilNoSpace } from '../../src/lab/fill.js';
import { createEtcdClient } from '../../src/net/etcd-client.js';
import { EtcdClusterSource } from '../../src/sources/etcd.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';

const QUOTA = 1024 * 1024;

describe('etcd in NOSPACE (real members)', () => {
  let cluster: TestCluster;
  let source: EtcdClusterSource;

  async function observe(): Promise<ClusterStatus> {
    const main = await source.observe();
    return buildStatus({
      project: null,
      region: null,
      masterName: 'kubernetes-master',
      gce: null,
      gceError: null,
      etcd: { main, events: null },
    });
  }

  /** Observes until `done` holds (the alarm is applied through raft on each member), at most 10 s. */
  async function observeUntil(done: (s: ClusterStatus) => boolean): Promise<ClusterStatus> {
    const until = Date.now() + 10_000;
    let s = await observe();
    while (!done(s) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      s = await observe();
    }
    return s;
  }

  beforeAll(async () => {
    cluster = await startTestCluster(3, { quotaBackendBytes: QUOTA });
    source = new EtcdClusterSource('main', { endpoints: cluster.endpoints, tls: null }, 3000);
  });
  afterAll(async () => {
    source?.close();
    await cluster?.stop();
  });

  it('fills to NOSPACE: every member answers in alarm, quorum intact, ETCD_ALARM with the remedy; compact, defrag and disarm clear it', async () => {
    const client = createEtcdClient(cluster.endpoints[0]!, { tls: null, timeoutMs: 3000 });
    try {
      const fill = await fillUntilNoSpace(client, { maxBytes: 8 * QUOTA, deadlineMs: 20_000 });
      expect(fill.stoppedBy).toBeNull();
      expect(fill.noSpace).toMatch(/database space exceeded/);

      const s = await observeUntil((x) => x.replicas.every((r) => r.etcd.main?.alarms.length));
      expect(s.replicas).toHaveLength(3);
      for (const r of s.replicas) {
        expect(r.etcd.main).toMatchObject({
          healthy: true,
          state: 'alarm',
          alarms: ['NOSPACE'],
          error: null,
        });
        expect(r.etcd.main!.capacity).toMatchObject({ quotaBytes: QUOTA, quotaFrom: 'metrics' });
      }
      expect(s.etcd.main).toMatchObject({ votingMembers: 3, healthyVoters: 3, quorum: 2, faultTolerance: 1 });
      expect(s.etcd.main.leaderId).not.toBeNull();
      const codes = s.warnings.map((w) => w.code);
      expect(codes).toContain('ETCD_ALARM');
      expect(codes).not.toContain('QUORUM_LOST');
      expect(codes).not.toContain('NO_LEADER');
      expect(codes).not.toContain('UNHEALTHY_MEMBER');
      const alarm = s.warnings.find((w) => w.code === 'ETCD_ALARM')!;
      expect(alarm.severity).toBe('error');
      expect(alarm.message).toContain('etcd main in alarm NOSPACE');
      expect(alarm.message).toMatch(/raised by m[012]/);
      expect(alarm.message).toContain('etcdctl compact $(rev)');
      expect(alarm.message).toContain('etcdctl alarm disarm');
      for (const e of cluster.endpoints) expect(alarm.message).toContain(`etcdctl defrag --endpoints ${e}`);
      expect(statusExitCode(s)).toBe(5);
      // The JSON that `status --json` prints carries the alarms per member.
      const json = JSON.parse(JSON.stringify(s)) as ClusterStatus;
      expect(json.replicas.map((r) => r.etcd.main?.alarms)).toEqual([['NOSPACE'], ['NOSPACE'], ['NOSPACE']]);

      // etcd's remedy: compact to the current revision, defragment each member, disarm.
      const { header } = await client.maintenance.status();
      await client.kv.compact({ revision: header.revision, physical: true });
      for (const e of cluster.endpoints) {
        const member = createEtcdClient(e, { tls: null, timeoutMs: 10_000 });
        try {
          await member.maintenance.defragment();
        } finally {
          member.close();
        }
      }
      const { alarms } = await client.maintenance.alarm({ action: 'Get' });
      expect(alarms.length).toBeGreaterThan(0);
      for (const a of alarms) {
        await client.maintenance.alarm({ action: 'Deactivate', memberID: a.memberID, alarm: a.alarm });
      }

      const after = await observeUntil((x) => x.replicas.every((r) => r.etcd.main?.state === 'healthy'));
      for (const r of after.replicas) expect(r.etcd.main).toMatchObject({ state: 'healthy', alarms: [] });
      // Defragmenting gave back the compacted history (what is left is the filler's live keys).
      // etcd raises NOSPACE when a write would take the database past the quota (size plus the
      // write's cost), so even the member that raised it can sit a little under the quota.
      const sizes = (x: typeof s) => x.replicas.map((r) => r.etcd.main!.capacity!.dbSizeBytes);
      const full = Math.max(...sizes(s));
      expect(full).toBeGreaterThanOrEqual(0.9 * QUOTA);
      expect(Math.max(...sizes(after))).toBeLessThan(0.6 * full);
      expect(after.warnings).toEqual([]);
      expect(statusExitCode(after)).toBe(0);
      // And writes are accepted again.
      await client.put('/after-disarm').value('ok');
    } finally {
      client.close();
    }
  });
});
