// The database's growth toward its quota: a rate only from enough history, a
// warning only when the quota is within a day at that rate, an error within an
// hour, nothing once the alarm is raised; and the console store feeding it
// from its polls.
import { describe, expect, it } from 'vitest';
import {
  addSample,
  GROWTH_SAMPLE_MS,
  growthPerHour,
  type SizeSample,
  spaceGrowthWarnings,
} from '../../src/domain/space-growth.js';
import { buildStatus } from '../../src/domain/status.js';
import { createConsoleStore } from '../../src/store/index.js';
import { etcd } from '../helpers/observations.js';
import { answer, memberId, observations, T0 } from '../ui/fixtures.js';

const MB = 1024 * 1024;
const GB = 1024 * MB;
const minutes = (n: number) => n * 60_000;

/** One sample a minute for `span` minutes, growing `perHour` bytes an hour from `start`. */
function series(start: number, perHour: number, span: number): SizeSample[] {
  return Array.from({ length: span + 1 }, (_, i) => ({
    at: T0 + minutes(i),
    bytes: start + (perHour * i) / 60,
  }));
}

/** The healthy 3-zone cluster, every main member at `bytes` of a `quota` its metrics report, raising `alarms`. */
function withMain(bytes: number, quota: number, alarms: string[] = []) {
  const obs = observations();
  for (const i of [0, 1, 2]) {
    const raisedBy = BigInt(`0x${memberId('main', i)}`);
    answer(obs, 'main', i, {
      dbSizeBytes: bytes,
      dbSizeInUseBytes: bytes,
      metrics: {
        url: `https://10.128.0.${i + 2}:2379/metrics`,
        quotaBackendBytes: quota,
        walFsyncP99Ms: null,
        backendCommitP99Ms: null,
      },
      errors: alarms.map((a) => `memberID:${raisedBy} alarm:${a} `),
    });
  }
  return buildStatus(obs);
}

describe('space growth', () => {
  it('measures bytes per hour, and only over ten minutes of history or more', () => {
    expect(growthPerHour(series(GB, 120 * MB, 9))).toBeNull();
    expect(growthPerHour(series(GB, 120 * MB, 15))).toBeCloseTo(120 * MB, -3);
    expect(growthPerHour(series(GB, -50 * MB, 15))).toBeCloseTo(-50 * MB, -3);
  });

  it('keeps one sample per 30 s, an hour of them', () => {
    let h: SizeSample[] = [];
    for (let t = 0; t < minutes(90); t += 10_000) h = addSample(h, { at: T0 + t, bytes: t });
    expect(h.length).toBeLessThanOrEqual(121);
    expect(h.at(-1)!.at - h[0]!.at).toBeLessThanOrEqual(minutes(60));
    expect(h[1]!.at - h[0]!.at).toBeGreaterThanOrEqual(GROWTH_SAMPLE_MS);
  });

  it('warns within a day of the quota, errs within an hour, says nothing past a day or once in alarm', () => {
    const quota = 4 * GB;
    // 3.5 GB growing 100 MB/h: the quota in ~5 h.
    const soon = spaceGrowthWarnings(withMain(3.5 * GB, quota), { main: series(3.4 * GB, 100 * MB, 20) });
    expect(soon).toEqual([
      expect.objectContaining({ code: 'ETCD_SPACE', severity: 'warning', cluster: 'main' }),
    ]);
    expect(soon[0]!.message).toMatch(/grows 100(\.\d)? MB\/h .*NOSPACE in about 5\.\d h/);
    // Growing 1 GB/h with 0.5 GB left: within the hour.
    const now = spaceGrowthWarnings(withMain(3.5 * GB, quota), { main: series(3.2 * GB, GB, 20) });
    expect(now.map((w) => w.severity)).toEqual(['error']);
    expect(now[0]!.message).toMatch(/NOSPACE in about \d+ min/);
    // 10 MB/h with 3 GB left: weeks away.
    expect(spaceGrowthWarnings(withMain(GB, quota), { main: series(GB, 10 * MB, 20) })).toEqual([]);
    // Shrinking (compaction and defrag): nothing.
    expect(spaceGrowthWarnings(withMain(3.5 * GB, quota), { main: series(3.6 * GB, -MB, 20) })).toEqual([]);
    // Already in alarm: the alarm's own warning says it.
    expect(
      spaceGrowthWarnings(withMain(4 * GB, quota, ['NOSPACE']), { main: series(3.2 * GB, GB, 20) }),
    ).toEqual([]);
  });

  it('the console store warns from the sizes its polls saw', () => {
    let now = T0;
    const store = createConsoleStore({
      now: () => now,
      target: { project: 'kube-ha-lab', region: 'us-central1', masterName: 'kubernetes-master' },
    });
    // kube-up's 4 GiB quota (no metrics); 3.9 GB growing 600 MB/h.
    for (let i = 0; i <= 15; i++) {
      const o = etcd('main');
      o.statuses = o.statuses.map((s) => ({ ...s, dbSizeBytes: 3.9 * GB + i * 10 * MB }));
      store.getState().applyEtcd(o, now);
      now += minutes(1);
    }
    const w = store
      .getState()
      .status!.warnings.filter((x) => x.code === 'ETCD_SPACE' && /grows/.test(x.message));
    expect(w).toEqual([expect.objectContaining({ cluster: 'main', severity: 'error' })]);
  });
});
