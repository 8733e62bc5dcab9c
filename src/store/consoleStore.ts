// The console's zustand vanilla store. Pollers call the apply/fail actions,
// the UI reads state and calls the view actions; neither talks to the other.
// Every action drops updates that change nothing, so that an unchanged poll
// notifies no subscriber and redraws nothing.
import { createStore, type StoreApi } from 'zustand/vanilla';
import { formatAge, oneLine } from '../domain/format.js';
import { addSample, largestMember, type SizeSample, spaceGrowthWarnings } from '../domain/space-growth.js';
import { buildStatus } from '../domain/status.js';
import type {
  ApiserverProbe,
  ClusterStatus,
  EtcdClusterName,
  EtcdObservation,
  GceObservation,
  Warning,
} from '../domain/types.js';
import {
  COUNTER_OBSERVATION_KEYS,
  COUNTER_REFRESH_MS,
  structurallyEqual,
  VOLATILE_OBSERVATION_KEYS,
  VOLATILE_STATUS_KEYS,
} from './equal.js';
import { asLeasesSlot, diffLeases } from './leases.js';
import { TIMELINE_LIMIT, type Timeline, TimelineRing } from './ring.js';
import { effectiveSelection, moveInGroups, visibleReplicas, zoneGroups } from './selectors.js';
import { diffStatus } from './timeline.js';
import type {
  ConsoleData,
  ConsoleMode,
  ConsoleState,
  SourceKey,
  SourceState,
  TimelineDraft,
  TimelineEvent,
} from './types.js';
import { SOURCE_KEYS } from './types.js';
import { NONE_UNHEALTHY, trackUnhealthy } from './unhealthy.js';

/** What the model is given on every change of an observation or a source's health. */
export interface StatusInput {
  gce: GceObservation | null;
  /** The Compute API's latest failure (or silence), while the last data is kept. */
  gceError: string | null;
  etcd: Record<EtcdClusterName, EtcdObservation | null>;
  /** kube-apiserver probes (absent or null: not probed yet). */
  apiservers?: ApiserverProbe[] | null;
  /** targetPools.getHealth by instance (absent or null: not asked). */
  poolHealth?: Record<string, string> | null;
  now: Date;
}

export type DeriveStatus = (input: StatusInput) => ClusterStatus;

export interface ConsoleTarget {
  project: string | null;
  region: string | null;
  masterName: string;
}

export interface ConsoleStoreOptions {
  /** 'read-only' (default) or 'write' (--write). */
  mode?: ConsoleMode;
  /** Used by the default model (buildStatus) for names the observations may lack. */
  target?: ConsoleTarget;
  /** The model; defaults to src/domain/status.ts's buildStatus with `target`. */
  deriveStatus?: DeriveStatus;
  /** Clock (tests). */
  now?: () => number;
  /** Timeline events kept in memory (default TIMELINE_LIMIT); the session log on disk has them all. */
  timelineLimit?: number;
}

export type ConsoleStore = StoreApi<ConsoleState>;

const SOURCE_LABEL: Record<SourceKey, string> = {
  gce: 'Compute API',
  main: 'etcd main',
  events: 'etcd events',
};

function freshSource(): SourceState {
  return { lastOkAt: null, error: null, errorAt: null, stale: false };
}

export function defaultDeriveStatus(target: ConsoleTarget | undefined): DeriveStatus {
  return (input) =>
    buildStatus({
      project: target?.project ?? null,
      region: target?.region ?? null,
      masterName: target?.masterName ?? input.gce?.masterName ?? 'kubernetes-master',
      gce: input.gce,
      gceError: input.gceError,
      etcd: input.etcd,
      ...(input.apiservers ? { apiservers: input.apiservers } : {}),
      ...(input.poolHealth ? { poolHealth: input.poolHealth } : {}),
      now: input.now,
    });
}

/**
 * A failed or silent etcd poll has no place in the model's input (the
 * sources never reject); say so as a warning so that it reaches the
 * warnings panel and the timeline like any other problem.
 */
function pollWarnings(sources: Record<SourceKey, SourceState>): Warning[] {
  const out: Warning[] = [];
  for (const cluster of ['main', 'events'] as const) {
    const s = sources[cluster];
    if (!s.error && !s.stale) continue;
    const why = s.error ? `poll failed: ${s.error}` : 'no answer to the last poll';
    out.push({
      code: 'ETCD_UNREACHABLE',
      severity: 'error',
      cluster,
      message: `etcd ${cluster}: ${why} (showing the last data)`,
    });
  }
  return out;
}

