// Pure views of the state that both the screen and the store's actions need
// (the selection moves over exactly what is drawn).
import type { ClusterStatus, ReplicaView } from '../domain/types.js';
import type { Direction } from './types.js';

export interface ZoneGroup {
  /** null: replicas without a VM (or GCE not observed). */
  zone: string | null;
  replicas: ReplicaView[];
}

export function matchesFilter(r: ReplicaView, filter: string): boolean {
  const f = filter.trim().toLowerCase();
  if (!f) return true;
  return r.name.toLowerCase().includes(f) || (r.zone ?? '').toLowerCase().includes(f);
}

export function visibleReplicas(status: ClusterStatus | null, filter: string): ReplicaView[] {
  return (status?.replicas ?? []).filter((r) => matchesFilter(r, filter));
}

/** Replicas by zone, zones in name order, the zone-less group last. */
export function zoneGroups(replicas: readonly ReplicaView[]): ZoneGroup[] {
  const byZone = new Map<string | null, ReplicaView[]>();
  for (const r of replicas) {
    const list = byZone.get(r.zone) ?? [];
    list.push(r);
    byZone.set(r.zone, list);
  }
  return [...byZone.entries()]
    .sort(([a], [b]) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1))
    .map(([zone, list]) => ({ zone, replicas: [...list].sort((x, y) => (x.name < y.name ? -1 : 1)) }));
}

/** Replicas in screen order: zone by zone. */
export function screenOrder(groups: readonly ZoneGroup[]): ReplicaView[] {
  return groups.flatMap((g) => g.replicas);
}

/**
 * The replica a move lands on. Up and down walk the screen order (crossing
 * into the next zone at the end of one); left and right jump to the
 * neighbouring zone at the same height. Moves stop at the edges.
 */
export function moveInGroups(
  groups: readonly ZoneGroup[],
  selected: string | null,
  dir: Direction,
): string | null {
  const order = screenOrder(groups);
  if (order.length === 0) return null;
  const zi = groups.findIndex((g) => g.replicas.some((r) => r.name === selected));
  const group = groups[zi];
  if (!group) return order[0]?.name ?? null;
  const ri = group.replicas.findIndex((r) => r.name === selected);
  if (dir === 'up' || dir === 'down') {
    const i = order.findIndex((r) => r.name === selected);
    const next = order[Math.max(0, Math.min(order.length - 1, i + (dir === 'down' ? 1 : -1)))];
    return next?.name ?? selected;
  }
  const target = groups[zi + (dir === 'right' ? 1 : -1)];
  if (!target) return selected;
  return target.replicas[Math.min(ri, target.replicas.length - 1)]?.name ?? selected;
}

/** The selection to show: the chosen replica if visible, else the first visible one. */
export function effectiveSelection(
  status: ClusterStatus | null,
  filter: string,
  selected: string | null,
): string | null {
  const visible = visibleReplicas(status, filter);
  if (selected && visible.some((r) => r.name === selected)) return selected;
  return zoneGroups(visible)[0]?.replicas[0]?.name ?? null;
}
