// A member's /metrics, read beside its Status (issue 15): the quota
// (etcd_server_quota_backend_bytes) and the disk latency p99s etcd's
// hardware guidance speaks of. Scraped at most every 30 s per member; the
// p99s cover the time between two scrapes at least 5 minutes apart (the
// console; Prometheus' usual rate window), with at least 100 samples, or, for
// one look (`status`), the member's whole life once it has run 10 minutes (a
// fresh member's p99 is its boot's). Shorter windows were tried: 30 s of an
// idle lab holds ~45 fsyncs, whose "p99" is the single worst one.
//
// Where: an http client URL serves /metrics itself (kube-up's events
// members); a main member with client mTLS serves it on
// --listen-metrics-urls, port 2382 (prepare-etcd-manifest). kube-up binds that
// to 127.0.0.1, so from off the VM it usually does not answer: the quota is
// then kube-up's default, and said so.
import { get } from 'node:http';
import {
  type EtcdMetricsSample,
  type Histogram,
  histogramDelta,
  p99Ms,
  parseEtcdMetrics,
} from '../domain/etcd-metrics.js';
import { urlHost } from '../domain/names.js';
import type { EtcdMemberMetrics } from '../domain/types.js';
import { startDeadline } from '../net/deadline.js';
import { Refreshing } from './refreshing.js';

// Every 30 s: the quota hardly changes and the p99s span 5 minutes; a scrape
// parses a few hundred lines (of the idle console's CPU, every 10 s was ~0.3 %).
export const METRICS_EVERY_MS = 30_000;
export const DISK_WINDOW_MS = 5 * 60_000;
export const LIFETIME_AFTER_MS = 10 * 60_000;
/** kube-up's etcd main --listen-metrics-urls port. */
export const KUBE_UP_METRICS_PORT = 2382;

export function metricsURL(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.protocol === 'http:') return `${url.origin}/metrics`;
  const host = urlHost(endpoint) ?? url.hostname;
  return `http://${host.includes(':') ? `[${host}]` : host}:${KUBE_UP_METRICS_PORT}/metrics`;
}

/** A plain GET with a deadline (node:http: fetch's first call costs a few hundred ms to load). */
function httpGet(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`HTTP ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    // Bounds the whole exchange, counting only time this process could have
    // read the answer (src/net/deadline.ts).
    const deadline = startDeadline(timeoutMs, () => req.destroy(new Error('deadline exceeded')));
    req.on('close', () => deadline.cancel());
    req.on('error', reject);
  });
}

const windowOf = (ms: number) => `the last ${Math.round(ms / 1000)} s`;

export class MemberMetrics {
  private readonly cache: Refreshing<EtcdMemberMetrics | null>;
  /** Per endpoint: the scrape the next window starts from, and the last window's p99s. */
  private readonly base = new Map<string, { at: number; sample: EtcdMetricsSample }>();
  private readonly lastDisk = new Map<
    string,
    Pick<EtcdMemberMetrics, 'walFsyncP99Ms' | 'backendCommitP99Ms' | 'window'>
  >();

  constructor(private readonly timeoutMs: number) {
    this.cache = new Refreshing(METRICS_EVERY_MS, (e) => this.scrape(e));
  }

  refresh(endpoint: string): void {
    this.cache.refresh(endpoint);
  }

  /** The member's metrics (null: no metrics endpoint answered; undefined: none read yet). */
  get(endpoint: string, waitMs: number): Promise<EtcdMemberMetrics | null | undefined> {
    return this.cache.get(endpoint, waitMs);
  }

  retain(keep: ReadonlySet<string>): void {
    this.cache.retain(keep);
    for (const k of this.base.keys()) if (!keep.has(k)) this.base.delete(k);
    for (const k of this.lastDisk.keys()) if (!keep.has(k)) this.lastDisk.delete(k);
  }

  private async scrape(endpoint: string): Promise<EtcdMemberMetrics | null> {
    const url = metricsURL(endpoint);
    let sample: EtcdMetricsSample;
    try {
      sample = parseEtcdMetrics(await httpGet(url, this.timeoutMs));
    } catch {
      return null;
    }
    const now = Date.now();
    const base = this.base.get(endpoint);
    if (!base) this.base.set(endpoint, { at: now, sample });
    else if (now - base.at >= DISK_WINDOW_MS) {
      const d = (a: Histogram | null, b: Histogram | null) => (a && b ? histogramDelta(a, b) : null);
      this.lastDisk.set(endpoint, {
        walFsyncP99Ms: p99Ms(d(sample.walFsync, base.sample.walFsync)),
        backendCommitP99Ms: p99Ms(d(sample.backendCommit, base.sample.backendCommit)),
        window: windowOf(now - base.at),
      });
      this.base.set(endpoint, { at: now, sample });
    }
    const lifetime =
      sample.startedAt !== null && now - sample.startedAt >= LIFETIME_AFTER_MS
        ? {
            walFsyncP99Ms: p99Ms(sample.walFsync),
            backendCommitP99Ms: p99Ms(sample.backendCommit),
            window: 'since the member started',
          }
        : { walFsyncP99Ms: null, backendCommitP99Ms: null };
    return { url, quotaBackendBytes: sample.quotaBackendBytes, ...(this.lastDisk.get(endpoint) ?? lifetime) };
  }
}
