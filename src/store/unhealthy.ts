// Since when each replica has been unhealthy, for the cards ("unhealthy
// 2m10s") and before a remedy: counted from the first look that saw it so,
// forgotten the moment a look sees it healthy again. A single look is not a
// diagnosis; a duration across looks is. Pure.
import { replicaHealthy } from '../domain/ops/resolve.js';
import type { ClusterStatus } from '../domain/types.js';

/** Replica name -> when it was first seen unhealthy (ms). */
export type UnhealthySince = Readonly<Record<string, number>>;

export const NONE_UNHEALTHY: UnhealthySince = Object.freeze({});

/** The next record for a new status; the same object when nothing changed (no redraw). */
export function trackUnhealthy(
  prev: UnhealthySince,
  status: ClusterStatus | null,
  at: number,
): UnhealthySince {
  if (!status) return prev;
  const next: Record<string, number> = {};
  for (const r of status.replicas) if (!replicaHealthy(r)) next[r.name] = prev[r.name] ?? at;
  const keys = Object.keys(next);
  const same = keys.length === Object.keys(prev).length && keys.every((k) => prev[k] === next[k]);
  return same ? prev : keys.length ? next : NONE_UNHEALTHY;
}
