// Turns the records read from etcd into what `status --json` and the UI show
// per component, plus warnings. Pure: the clock and the replica names are inputs.
import type { Warning } from '../types.js';
import { holderReplica } from './holder.js';
import { judgeLiveness } from './staleness.js';
import type { ComponentLeaderRecords, ObservedLeaderRecord, RecordSource } from './types.js';

export type LeaseViewState = 'held' | 'stale' | 'released' | 'missing' | 'encrypted' | 'undecodable';

export interface LeaseView {
  /** The component (kube-controller-manager, ...). */
  name: string;
  holderIdentity: string | null;
  /** The known replica holding it; null when released, unknown or unreadable. */
  holderReplica: string | null;
  leaseDurationSeconds: number | null;
  acquireTime: string | null;
  renewTime: string | null;
  leaseTransitions: number | null;
  state: LeaseViewState;
  source: RecordSource;
  /** etcd mod_revision of the record shown; null when missing. */
  modRevision: string | null;
  /** How staleness was judged: by watching the key, or by renewTime against the local clock. */
  staleBy?: 'watch' | 'clock';
  reason?: string;
}

export interface LeaseViewOptions {
  /** Replica (VM) names; empty when unknown, which turns LEASE_HOLDER_UNKNOWN off. */
  knownReplicas: readonly string[];
  /** The tool's clock, ms since the epoch. */
  now: number;
  clockMarginMs?: number;
}

// Without these two the cluster does not reconcile or schedule: a dead leader is an error.
const CORE_COMPONENTS = new Set(['kube-controller-manager', 'kube-scheduler']);

const byRevisionDesc = (a: ObservedLeaderRecord, b: ObservedLeaderRecord) => {
  const ra = BigInt(a.modRevision);
  const rb = BigInt(b.modRevision);
  return ra > rb ? -1 : ra < rb ? 1 : 0;
};

/**
 * A Lease wins over legacy records (after a migration the old Endpoints or
 * ConfigMap stays behind, never renewed). Among legacy records, a readable one
 * wins, then the most recently written.
 */
export function chooseRecord(c: ComponentLeaderRecords): ObservedLeaderRecord | null {
  if (c.lease !== null) return c.lease;
  const legacy = [c.endpoints, c.configmap].filter((r): r is ObservedLeaderRecord => r !== null);
  const decoded = legacy.filter((r) => r.record.state === 'decoded').sort(byRevisionDesc);
  if (decoded[0] !== undefined) return decoded[0];
  return legacy.find((r) => r.record.state === 'encrypted' || r.record.state === 'undecodable') ?? null;
}

function emptyView(
  name: string,
  source: RecordSource,
  state: LeaseViewState,
  modRevision: string | null,
): LeaseView {
  return {
    name,
    holderIdentity: null,
    holderReplica: null,
    leaseDurationSeconds: null,
    acquireTime: null,
    renewTime: null,
    leaseTransitions: null,
    state,
    source,
    modRevision,
  };
}

export function leaseView(c: ComponentLeaderRecords, opts: LeaseViewOptions): LeaseView {
  const chosen = chooseRecord(c);
  if (chosen === null) {
    const noRecord = [c.endpoints, c.configmap].find((r) => r?.record.state === 'no-record');
    const view = emptyView(c.component, 'lease', 'missing', null);
    view.reason =
      noRecord?.record.state === 'no-record'
        ? noRecord.record.reason
        : 'no Lease, Endpoints or ConfigMap record';
    return view;
  }
  const rec = chosen.record;
  switch (rec.state) {
    case 'encrypted': {
      const view = emptyView(c.component, rec.source ?? 'lease', 'encrypted', chosen.modRevision);
      view.reason = `encrypted at rest (provider ${rec.provider}${rec.keyName ? `, key ${rec.keyName}` : ''})`;
      return view;
    }
    case 'undecodable': {
      const view = emptyView(c.component, rec.source ?? 'lease', 'undecodable', chosen.modRevision);
      view.reason = rec.reason;
      return view;
    }
    case 'no-record': {
      // chooseRecord never picks one; kept total for the type checker.
      const view = emptyView(c.component, rec.source, 'missing', chosen.modRevision);
      view.reason = rec.reason;
      return view;
    }
    case 'decoded': {
      const { spec } = rec;
      const liveness = judgeLiveness({
        spec,
        watch: chosen.watch,
        now: opts.now,
        clockMarginMs: opts.clockMarginMs,
      });
      const view: LeaseView = {
        name: c.component,
        holderIdentity: spec.holderIdentity,
        holderReplica:
          liveness.state === 'released' ? null : holderReplica(spec.holderIdentity, opts.knownReplicas),
        leaseDurationSeconds: spec.leaseDurationSeconds,
        acquireTime: spec.acquireTime,
        renewTime: spec.renewTime,
        leaseTransitions: spec.leaseTransitions,
        state: liveness.state,
        source: rec.source,
        modRevision: chosen.modRevision,
      };
      if (liveness.state === 'stale') view.staleBy = liveness.staleBy;
      if (liveness.reason !== undefined) view.reason = liveness.reason;
      return view;
    }
  }
}

export function leaseWarnings(views: readonly LeaseView[], knownReplicas: readonly string[]): Warning[] {
  const warnings: Warning[] = [];
  for (const v of views) {
    if (v.state === 'stale') {
      const w: Warning = {
        code: 'STALE_LEASE',
        severity: CORE_COMPONENTS.has(v.name) ? 'error' : 'warning',
        message: `${v.name}: leader ${v.holderIdentity ?? '?'} looks dead (${v.staleBy === 'watch' ? 'watched' : 'clock guess'}: ${v.reason ?? 'stale'})`,
      };
      if (v.holderReplica !== null) w.replica = v.holderReplica;
      warnings.push(w);
    }
    if ((v.state === 'held' || v.state === 'stale') && knownReplicas.length > 0 && v.holderReplica === null) {
      warnings.push({
        code: 'LEASE_HOLDER_UNKNOWN',
        severity: 'warning',
        message: `${v.name}: holder "${v.holderIdentity ?? ''}" is none of the known replicas (${knownReplicas.join(', ')})`,
      });
    }
  }
  return warnings;
}

export function buildLeaseViews(
  records: readonly ComponentLeaderRecords[],
  opts: LeaseViewOptions,
): { leases: LeaseView[]; warnings: Warning[] } {
  const leases = records.map((c) => leaseView(c, opts));
  return { leases, warnings: leaseWarnings(leases, opts.knownReplicas) };
}
