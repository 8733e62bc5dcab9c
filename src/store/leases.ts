// The console's leader-leases slot: what the lease panel and the replica
// cards' badges show, derived from the LeaseWatcher's records on the tool's
// own clock, and the timeline entries for its changes. Pure.
//
// The slot holds nothing that moves while all is well: a renewal changes the
// record in etcd every retry period, but the slot only says "renewed within a
// few seconds" until a leader is late. So a healthy cluster redraws nothing.
import type { ComponentLeaderRecords, RecordSource } from '../domain/leases/types.js';
import { buildLeaseViews, chooseRecord, type LeaseViewState } from '../domain/leases/view.js';
import type { TimelineDraft, TimelineSeverity } from './types.js';

export type RenewAge =
  /** Renewed within `withinS` seconds (the leader is on time). */
  | { fresh: true; withinS: number }
  /** Not renewed for `ageS` whole seconds by this tool's clock. */
  | { fresh: false; ageS: number };

export interface LeaseItem {
  /** The component: kube-controller-manager, kube-scheduler, cluster-autoscaler. */
  name: string;
  state: LeaseViewState;
  holderIdentity: string | null;
  /** The replica holding it; null when released, unknown or unreadable. */
  holderReplica: string | null;
  source: RecordSource;
  leaseDurationSeconds: number | null;
  leaseTransitions: number | null;
  /** 'watch': staleness from watching the key; 'clock': renewTime against this machine's clock. */
  judgedBy: 'watch' | 'clock';
  /** Since the record last changed, on this tool's clock; null until known (or when there is no holder). */
  renew: RenewAge | null;
  /** Why the state is what it is (stale, unreadable, missing). */
  reason: string | null;
  /**
   * When the record last changed, on this tool's clock: set only once it
   * stops moving (a late or stale leader's last renewal, or the release), so
   * that a leader renewing on time changes nothing here. What a lease move
   * measures the time without a leader from.
   */
  lastRenewAt?: number;
}

export interface LeasesSlot {
  items: LeaseItem[];
  /** Every key's watch is connected. */
  watching: boolean;
  /** Why the leases are unknown or may be behind; null when all is well. */
  error: string | null;
}

export interface LeasesInput {
  /** null until the records were first read. */
  records: ComponentLeaderRecords[] | null;
  watching: boolean;
  error: string | null;
  now: number;
}

/** Type guard for the store's `leases` slot (typed `unknown` there for other callers). */
export function asLeasesSlot(v: unknown): LeasesSlot | null {
  if (typeof v !== 'object' || v === null) return null;
  const s = v as Partial<LeasesSlot>;
  return Array.isArray(s.items) && typeof s.watching === 'boolean' ? (v as LeasesSlot) : null;
}

/** A leader renewing on time shows as "renewed within this many seconds": a third of its lease, at least 1 s. */
export function freshWithin(leaseDurationSeconds: number): number {
  return Math.max(1, Math.ceil(leaseDurationSeconds / 3));
}

function renewAge(c: ComponentLeaderRecords, duration: number | null, now: number): RenewAge | null {
  const watch = chooseRecord(c)?.watch;
  if (!watch || duration === null || duration <= 0) return null;
  const ageMs = Math.max(0, now - watch.lastChangeAt);
  const within = freshWithin(duration);
  // Before the first change is seen, the age is only known to be at least this much.
  if (watch.lastChangeAt === watch.since && ageMs <= duration * 1000) return null;
  if (ageMs < within * 1000) return { fresh: true, withinS: within };
  return { fresh: false, ageS: Math.floor(ageMs / 1000) };
}

export function buildLeasesSlot(input: LeasesInput, knownReplicas: readonly string[]): LeasesSlot {
  if (input.records === null) return { items: [], watching: false, error: input.error };
  const { leases } = buildLeaseViews(input.records, { knownReplicas, now: input.now });
  const items = leases.map((v, i): LeaseItem => {
    const c = input.records?.[i] as ComponentLeaderRecords;
    const watched = chooseRecord(c)?.watch !== undefined;
    const holding = v.state === 'held' || v.state === 'stale';
    const renew = holding ? renewAge(c, v.leaseDurationSeconds, input.now) : null;
    const watch = chooseRecord(c)?.watch;
    const settled = (holding && renew !== null && !renew.fresh) || v.state === 'released';
    const item: LeaseItem = {
      name: v.name,
      state: v.state,
      holderIdentity: v.holderIdentity,
      holderReplica: v.holderReplica,
      source: v.source,
      leaseDurationSeconds: v.leaseDurationSeconds,
      leaseTransitions: v.leaseTransitions,
      judgedBy: watched && v.staleBy !== 'clock' ? 'watch' : 'clock',
      renew,
      // A held lease's reason only explains why nothing could be judged; it changes with the clock.
      reason: v.state === 'held' ? null : (v.reason ?? null),
    };
    if (settled && watch) item.lastRenewAt = watch.lastChangeAt;
    return item;
  });
  return { items, watching: input.watching, error: input.error };
}

