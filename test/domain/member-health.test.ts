// The member health model (issue 15): an alarm is never a quorum loss, and
// each state (alarm, slow, learner, unhealthy, unreachable) says what it is.
import { describe, expect, it } from 'vitest';
import { renderStatusText } from '../../src/cli/status-text.js';
import { memberWords } from '../../src/domain/format.js';
import { alarmNames, parseAlarm, SLOW_STATUS_MS } from '../../src/domain/member-health.js';
import { buildStatus, statusExitCode } from '../../src/domain/status.js';
import type { EtcdEndpointStatus, EtcdObservation, ServingCert, Warning } from '../../src/domain/types.js';
import { crash, etcd, healthy } from '../helpers/observations.js';

const codes = (ws: Warning[]) => ws.map((w) => w.code).sort();
const DAY = 86_400_000;

/** etcd 3.4's Status `errors` entry for an alarm (member IDs in decimal). */
const alarmEntry = (hexId: string, alarm: string) => `memberID:${BigInt(`0x${hexId}`)} alarm:${alarm} `;

function withStatuses(
  obs: EtcdObservation,
  f: (s: EtcdEndpointStatus, i: number) => Partial<EtcdEndpointStatus>,
) {
  return { ...obs, statuses: obs.statuses.map((s, i) => ({ ...s, ...f(s, i) })) };
}

function statusWithMain(main: EtcdObservation, now?: Date) {
  const obs = healthy();
  return buildStatus({ ...obs, etcd: { ...obs.etcd, main }, ...(now ? { now } : {}) });
}

describe('alarms', () => {
  it('parses etcd 3.4 alarm entries, hex member IDs', () => {
    expect(parseAlarm('memberID:3319814642761637952 alarm:NOSPACE ')).toEqual({
      memberId: '2e1259d415f2a040',
      alarm: 'NOSPACE',
    });
    expect(parseAlarm('some other error')).toBeNull();
    expect(
      alarmNames([alarmEntry('a0', 'NOSPACE'), alarmEntry('a1', 'NOSPACE'), alarmEntry('a0', 'CORRUPT')]),
    ).toEqual(['CORRUPT', 'NOSPACE']);
  });

  it('NOSPACE on every member: in alarm, quorum intact, ETCD_ALARM with the remedy, never QUORUM_LOST or NO_LEADER', () => {
    const main = withStatuses(etcd('main', 3), () => ({ errors: [alarmEntry('a1', 'NOSPACE')] }));
    const s = statusWithMain(main);
    for (const r of s.replicas) {
      expect(r.etcd.main).toMatchObject({ healthy: true, state: 'alarm', alarms: ['NOSPACE'], error: null });
      expect(r.etcd.events).toMatchObject({ state: 'healthy', alarms: [] });
    }
    expect(s.etcd.main).toMatchObject({ healthyVoters: 3, quorum: 2, faultTolerance: 1, leaderId: 'a0' });
    expect(codes(s.warnings)).toEqual(['ETCD_ALARM']);
    const w = s.warnings[0]!;
    expect(w).toMatchObject({ severity: 'error', cluster: 'main' });
    expect(w.message).toContain('in alarm NOSPACE');
    expect(w.message).toContain('raised by kubernetes-master-x7k');
    expect(w.message).toContain('quorum is not lost');
    expect(w.message).toMatch(
      /etcdctl compact \$\(rev\); etcdctl defrag --endpoints .*; etcdctl alarm disarm/,
    );
    // Followers first: the leader (kubernetes-master, 127.20.1.1) is defragmented last.
    const defrags = [...w.message.matchAll(/defrag --endpoints (\S+);/g)].map((m) => m[1]);
    expect(defrags).toEqual([
      'https://127.20.1.2:2379',
      'https://127.20.1.3:2379',
      'https://127.20.1.1:2379',
    ]);
    expect(statusExitCode(s)).toBe(5);
    expect(memberWords(s.replicas[0]!.etcd.main)).toBe('in alarm NOSPACE');
    const text = renderStatusText(s);
    expect(text).toContain(
      'etcd main 3/3 healthy · quorum 2 · tolerates 1 failure · leader kubernetes-master',
    );
    expect(text).toContain('in alarm NOSPACE leader a0');
    expect(text).not.toContain('QUORUM LOST');
  });

  it('an alarm with a member down: the alarmed members still count, one more failure loses quorum', () => {
    const main = crash(
      withStatuses(etcd('main', 3), () => ({ errors: [alarmEntry('a0', 'NOSPACE')] })),
      2,
    );
    const s = statusWithMain(main);
    expect(s.etcd.main).toMatchObject({ healthyVoters: 2, faultTolerance: 0 });
    expect(codes(s.warnings)).toEqual(['ETCD_ALARM', 'UNHEALTHY_MEMBER']);
    expect(s.replicas[2]!.etcd.main).toMatchObject({ state: 'unreachable', error: 'connection refused' });
  });

  it('CORRUPT names the member that raised it and says to replace it from a snapshot', () => {
    const main = withStatuses(etcd('main', 3), () => ({ errors: [alarmEntry('a2', 'CORRUPT')] }));
    const w = statusWithMain(main).warnings.find((x) => x.code === 'ETCD_ALARM')!;
    expect(w.severity).toBe('error');
    expect(w.message).toContain('raised by kubernetes-master-q2p');
    expect(w.message).toContain('etcdctl snapshot save --endpoints https://127.20.1.1:2379');
    expect(w.message).toContain('kube-ha replace --replica NAME');
  });

  it('a Status error that is not an alarm still makes the member unhealthy', () => {
    const main = withStatuses(etcd('main', 3), (_, i) =>
      i === 1 ? { errors: ['raft: something broke'] } : {},
    );
    const m = statusWithMain(main).replicas[1]!.etcd.main!;
    expect(m).toMatchObject({ healthy: false, state: 'unhealthy', error: 'raft: something broke' });
  });
});