export function createConsoleStore(opts: ConsoleStoreOptions = {}): ConsoleStore {
  const now = opts.now ?? Date.now;
  const derive = opts.deriveStatus ?? defaultDeriveStatus(opts.target);
  // Outside the state on purpose: the time of every successful poll, which
  // changes on every poll and must not notify subscribers.
  const heartbeat: Partial<Record<SourceKey, number>> = {};
  // When each source's observation was last applied (for counter-only changes).
  const appliedAt: Partial<Record<SourceKey, number>> = {};
  const watchedSince: Partial<Record<SourceKey, number>> = {};
  let resumedAt = 0;
  let nextId = 1;
  // The largest member's database size per cluster over the last hour (space-growth.ts).
  const sizeHistory: Partial<Record<'main' | 'events', SizeSample[]>> = {};
  const ring = new TimelineRing(opts.timelineLimit ?? TIMELINE_LIMIT);

  const initial: ConsoleData = {
    observations: { gce: null, main: null, events: null },
    sources: { gce: freshSource(), main: freshSource(), events: freshSource() },
    status: null,
    timeline: ring.view(),
    leases: null,
    lastSnapshot: null,
    unhealthySince: NONE_UNHEALTHY,
    paused: false,
    pausedAt: null,
    mode: opts.mode ?? 'read-only',
    view: 'dashboard',
    selected: null,
    filter: '',
    filterEditing: false,
    message: null,
  };

  return createStore<ConsoleState>()((set, get) => {
    /**
     * Appends in place and returns the new view to set: O(1) per event, no
     * copy of the history. With nothing to add, the current view (no change).
     */
    const append = (drafts: TimelineDraft[]): Timeline => {
      if (drafts.length === 0) return get().timeline;
      ring.push(drafts.map((d): TimelineEvent => ({ id: nextId++, ...d })));
      return ring.view();
    };

    /** The next status for these inputs, or the previous object when nothing it says changed. */
    const statusFor = (
      data: Pick<ConsoleData, 'observations' | 'sources'>,
      at: number,
      prev: ClusterStatus | null,
    ) => {
      const { observations: o, sources } = data;
      const anything =
        o.gce !== null ||
        o.main !== null ||
        o.events !== null ||
        SOURCE_KEYS.some((k) => sources[k].error !== null || sources[k].stale);
      if (!anything) return prev;
      const g = sources.gce;
      const gceError = g.error ?? (g.stale ? 'no answer to the last poll' : null);
      const derived = derive({
        gce: o.gce,
        gceError,
        etcd: { main: o.main, events: o.events },
        apiservers: o.apiservers ?? null,
        poolHealth: o.poolHealth ?? null,
        now: new Date(at),
      });
      // The database's growth toward its quota, from the sizes seen in this session.
      for (const c of ['main', 'events'] as const) {
        const big = largestMember(derived, c);
        if (big) sizeHistory[c] = addSample(sizeHistory[c] ?? [], { at, bytes: big.bytes });
      }
      const extra = [...pollWarnings(sources), ...spaceGrowthWarnings(derived, sizeHistory)];
      const next = extra.length ? { ...derived, warnings: [...derived.warnings, ...extra] } : derived;
      return prev && structurallyEqual(prev, next, VOLATILE_STATUS_KEYS) ? prev : next;
    };

    /** Applies new observations/source states: re-derives, diffs into the timeline, sets once. */
    const commit = (
      change: Partial<Pick<ConsoleData, 'observations' | 'sources'>>,
      at: number,
      notes: TimelineDraft[],
    ) => {
      const s = get();
      const observations = change.observations ?? s.observations;
      const sources = change.sources ?? s.sources;
      const status = statusFor({ observations, sources }, at, s.status);
      const drafts = status !== s.status && status ? [...notes, ...diffStatus(s.status, status, at)] : notes;
      set({
        observations,
        sources,
        status,
        unhealthySince: trackUnhealthy(s.unhealthySince, status, at),
        timeline: append(drafts),
      });
    };

    const succeeded = (key: SourceKey, obs: GceObservation | EtcdObservation, at: number) => {
      const s = get();
      if (s.paused) return;
      heartbeat[key] = at;
      const same = structurallyEqual(s.observations[key], obs, VOLATILE_OBSERVATION_KEYS);
      const src = s.sources[key];
      const recovering = src.error !== null || src.stale;
      if (same && !recovering && src.lastOkAt !== null) return;
      const countersOnly = !same && structurallyEqual(s.observations[key], obs, COUNTER_OBSERVATION_KEYS);
      if (countersOnly && !recovering && at - (appliedAt[key] ?? 0) < COUNTER_REFRESH_MS) return;
      if (!same) appliedAt[key] = at;
      const notes: TimelineDraft[] = [];
      if (recovering) {
        const since = src.lastOkAt ?? src.errorAt;
        const gap = since !== null ? ` after ${formatAge(at - since)}` : '';
        // The cleared warning says what recovered; this says how long it was out.
        notes.push({
          at,
          kind: 'source',
          severity: 'info',
          message: `${SOURCE_LABEL[key]} answering again${gap}`,
        });
      }
      commit(
        {
          observations: same ? s.observations : { ...s.observations, [key]: obs },
          sources: { ...s.sources, [key]: { lastOkAt: at, error: null, errorAt: null, stale: false } },
        },
        at,
        notes,
      );
    };

    return {
      ...initial,

      applyGce: (obs, at = now()) => succeeded('gce', obs, at),
      applyEtcd: (obs, at = now()) => succeeded(obs.cluster, obs, at),

      applyApiservers: (probes, at = now()) => {
        const s = get();
        if (s.paused || structurallyEqual(s.observations.apiservers ?? null, probes)) return;
        commit({ observations: { ...s.observations, apiservers: probes } }, at, []);
      },

      applyPoolHealth: (health, at = now()) => {
        const s = get();
        if (s.paused || structurallyEqual(s.observations.poolHealth ?? null, health)) return;
        commit({ observations: { ...s.observations, poolHealth: health } }, at, []);
      },

      sourceFailed: (key, error, at = now()) => {
        const s = get();
        if (s.paused) return;
        const src = s.sources[key];
        const text = oneLine(error) || 'unknown error';
        if (src.error === text) return;
        // No note of its own: the failure reaches the timeline as the warning it causes.
        const next: SourceState = {
          lastOkAt: heartbeat[key] ?? null,
          error: text,
          errorAt: src.errorAt ?? at,
          stale: src.stale,
        };
        commit({ sources: { ...s.sources, [key]: next } }, at, []);
      },

      checkStaleness: (at, staleAfterMs) => {
        const s = get();
        if (s.paused) return;
        let sources = s.sources;
        for (const key of SOURCE_KEYS) {
          const limit = staleAfterMs[key];
          if (limit === undefined) continue;
          watchedSince[key] ??= at;
          const last = Math.max(heartbeat[key] ?? watchedSince[key] ?? at, resumedAt);
          const stale = at - last > limit;
          if (stale === sources[key].stale) continue;
          // Only turning stale is news; freshness returns with a successful poll.
          if (!stale) continue;
          // The timeline hears of it through the warning this causes.
          sources = { ...sources, [key]: { ...sources[key], stale, lastOkAt: heartbeat[key] ?? null } };
        }
        if (sources !== s.sources) commit({ sources }, at, []);
      },

      applyStatus: (status, at = now()) => {
        const s = get();
        if (s.paused) return;
        if (s.status && structurallyEqual(s.status, status, VOLATILE_STATUS_KEYS)) return;
        const drafts = diffStatus(s.status, status, at);
        set({
          status,
          unhealthySince: trackUnhealthy(s.unhealthySince, status, at),
          timeline: append(drafts),
        });
      },

      recordEvent: (event) => {
        const { at = now(), ...rest } = event;
        set({ timeline: append([{ at, ...rest }]) });
      },

      setLeases: (leases) => {
        if (structurallyEqual(get().leases, leases)) return;
        set({ leases });
      },

      setLastSnapshot: (lastSnapshot) => {
        if (structurallyEqual(get().lastSnapshot, lastSnapshot)) return;
        set({ lastSnapshot });
      },

      applyLeases: (slot, at = now()) => {
        const s = get();
        if (s.paused || structurallyEqual(s.leases, slot)) return;
        const drafts = diffLeases(asLeasesSlot(s.leases), slot, at);
        set({ leases: slot, timeline: append(drafts) });
      },

      setPaused: (paused) => {
        const s = get();
        if (s.paused === paused) return;
        const at = now();
        if (!paused) resumedAt = at;
        const message = paused ? 'updates paused (p resumes)' : 'updates resumed';
        set({
          paused,
          pausedAt: paused ? at : null,
          timeline: append([{ at, kind: 'session', severity: 'info', message }]),
        });
      },
      togglePaused: () => get().setPaused(!get().paused),

      select: (replica) => {
        if (get().selected !== replica) set({ selected: replica });
      },
      moveSelection: (direction) => {
        const s = get();
        const groups = zoneGroups(visibleReplicas(s.status, s.filter));
        const from = effectiveSelection(s.status, s.filter, s.selected);
        const to = from === null ? null : moveInGroups(groups, from, direction);
        if (to !== s.selected) set({ selected: to });
      },

      setView: (view) => {
        const s = get();
        if (view === 'detail') {
          const target = effectiveSelection(s.status, s.filter, s.selected);
          if (target === null) return;
          if (s.view !== 'detail' || s.selected !== target) set({ view, selected: target });
          return;
        }
        if (s.view !== view) set({ view });
      },

      setFilter: (filter) => {
        if (get().filter !== filter) set({ filter });
      },
      setFilterEditing: (filterEditing) => {
        if (get().filterEditing !== filterEditing) set({ filterEditing });
      },

      setMessage: (text, level = 'info') => set({ message: { text: oneLine(text), level, at: now() } }),
      clearMessage: () => {
        if (get().message !== null) set({ message: null });
      },
    };
  });
}
