import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { leaseTimingFlags, parseDuration } from '../../src/cli/lab.js';
import { FAST_LEASE_TIMINGS, LAB_LEASE_TIMINGS } from '../../src/lab/components/control-plane.js';
import { runCli, tempLabDir } from '../helpers/cli.js';

describe('lab up --leader-elect-* flags', () => {
  it('reads durations as kube-controller-manager writes them', () => {
    expect(parseDuration('15s', '--x')).toBe(15_000);
    expect(parseDuration('500ms', '--x')).toBe(500);
    expect(parseDuration('1.5s', '--x')).toBe(1500);
    expect(parseDuration('1m', '--x')).toBe(60_000);
    for (const bad of ['15', 's', '-1s', '0s', '2h', '1.5.1s', ''])
      expect(() => parseDuration(bad, '--x'), bad).toThrow(/--x/);
  });

  it("defaults to Kubernetes' own timings and fills the flags not given from them", () => {
    expect(LAB_LEASE_TIMINGS).toEqual({
      leaseDurationSeconds: 15,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2000,
    });
    expect(leaseTimingFlags({})).toBeUndefined();
    expect(leaseTimingFlags({ 'leader-elect-retry-period': '1s' })).toEqual({
      ...LAB_LEASE_TIMINGS,
      retryPeriodMs: 1000,
    });
    expect(
      leaseTimingFlags({
        'leader-elect-lease-duration': '5s',
        'leader-elect-renew-deadline': '3500ms',
        'leader-elect-retry-period': '500ms',
      }),
    ).toEqual(FAST_LEASE_TIMINGS);
  });

  it("refuses client-go's unsafe combinations with the reason", () => {
    expect(() => leaseTimingFlags({ 'leader-elect-lease-duration': '5500ms' })).toThrow(/whole seconds/);
    expect(() => leaseTimingFlags({ 'leader-elect-lease-duration': '10s' })).toThrow(
      /lease duration must be longer than the renew deadline/,
    );
    expect(() =>
      leaseTimingFlags({ 'leader-elect-renew-deadline': '2s', 'leader-elect-retry-period': '2s' }),
    ).toThrow(/1.2 x the retry period/);
  });

  it('a bad flag is a usage error that starts nothing', async () => {
    const dir = tempLabDir();
    try {
      const res = await runCli(['lab', 'up', '--dir', dir, '--leader-elect-renew-deadline', '20s']);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/lease duration must be longer than the renew deadline/);
      const status = await runCli(['lab', 'status', '--dir', dir]);
      expect(status.stdout).toMatch(/no lab running/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lab up and lab down refuse a directory that holds no lab, and delete nothing there', async () => {
    const dir = tempLabDir();
    try {
      mkdirSync(join(dir, 'pki'));
      writeFileSync(join(dir, 'pki', 'ca.key'), "not the lab's");
      writeFileSync(join(dir, 'notes.txt'), 'mine');
      for (const sub of ['down', 'up']) {
        const res = await runCli(['lab', sub, '--dir', dir]);
        expect(res.code, res.stderr).toBe(2);
        expect(res.stderr).toMatch(/does not hold a kube-ha lab/);
      }
      expect(readdirSync(dir).sort()).toEqual(['notes.txt', 'pki']);
      expect(readFileSync(join(dir, 'pki', 'ca.key'), 'utf8')).toBe("not the lab's");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
