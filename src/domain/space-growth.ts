// How fast etcd's database grows toward its quota, from the sizes a long-lived
// observer (the console) has seen: a warning well before NOSPACE, with the
// rate and when the quota would be reached. etcd's quota is checked against
// the database file's size, free pages included, so that is what is tracked
// (the largest member's: the first to reach the quota raises the alarm for all).
// Pure: the samples come in, warnings go out.
import { formatBytes } from './format.js';
import type { ClusterStatus, EtcdClusterName, Warning } from './types.js';
import { ETCD_CLUSTERS } from './types.js';

export interface SizeSample {
  at: number;
  bytes: number;
}

/** Less history than this says nothing about a rate (the apiserver compacts every 5 minutes). */
export const GROWTH_MIN_WINDOW_MS = 10 * 60_000;
/** History kept: an hour, one sample every 30 s at most. */
export const GROWTH_KEEP_MS = 60 * 60_000;
export const GROWTH_SAMPLE_MS = 30_000;
/** Warned when the quota would be reached within this long at the current rate; an error within an hour. */
export const GROWTH_WARN_HORIZON_MS = 24 * 3600_000;
export const GROWTH_ERROR_HORIZON_MS = 3600_000;

/** The largest database size and quota in a cluster, when its members said. */
export function largestMember(
  status: ClusterStatus,
  cluster: EtcdClusterName,
): { bytes: number; quota: number } | null {
  let best: { bytes: number; quota: number } | null = null;
  for (const r of status.replicas) {
    const c = r.etcd[cluster]?.capacity;
    if (c && (!best || c.dbSizeBytes > best.bytes)) best = { bytes: c.dbSizeBytes, quota: c.quotaBytes };
  }
  return best;
}

/** Adds a sample (at most one per GROWTH_SAMPLE_MS) and drops those older than GROWTH_KEEP_MS. */
export function addSample(history: SizeSample[], s: SizeSample): SizeSample[] {
  const last = history.at(-1);
  const kept = history.filter((h) => s.at - h.at <= GROWTH_KEEP_MS);
  if (last && s.at - last.at < GROWTH_SAMPLE_MS) return kept;
  return [...kept, s];
}

/** Bytes per hour by least squares over the samples; null with less than GROWTH_MIN_WINDOW_MS of them. */
export function growthPerHour(history: SizeSample[]): number | null {
  if (history.length < 3) return null;
  const first = history[0]!;
  const last = history.at(-1)!;
  if (last.at - first.at < GROWTH_MIN_WINDOW_MS) return null;
  const n = history.length;
  const mx = history.reduce((a, h) => a + (h.at - first.at), 0) / n;
  const my = history.reduce((a, h) => a + h.bytes, 0) / n;
  let num = 0;
  let den = 0;
  for (const h of history) {
    const dx = h.at - first.at - mx;
    num += dx * (h.bytes - my);
    den += dx * dx;
  }
  return den === 0 ? null : (num / den) * 3600_000;
}

const hours = (ms: number) =>
  ms < 3600_000 ? `${Math.max(1, Math.round(ms / 60_000))} min` : `${(ms / 3600_000).toFixed(1)} h`;

/** ETCD_SPACE: the quota reached within a day at the rate seen (none once the alarm is raised). */
export function spaceGrowthWarnings(
  status: ClusterStatus,
  history: Partial<Record<EtcdClusterName, SizeSample[]>>,
): Warning[] {
  const out: Warning[] = [];
  for (const cluster of ETCD_CLUSTERS) {
    const now = largestMember(status, cluster);
    const rate = growthPerHour(history[cluster] ?? []);
    if (!now || rate === null || rate <= 0) continue;
    const alarmed = status.replicas.some((r) => r.etcd[cluster]?.alarms?.includes('NOSPACE'));
    if (alarmed) continue;
    const left = Math.max(0, now.quota - now.bytes);
    const eta = (left / rate) * 3600_000;
    if (eta > GROWTH_WARN_HORIZON_MS) continue;
    out.push({
      code: 'ETCD_SPACE',
      severity: eta <= GROWTH_ERROR_HORIZON_MS ? 'error' : 'warning',
      cluster,
      message:
        `etcd ${cluster} DB grows ${formatBytes(rate)}/h (${formatBytes(now.bytes)} of ${formatBytes(now.quota)}): ` +
        `NOSPACE in about ${hours(eta)} at this rate; find the writer, compact and defragment, or raise --quota-backend-bytes`,
    });
  }
  return out;
}