const CORE = new Set(['kube-controller-manager', 'kube-scheduler']);

/** A holder as a person would name it: the replica, or the identity when no replica matches. */
export function holderLabel(item: Pick<LeaseItem, 'holderReplica' | 'holderIdentity'>): string {
  return item.holderReplica ?? (item.holderIdentity || '(none)');
}

function stateWord(item: LeaseItem): string {
  switch (item.state) {
    case 'held':
      return `held by ${holderLabel(item)}`;
    case 'stale':
      return `held by ${holderLabel(item)}, not renewed`;
    default:
      return item.state;
  }
}

function baseline(next: LeasesSlot, at: number): TimelineDraft[] {
  return [
    {
      at,
      kind: 'lease',
      severity: 'info',
      message: `leases: ${next.items.map((i) => `${i.name} ${stateWord(i)}`).join('; ')}`,
    },
  ];
}

function itemEvents(p: LeaseItem, n: LeaseItem, at: number): TimelineDraft[] {
  const ev = (severity: TimelineSeverity, message: string, replica: string | null): TimelineDraft => {
    const e: TimelineDraft = { at, kind: 'lease', severity, message: `${n.name}: ${message}` };
    if (replica) e.replica = replica;
    return e;
  };
  const holds = (i: LeaseItem) => i.state === 'held' || i.state === 'stale';
  if (holds(n) && n.holderIdentity !== p.holderIdentity) {
    // The same replica under a new process identity (a restart) is named by identity, or it would read "a -> a".
    const same = n.holderReplica !== null && n.holderReplica === p.holderReplica;
    const from = holds(p) ? (same ? p.holderIdentity : holderLabel(p)) : null;
    const to = same ? n.holderIdentity : holderLabel(n);
    const transitions = n.leaseTransitions !== null ? ` (transitions ${n.leaseTransitions})` : '';
    return [
      ev(
        from ? 'warning' : 'info',
        (from ? `leader moved ${from} -> ${to}${transitions}` : `leader is ${to}${transitions}`) +
          leaderless(p, at),
        n.holderReplica,
      ),
    ];
  }
  if (p.state === n.state) return [];
  const holder = holderLabel(n);
  switch (n.state) {
    case 'stale':
      return [
        ev(
          CORE.has(n.name) ? 'error' : 'warning',
          `leader ${holder} stopped renewing${n.reason ? ` (${n.reason})` : ''}`,
          n.holderReplica,
        ),
      ];
    case 'held':
      return [ev('info', `leader ${holder} renewing again`, n.holderReplica)];
    case 'released':
      return [ev('info', `released${holds(p) ? ` by ${holderLabel(p)}` : ''}`, p.holderReplica)];
    case 'missing':
      return [ev('warning', 'lease record gone', null)];
    default:
      return [ev('warning', `record ${n.state}${n.reason ? `: ${n.reason}` : ''}`, null)];
  }
}

/**
 * How long the component had no working leader before this acquire: from the
 * old holder's last renewal (or its release) to now, on this tool's clock,
 * and how much of that was after its lease expired. '' when the old holder
 * was still renewing on time (nothing to measure).
 */
function leaderless(p: LeaseItem, at: number): string {
  if (p.lastRenewAt === undefined) return '';
  const gapS = Math.max(0, Math.round((at - p.lastRenewAt) / 1000));
  if (p.state === 'released') return `; leaderless ${gapS} s since it was released`;
  const who = holderLabel(p);
  const d = p.leaseDurationSeconds;
  const expired = d === null ? '' : `, ${Math.max(0, gapS - d)} s after its lease expired`;
  return `; leaderless ${gapS} s (${who}'s last renewal ${gapS} s before${expired})`;
}

/** Timeline entries for a change of the slot. */
export function diffLeases(prev: LeasesSlot | null, next: LeasesSlot, at: number): TimelineDraft[] {
  const out: TimelineDraft[] = [];
  if (prev?.error !== next.error) {
    if (next.error) out.push({ at, kind: 'lease', severity: 'warning', message: `leases: ${next.error}` });
    else if (prev?.error)
      out.push({ at, kind: 'lease', severity: 'info', message: 'leases: watching again' });
  }
  if (!prev || prev.items.length === 0) {
    if (next.items.length) out.push(...baseline(next, at));
    return out;
  }
  const before = new Map(prev.items.map((i) => [i.name, i]));
  for (const n of next.items) {
    const p = before.get(n.name);
    if (p) out.push(...itemEvents(p, n, at));
  }
  return out;
}
