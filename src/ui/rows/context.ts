// What every line builder needs to know besides its own subject.

import { type HealthWord, healthWord } from '../../domain/format.js';
import type { ApiserverHealth, ClusterStatus, MemberView, VmStatus } from '../../domain/types.js';
import type { LeasesSlot } from '../../store/leases.js';
import type { ConsoleMode, LastSnapshot, SourceKey, SourceState } from '../../store/types.js';
import type { UnhealthySince } from '../../store/unhealthy.js';
import type { ColorRole, Theme } from '../theme.js';

export interface ViewContext {
  theme: Theme;
  /** Clock for ages; only ticks while something is stale (see useNow). */
  now: number;
  status: ClusterStatus | null;
  sources: Record<SourceKey, SourceState>;
  mode: ConsoleMode;
  paused: boolean;
  pausedAt: number | null;
  /** The selected replica as drawn (never a filtered-out one). */
  selected: string | null;
  /** Leader leases, for the badges on the holders' cards (absent: none shown). */
  leases?: LeasesSlot | null;
  /** The newest etcd main snapshot kube-ha knows (absent: not shown; null: none yet). */
  lastSnapshot?: LastSnapshot | null;
  /** Since when each unhealthy replica has been seen so (absent: not shown). */
  unhealthySince?: UnhealthySince;
}

export const HEALTH_ROLE: Record<HealthWord, ColorRole> = {
  healthy: 'ok',
  'in alarm': 'error',
  slow: 'warn',
  unhealthy: 'error',
  unreachable: 'error',
};

export function memberRole(m: MemberView): ColorRole {
  return HEALTH_ROLE[healthWord(m)];
}

export function vmRole(s: VmStatus): ColorRole {
  if (s === 'RUNNING') return 'ok';
  if (s === 'UNKNOWN') return 'muted';
  if (s === 'MISSING' || s === 'TERMINATED' || s === 'STOPPED' || s === 'SUSPENDED') return 'error';
  return 'warn';
}

export function apiserverRole(a: ApiserverHealth | null): ColorRole {
  if (a === null) return 'muted';
  return a.state === 'ready' ? 'ok' : 'error';
}

export function sourceLabel(key: SourceKey): string {
  return key === 'gce' ? 'Compute API' : `etcd ${key}`;
}

export function sourceTrouble(s: SourceState): boolean {
  return s.error !== null || s.stale;
}