describe('slow, learner, unhealthy, unreachable', () => {
  it('a Status answer slower than the election timeout: slow, still a voter, a warning', () => {
    const main = withStatuses(etcd('main', 3), (_, i) =>
      i === 2 ? { latencyMs: SLOW_STATUS_MS + 400 } : {},
    );
    const s = statusWithMain(main);
    const m = s.replicas[2]!.etcd.main!;
    expect(m).toMatchObject({ healthy: true, state: 'slow' });
    expect(m.slow).toEqual(['status answered in 1.4 s (slow from 1.0 s)']);
    expect(s.etcd.main.faultTolerance).toBe(1);
    expect(codes(s.warnings)).toEqual(['ETCD_SLOW']);
    expect(s.warnings[0]!.severity).toBe('warning');
    expect(statusExitCode(s)).toBe(0);
  });

  it('a member applying far behind its commit index is slow; an etcd that reports no applied index is not judged', () => {
    const main = withStatuses(etcd('main', 3), (_, i) =>
      i === 0
        ? { raftIndex: 5000, raftAppliedIndex: 3500 }
        : i === 1
          ? { raftIndex: 5000, raftAppliedIndex: 0 }
          : {},
    );
    const s = statusWithMain(main);
    expect(s.replicas.map((r) => r.etcd.main!.state)).toEqual(['slow', 'healthy', 'healthy']);
    expect(s.replicas[0]!.etcd.main!.slow).toEqual([
      'applies 1500 entries behind its commit index (etcd refuses proposals past 5000)',
    ]);
  });

  it("a first call's time (it also connected) is not judged", () => {
    const main = withStatuses(etcd('main', 3), () => ({ latencyMs: 5000, firstCall: true }));
    const s = statusWithMain(main);
    expect(s.replicas.map((r) => r.etcd.main!.state)).toEqual(['healthy', 'healthy', 'healthy']);
    expect(s.warnings).toEqual([]);
  });

  it('WAL fsync and backend commit p99 over etcd guidance: slow', () => {
    const metrics = {
      url: 'http://x/metrics',
      quotaBackendBytes: null,
      walFsyncP99Ms: 32,
      backendCommitP99Ms: 64,
    };
    const main = withStatuses(etcd('main', 3), (_, i) =>
      i === 0 ? { metrics } : { metrics: { ...metrics, walFsyncP99Ms: 4, backendCommitP99Ms: 8 } },
    );
    const s = statusWithMain(main);
    expect(s.replicas[0]!.etcd.main!.slow).toEqual([
      'WAL fsync p99 32 ms (etcd: under 10 ms)',
      'backend commit p99 64 ms (etcd: under 25 ms)',
    ]);
    expect(s.replicas[1]!.etcd.main).toMatchObject({ state: 'healthy', disk: { walFsyncP99Ms: 4 } });
    expect(codes(s.warnings)).toEqual(['ETCD_SLOW']);
  });

  it('a learner: not a voter, its catch-up against the leader index', () => {
    const main = etcd('main', 4);
    main.members![3] = { ...main.members![3]!, isLearner: true };
    main.statuses[3] = { ...main.statuses[3]!, isLearner: true, raftAppliedIndex: 40 };
    const obs = healthy();
    const s = buildStatus({ ...obs, gce: null, etcd: { ...obs.etcd, main } });
    const m = s.replicas.find((r) => r.etcd.main?.learner)!.etcd.main!;
    expect(m).toMatchObject({ state: 'learner', catchUp: { appliedIndex: 40, leaderIndex: 100 } });
    // One wording for status and console: the console said `catching up 40%` before.
    expect(memberWords(m)).toBe('learner 40% caught up');
    expect(s.etcd.main).toMatchObject({ votingMembers: 3, healthyVoters: 3, learners: 1, faultTolerance: 1 });
  });

  it('a member that answers but sees no leader is unhealthy; one that does not answer is unreachable with the reason', () => {
    const main = crash(
      withStatuses(etcd('main', 3), (_, i) => (i === 1 ? { leaderId: '0' } : {})),
      2,
    );
    const s = statusWithMain(main);
    expect(s.replicas[1]!.etcd.main).toMatchObject({
      state: 'unhealthy',
      healthy: false,
      error: 'no leader visible from this member',
    });
    expect(s.replicas[2]!.etcd.main).toMatchObject({ state: 'unreachable', error: 'connection refused' });
    expect(codes(s.warnings)).toContain('QUORUM_LOST');
  });
});

