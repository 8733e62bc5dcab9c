// The lab rehearses NOSPACE end to end through the CLI (issue 15): `lab up
// --quota-backend-bytes` gives every member that quota (kube-env's
// ETCD_QUOTA_BACKEND_BYTES, as kube-up passes it), `lab fill` writes until
// etcd raises the alarm, and `status --json` reports every member answering
// and in alarm, quorum intact, exit 5, with the remedy. One replica keeps it cheap.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterStatus } from '../../src/domain/types.js';
import { readLabContext } from '../../src/lab/context.js';
import { labDown, labUp, runCli, tempLabDir } from '../helpers/cli.js';

const QUOTA = 2 * 1024 * 1024;

describe('lab fill to NOSPACE, seen by status --json', () => {
  const dir = tempLabDir();
  beforeAll(async () => {
    // Its etcd certificates also expire in 20 days: the expiry warning is rehearsed on the same lab.
    await labUp(dir, [
      '--replicas',
      '1',
      '--zones',
      'us-central1-a',
      '--quota-backend-bytes',
      String(QUOTA),
      '--cert-days',
      '20',
    ]);
  });
  afterAll(async () => {
    await labDown(dir);
  });

  it('refuses a quota that is not a number of bytes, creating nothing', async () => {
    const bad = await runCli(['lab', 'up', '--dir', `${dir}-x`, '--quota-backend-bytes', '12abc']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--quota-backend-bytes');
    expect(existsSync(`${dir}-x`)).toBe(false);
  });

  it('certificates that expire in 20 days are warned of (30 days: warning), naming the member', async () => {
    // The serving certificate is read beside Status within a short grace: asked again if it was late.
    let s: ClusterStatus | null = null;
    for (let i = 0; i < 3 && !s?.warnings.some((w) => w.code === 'ETCD_CERT_EXPIRY'); i++) {
      const res = await runCli(['status', '--lab-dir', dir, '--json']);
      s = JSON.parse(res.stdout) as ClusterStatus;
    }
    const expiry = s!.warnings.filter((w) => w.code === 'ETCD_CERT_EXPIRY');
    expect(expiry.map((w) => [w.severity, w.cluster])).toEqual([['warning', 'main']]);
    expect(expiry[0]!.message).toMatch(
      /kubernetes-master: etcd main serving certificate .* \(in (19|20) days\)/,
    );
    // Not an error: the status exit stays what the rest says.
    expect(s!.warnings.filter((w) => w.severity === 'error')).toEqual([]);
  });

  it('lab slow-disk delays every fsync of the member, as etcd itself measures; --off ends it', async () => {
    const ctx = readLabContext(dir);
    const ip = new URL(ctx.etcd.main.endpoints[0]!).hostname;
    /** etcd's own WAL fsync histogram: count and sum (seconds). */
    const fsyncs = async () => {
      const text = await (
        await fetch(`http://${ip}:2382/metrics`, { signal: AbortSignal.timeout(5000) })
      ).text();
      const num = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
      return {
        count: num('etcd_disk_wal_fsync_duration_seconds_count'),
        sum: num('etcd_disk_wal_fsync_duration_seconds_sum'),
      };
    };
    const puts = (n: number) => {
      for (let i = 0; i < n; i++)
        execFileSync(
          'etcdctl',
          [
            '--endpoints',
            ctx.etcd.main.endpoints[0]!,
            '--cacert',
            ctx.etcd.main.caFile,
            '--cert',
            ctx.etcd.main.certFile,
            '--key',
            ctx.etcd.main.keyFile,
            '--insecure-skip-tls-verify',
            'put',
            `/lab-slow/${i}`,
            'x',
          ],
          { env: { ...process.env, ETCDCTL_API: '3' }, stdio: 'ignore' },
        );
    };
    /** Mean seconds per WAL fsync over `n` writes. */
    const meanOver = async (n: number) => {
      const a = await fsyncs();
      puts(n);
      const b = await fsyncs();
      expect(b.count - a.count).toBeGreaterThanOrEqual(n);
      return (b.sum - a.sum) / (b.count - a.count);
    };
    const bad = await runCli(['lab', 'slow-disk', 'kubernetes-master', '--dir', dir]);
    expect(bad.code).toBe(2);
    const unknown = await runCli(['lab', 'slow-disk', 'no-such-vm', '--delay-ms', '40', '--dir', dir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no running lab VM named no-such-vm');

    const on = await runCli(['lab', 'slow-disk', 'kubernetes-master', '--delay-ms', '40', '--dir', dir]);
    expect(on.code, on.stderr).toBe(0);
    const slowed = await meanOver(8);
    expect(slowed).toBeGreaterThanOrEqual(0.04);
    const off = await runCli(['lab', 'slow-disk', 'kubernetes-master', '--off', '--dir', dir]);
    expect(off.code, off.stderr).toBe(0);
    expect(await meanOver(8)).toBeLessThan(slowed);
  });

  it('fills etcd main until NOSPACE: every member in alarm, quorum intact, exit 5 with the remedy', async () => {
    // Recorded in the lab's options (a resumed lab keeps it) and in each VM's kube-env.
    expect(JSON.parse(readFileSync(join(dir, 'lab-options.json'), 'utf8')).quotaBackendBytes).toBe(QUOTA);
    const fill = await runCli(['lab', 'fill', '--dir', dir, '--timeout', '60']);
    expect(fill.code, fill.stderr).toBe(0);
    expect(fill.stdout).toMatch(/etcd main raised NOSPACE after \d+ writes/);

    const res = await runCli(['status', '--lab-dir', dir, '--json']);
    expect(res.code, res.stderr).toBe(5);
    const s = JSON.parse(res.stdout) as ClusterStatus;
    const main = s.replicas.map((r) => r.etcd.main!);
    expect(main).toHaveLength(1);
    expect(main[0]).toMatchObject({ healthy: true, leader: true, state: 'alarm', alarms: ['NOSPACE'] });
    expect(main[0]!.capacity).toMatchObject({ quotaBytes: QUOTA, quotaFrom: 'metrics' });
    // The events cluster has its own quota and was not filled.
    expect(s.replicas[0]!.etcd.events).toMatchObject({ state: 'healthy', alarms: [] });
    expect(s.replicas[0]!.etcd.events!.capacity).toMatchObject({ quotaBytes: QUOTA });
    expect(s.etcd.main).toMatchObject({ healthyVoters: 1, quorum: 1, faultTolerance: 0 });
    const codes = s.warnings.map((w) => w.code);
    expect(codes).toContain('ETCD_ALARM');
    expect(codes).not.toContain('QUORUM_LOST');
    expect(codes).not.toContain('NO_LEADER');
    const alarm = s.warnings.find((w) => w.code === 'ETCD_ALARM')!;
    expect(alarm.message).toContain('etcdctl alarm disarm');
  });
});
