// Reading etcd's /metrics: the quota gauge and the disk histograms' p99, as
// Prometheus' histogram_quantile computes it (issue 15).
import { describe, expect, it } from 'vitest';
import {
  histogramDelta,
  histogramQuantile,
  MIN_P99_SAMPLES,
  p99Ms,
  parseEtcdMetrics,
} from '../../src/domain/etcd-metrics.js';

// An excerpt of etcd 3.4.23's own /metrics.
const TEXT = `# HELP etcd_disk_wal_fsync_duration_seconds The latency distributions of fsync called by WAL.
# TYPE etcd_disk_wal_fsync_duration_seconds histogram
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.001"} 0
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.002"} 50
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.004"} 90
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.008"} 98
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.016"} 99
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.032"} 100
etcd_disk_wal_fsync_duration_seconds_bucket{le="+Inf"} 100
etcd_disk_wal_fsync_duration_seconds_sum 0.3
etcd_disk_wal_fsync_duration_seconds_count 100
etcd_disk_backend_commit_duration_seconds_bucket{le="0.001"} 0
etcd_disk_backend_commit_duration_seconds_bucket{le="+Inf"} 3
etcd_server_quota_backend_bytes 2.097152e+06
process_start_time_seconds 1.79603316614e+09
`;

describe('etcd metrics', () => {
  it('parses the quota, the start time and the histograms', () => {
    const m = parseEtcdMetrics(TEXT);
    expect(m.quotaBackendBytes).toBe(2_097_152);
    expect(m.startedAt).toBe(1_796_033_166_140);
    expect(m.walFsync).toHaveLength(7);
    expect(m.walFsync![6]).toEqual([Number.POSITIVE_INFINITY, 100]);
    expect(parseEtcdMetrics('# nothing\n')).toEqual({
      walFsync: null,
      backendCommit: null,
      quotaBackendBytes: null,
      startedAt: null,
    });
  });

  it('p99 interpolates within its bucket; too few samples say nothing', () => {
    const m = parseEtcdMetrics(TEXT);
    // Rank 99 of 100 is the last sample of the (8, 16] ms bucket.
    expect(p99Ms(m.walFsync)).toBe(16);
    expect(histogramQuantile(0.5, m.walFsync!)! * 1000).toBeCloseTo(2, 5);
    // Rank 95 in (4, 8] ms, which holds samples 91-98: 4 + 4 × 5/8.
    expect(histogramQuantile(0.95, m.walFsync!)! * 1000).toBeCloseTo(6.5, 5);
    expect(p99Ms(m.backendCommit)).toBeNull();
    expect(MIN_P99_SAMPLES).toBeGreaterThan(3);
    // Everything in +Inf: the largest finite bound.
    expect(
      histogramQuantile(0.99, [
        [0.5, 0],
        [Number.POSITIVE_INFINITY, 10],
      ]),
    ).toBe(0.5);
  });

  it('a window is the difference of two scrapes; a restarted member has none', () => {
    const before = parseEtcdMetrics(TEXT).walFsync!;
    const after = before.map(([le, n]) => [le, n + (le >= 0.032 ? 130 : 0)] as [number, number]);
    const d = histogramDelta(after, before)!;
    expect(d.at(-1)).toEqual([Number.POSITIVE_INFINITY, 130]);
    // Rank 128.7 of the 130 new samples, all in (16, 32] ms.
    expect(p99Ms(d)).toBe(31.8);
    const restarted = before.map(([le, n]) => [le, Math.floor(n / 2)] as [number, number]);
    expect(histogramDelta(restarted, before)).toBeNull();
  });
});
