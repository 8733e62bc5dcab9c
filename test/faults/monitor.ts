// Watches a lab while a fault-matrix cell runs: the two invariants that must
// hold at every moment, not only at the end.
//  - quorum: in each etcd cluster, healthy voters >= quorum;
//  - no VM of a voting member is gone.
// One observation is not atomic (GCE and etcd are read at slightly different
// times, and a loaded machine can miss a status deadline), so a violation
// counts only when two observations in a row show it.
import { resolveTarget } from '../../src/cli/target-flags.js';
import { buildStatus } from '../../src/domain/status.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { ETCD_CLUSTERS } from '../../src/domain/types.js';
import { createGceSource } from '../../src/sources/gce-source.js';
import { Observer } from '../../src/sources/observe.js';

export interface MonitorReport {
  observations: number;
  /** Confirmed violations, with when (ms since start) they were seen. */
  violations: string[];
  /** Lowest healthy voters - quorum seen per cluster (confirmed), for the table. */
  minSlack: Record<string, number>;
}

/** What is wrong in one observation; `expectedDown` replicas are down on purpose (a crash the cell injected). */
export function violationsOf(s: ClusterStatus, expectedDown: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const c of ETCD_CLUSTERS) {
    const h = s.etcd[c];
    if (!h.observed) continue;
    // A member the cell crashed on purpose counts as down: is the rest still a quorum?
    if (h.healthyVoters < h.quorum)
      out.push(`etcd ${c}: ${h.healthyVoters} healthy voters < quorum ${h.quorum}`);
  }
  if (s.sources.gce) {
    for (const r of s.replicas) {
      if (r.vm.status !== 'MISSING' || expectedDown.has(r.name)) continue;
      for (const c of ETCD_CLUSTERS) {
        const m = r.etcd[c];
        if (m && !m.learner) out.push(`${r.name}: VM gone while its ${c} member votes`);
      }
    }
  }
  return out;
}

export class LabMonitor {
  private readonly observer: Observer;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private readonly report: MonitorReport = { observations: 0, violations: [], minSlack: {} };
  private readonly expectedDown = new Set<string>();

  constructor(labDir: string) {
    const target = resolveTarget({ 'lab-dir': labDir, timeout: '3' });
    this.observer = new Observer(target, createGceSource(target));
  }

  /** A replica the cell made fail on purpose: its own unhealthiness is not the tool's doing. */
  expectDown(name: string): void {
    this.expectedDown.add(name);
  }

  start(): void {
    const t0 = Date.now();
    let previous: string[] = [];
    let previousSlack: Record<string, number> = {};
    this.loop = (async () => {
      // Bounded: a cell never runs longer than this.
      const until = Date.now() + 15 * 60_000;
      while (!this.stopped && Date.now() < until) {
        try {
          const s = buildStatus(await this.observer.observeAll({}));
          this.report.observations++;
          const now = violationsOf(s, this.expectedDown);
          for (const v of now)
            if (previous.includes(v) && !this.report.violations.some((x) => x.endsWith(v)))
              this.report.violations.push(`+${((Date.now() - t0) / 1000).toFixed(1)}s ${v}`);
          previous = now;
          const slackNow: Record<string, number> = {};
          for (const c of ETCD_CLUSTERS) {
            const h = s.etcd[c];
            if (!h.observed || !h.votingMembers) continue;
            slackNow[c] = h.healthyVoters - h.quorum;
            // Confirmed as the violations are: the better of two looks in a row.
            const confirmed = Math.max(slackNow[c], previousSlack[c] ?? slackNow[c]);
            this.report.minSlack[c] = Math.min(this.report.minSlack[c] ?? confirmed, confirmed);
          }
          previousSlack = slackNow;
        } catch {
          previous = [];
          previousSlack = {};
        }
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
  }

  async stop(): Promise<MonitorReport> {
    this.stopped = true;
    await this.loop;
    await this.observer.close();
    return this.report;
  }
}