describe('space, versions, certificates', () => {
  const cap = (size: number, inUse: number, quota: number | null) => ({
    dbSizeBytes: size,
    dbSizeInUseBytes: inUse,
    metrics:
      quota === null
        ? null
        : {
            url: 'http://x/metrics',
            quotaBackendBytes: quota,
            walFsyncP99Ms: null,
            backendCommitP99Ms: null,
          },
  });

  it('quota from metrics, else kube-up default; a warning at 80 %', () => {
    const MB = 1024 * 1024;
    const low = statusWithMain(withStatuses(etcd('main', 3), () => cap(10 * MB, 9 * MB, null)));
    expect(low.replicas[0]!.etcd.main!.capacity).toEqual({
      dbSizeBytes: 10 * MB,
      dbSizeInUseBytes: 9 * MB,
      quotaBytes: 4 * 1024 * MB,
      quotaFrom: 'kube-up default',
    });
    expect(low.warnings).toEqual([]);
    const s = statusWithMain(
      withStatuses(etcd('main', 3), (_, i) => cap(i === 1 ? 85 * MB : 50 * MB, 40 * MB, 100 * MB)),
    );
    expect(s.replicas[1]!.etcd.main!.capacity).toMatchObject({ quotaBytes: 100 * MB, quotaFrom: 'metrics' });
    const w = s.warnings.filter((x) => x.code === 'ETCD_SPACE');
    expect(w).toHaveLength(1);
    expect(w[0]!.message).toContain(
      'DB at 85% of its 100 MB quota (metrics) on kubernetes-master-x7k 85 MB, 40 MB in use',
    );
    expect(renderStatusText(s)).toContain(
      "DB: main's size and its share of --quota-backend-bytes, 100 MB (the members' metrics)",
    );
  });

  it('fragmentation: a DB half its quota, mostly free pages', () => {
    const MB = 1024 * 1024;
    const s = statusWithMain(withStatuses(etcd('main', 3), () => cap(60 * MB, 10 * MB, 100 * MB)));
    expect(s.warnings.map((x) => x.message)).toEqual([expect.stringContaining('mostly free pages')]);
  });

  it('NOSPACE raised: the alarm speaks, not the space warning', () => {
    const MB = 1024 * 1024;
    const main = withStatuses(etcd('main', 3), () => ({
      ...cap(99 * MB, 99 * MB, 100 * MB),
      errors: [alarmEntry('a0', 'NOSPACE')],
    }));
    expect(codes(statusWithMain(main).warnings)).toEqual(['ETCD_ALARM']);
  });

  it('members on different versions', () => {
    const main = withStatuses(etcd('main', 3), (_, i) => (i === 2 ? { version: '3.5.9' } : {}));
    const w = statusWithMain(main).warnings;
    expect(codes(w)).toEqual(['ETCD_VERSION_SKEW']);
    expect(w[0]!.message).toContain(
      '3.4.23 on kubernetes-master, kubernetes-master-x7k; 3.5.9 on kubernetes-master-q2p',
    );
  });

  it('certificates: nothing beyond 30 days, a warning within 30, an error within 7; the shared CA once', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const at = (days: number) => new Date(now.getTime() + days * DAY).toISOString();
    const cert = (days: number, caDays: number): ServingCert => ({
      notAfter: at(days),
      subject: 'CN=etcd',
      caNotAfter: at(caDays),
      caSubject: 'CN=etcd-ca',
    });
    const run = (days: number[], caDays: number) =>
      statusWithMain(
        withStatuses(etcd('main', 3), (_, i) => ({ cert: cert(days[i]!, caDays) })),
        now,
      ).warnings;
    expect(run([40, 40, 40], 400)).toEqual([]);
    const w = run([20, 5, -1], 400);
    expect(w.map((x) => [x.severity, x.replica])).toEqual([
      ['error', 'kubernetes-master-x7k'],
      ['error', 'kubernetes-master-q2p'],
      ['warning', 'kubernetes-master'],
    ]);
    expect(w[0]!.message).toContain('expires 2030-01-06 (in 5 days)');
    expect(w[1]!.message).toContain('expired 2029-12-31');
    const ca = run([400, 400, 400], 25);
    expect(ca).toHaveLength(1);
    expect(ca[0]).toMatchObject({ code: 'ETCD_CERT_EXPIRY', severity: 'warning' });
    expect(ca[0]!.message).toContain(
      'etcd CA (CN=etcd-ca) expires 2030-01-26 (in 25 days), signing kubernetes-master main, kubernetes-master-x7k main, kubernetes-master-q2p main',
    );
  });
});
