// The console's state: what the pollers last saw, what it means, what the
// operator is looking at. The UI renders this and nothing else.

import type {
  ApiserverProbe,
  ClusterStatus,
  EtcdClusterName,
  EtcdObservation,
  GceObservation,
  WarningCode,
} from '../domain/types.js';
import type { LeasesSlot } from './leases.js';
import type { Timeline } from './ring.js';
import type { UnhealthySince } from './unhealthy.js';

/** One polled source: the Compute API, or one etcd cluster. */
export type SourceKey = 'gce' | EtcdClusterName;
export const SOURCE_KEYS: readonly SourceKey[] = ['gce', 'main', 'events'];

export interface SourceState {
  /**
   * When a poll of this source last succeeded. Exact whenever `error` or
   * `stale` is set; while the source is healthy it moves only when the data
   * changes, so that an unchanged poll leaves the store (and the screen) alone.
   */
  lastOkAt: number | null;
  /** Error of the latest poll, null once a poll succeeds again. */
  error: string | null;
  /** When the current error first appeared. */
  errorAt: number | null;
  /** No poll has succeeded for longer than the poller's staleness limit. */
  stale: boolean;
}

export type TimelineKind =
  | 'observed'
  | 'replica'
  | 'vm'
  | 'member'
  | 'health'
  | 'leader'
  | 'lease'
  | 'warning'
  | 'apiserver'
  | 'source'
  | 'session'
  | 'action';

export type TimelineSeverity = 'info' | 'warning' | 'error';

export interface TimelineEvent {
  /** Sequence number within the session (React keys, export order). */
  id: number;
  /** Epoch milliseconds. */
  at: number;
  kind: TimelineKind;
  severity: TimelineSeverity;
  message: string;
  replica?: string;
  cluster?: EtcdClusterName;
  code?: WarningCode;
}

export type TimelineDraft = Omit<TimelineEvent, 'id'>;

export type ConsoleMode = 'read-only' | 'write';
export type ConsoleView = 'dashboard' | 'detail' | 'help';
export type MessageLevel = 'info' | 'warning' | 'error';

export interface StatusMessage {
  text: string;
  level: MessageLevel;
  at: number;
}

export type Direction = 'up' | 'down' | 'left' | 'right';

export interface Observed {
  gce: GceObservation | null;
  main: EtcdObservation | null;
  events: EtcdObservation | null;
  /** The latest kube-apiserver /readyz probes (replicas and load balancer); null until probed. */
  apiservers?: ApiserverProbe[] | null;
  /** targetPools.getHealth by instance, for a pool with a health check; null until asked. */
  poolHealth?: Record<string, string> | null;
}

export interface ConsoleData {
  observations: Observed;
  sources: Record<SourceKey, SourceState>;
  /** Derived from the observations; null until anything was observed. */
  status: ClusterStatus | null;
  /**
   * What happened this session, oldest first: the newest events only (a ring
   * buffer, see ring.ts); `total` counts them all, the session log holds them all.
   */
  timeline: Timeline;
  /**
   * The leader-leases panel's data (kube-controller-manager, scheduler,
   * autoscaler): a LeasesSlot (src/store/leases.ts) once applyLeases was
   * called; read it through asLeasesSlot.
   */
  leases: unknown;
  /** The newest etcd main snapshot kube-ha saved in the state dir; null: none known. */
  lastSnapshot: LastSnapshot | null;
  /** Since when each unhealthy replica has been seen so (src/store/unhealthy.ts). */
  unhealthySince: UnhealthySince;
  paused: boolean;
  pausedAt: number | null;
  mode: ConsoleMode;
  view: ConsoleView;
  /** Selected replica name. */
  selected: string | null;
  /** Case-insensitive substring on replica name or zone; '' shows all. */
  filter: string;
  /** The `/` prompt is open and keys go to the filter text. */
  filterEditing: boolean;
  message: StatusMessage | null;
}

/** What the header says of the last snapshot: its age and revision. */
export interface LastSnapshot {
  takenAt: number;
  revision: string;
  file: string;
}

export interface ConsoleActions {
  /** A GCE poll succeeded. Structurally identical data changes nothing. */
  applyGce(obs: GceObservation, at?: number): void;
  /** An etcd poll succeeded. Structurally identical data changes nothing. */
  applyEtcd(obs: EtcdObservation, at?: number): void;
  /**
   * A round of kube-apiserver probes (every replica and the load balancer).
   * Identical results change nothing; probes never fail, they say why.
   */
  applyApiservers(probes: ApiserverProbe[], at?: number): void;
  /** GCE's health state of each member of a pool with a health check (identical answers change nothing). */
  applyPoolHealth(health: Record<string, string>, at?: number): void;
  /** A poll failed or timed out; the last data stays, marked with the error. */
  sourceFailed(source: SourceKey, error: string, at?: number): void;
  /**
   * Marks sources stale (or fresh again) by the time of their last success.
   * Only the sources listed are checked: the ones being polled.
   */
  checkStaleness(now: number, staleAfterMs: Partial<Record<SourceKey, number>>): void;
  /** Sets a derived status directly (tests, demos, a caller with its own model). */
  applyStatus(status: ClusterStatus, at?: number): void;
  /** Adds a timeline entry from outside the model (operator actions, session notes). */
  recordEvent(event: Omit<TimelineDraft, 'at'> & { at?: number }): void;
  /** Replaces the leases slot (identical values are dropped). */
  setLeases(leases: unknown): void;
  /** The newest snapshot as the state dir lists it (identical values are dropped). */
  setLastSnapshot(s: LastSnapshot | null): void;
  /**
   * Sets the leader leases (identical values are dropped) and puts their
   * changes on the timeline: who leads, a leader moving or going stale.
   */
  applyLeases(slot: LeasesSlot, at?: number): void;
  setPaused(paused: boolean): void;
  togglePaused(): void;
  select(replica: string | null): void;
  moveSelection(direction: Direction): void;
  setView(view: ConsoleView): void;
  setFilter(filter: string): void;
  setFilterEditing(editing: boolean): void;
  setMessage(text: string, level?: MessageLevel): void;
  clearMessage(): void;
}

export type ConsoleState = ConsoleData & ConsoleActions;
