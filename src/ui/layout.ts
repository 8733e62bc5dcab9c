// Decides what fits: the header's quorum lines and every replica always; then
// warnings; then the timeline with whatever is left. Cards lose detail (full,
// compact, one line) before anything else is given up. The whole screen stays
// one row shorter than the terminal: Ink clears the screen on every frame of
// an output as tall as the terminal, which flickers (and costs bandwidth over
// ssh).
import type { ReplicaView, Warning } from '../domain/types.js';
import type { LeasesSlot } from '../store/leases.js';
import type { Timeline } from '../store/ring.js';
import type { ZoneGroup } from '../store/selectors.js';
import { cardHeight, type Density } from './rows/card.js';
import type { ViewContext } from './rows/context.js';
import { clipLines, detailLines } from './rows/detail.js';
import { helpLines } from './rows/help.js';
import { leaseLines, leasesWanted } from './rows/leases.js';
import { timelineLines } from './rows/timeline.js';
import { warningLines, warningsWanted } from './rows/warnings.js';
import { type Line, textWidth } from './text.js';

export type Arrangement = 'columns' | 'rows';

export interface ZonePlan {
  arrangement: Arrangement;
  density: Density;
  /** Width of one zone column ('columns'), else the full width. */
  columnWidth: number;
  groups: ZoneGroup[];
  height: number;
}

/** Narrowest zone column for each density ('full' includes the border). */
export const MIN_COLUMN: Record<'full' | 'compact', number> = { full: 24, compact: 22 };

function columnWidthFor(width: number, zones: number): number {
  return zones > 0 ? Math.floor((width - (zones - 1)) / zones) : width;
}

function zonesHeight(
  groups: ZoneGroup[],
  arrangement: Arrangement,
  density: Density,
  width: number,
  ctx: ViewContext,
): number {
  const inner = density === 'full' ? width - 2 : width;
  const groupHeight = (g: ZoneGroup) =>
    g.replicas.reduce((n, r) => n + cardHeight(r, density, inner, ctx), 0);
  if (arrangement === 'columns') return 1 + Math.max(0, ...groups.map(groupHeight));
  return groups.reduce((n, g) => n + 1 + groupHeight(g), 0);
}

/** The densest arrangement that fits `budget` rows, preferably leaving `reserve` rows. */
export function planZones(
  groups: ZoneGroup[],
  ctx: ViewContext,
  width: number,
  budget: number,
  reserve: number,
): ZonePlan {
  const colWidth = columnWidthFor(width, groups.length);
  // A column must hold the longest replica name whole (pointer + name, plus the border for 'full').
  const longest = Math.max(0, ...groups.flatMap((g) => g.replicas.map((r) => textWidth(r.name))));
  const candidates: { arrangement: Arrangement; density: Density; columnWidth: number }[] = [];
  if (groups.length > 0 && colWidth >= Math.max(MIN_COLUMN.full, longest + 4)) {
    candidates.push({ arrangement: 'columns', density: 'full', columnWidth: colWidth });
  }
  if (groups.length > 0 && colWidth >= Math.max(MIN_COLUMN.compact, longest + 2)) {
    candidates.push({ arrangement: 'columns', density: 'compact', columnWidth: colWidth });
  }
  candidates.push({ arrangement: 'rows', density: 'compact', columnWidth: width });
  candidates.push({ arrangement: 'rows', density: 'line', columnWidth: width });
  // No groups: one line saying why (waiting, or nothing matches the filter).
  const planned = candidates.map((c) => ({
    ...c,
    groups,
    height: groups.length ? zonesHeight(groups, c.arrangement, c.density, c.columnWidth, ctx) : 1,
  }));
  const last = planned[planned.length - 1] as ZonePlan;
  return (
    planned.find((p) => p.height + reserve <= budget) ??
    planned.find((p) => p.height <= budget) ?? { ...last, height: Math.min(last.height, Math.max(1, budget)) }
  );
}

export interface DashboardPlan {
  kind: 'dashboard';
  zones: ZonePlan;
  warnings: Line[];
  /** The leader-leases panel (empty without leases). */
  leases: Line[];
  timeline: Line[];
}

export interface PagePlan {
  kind: 'detail' | 'help';
  lines: Line[];
}

export type BodyPlan = DashboardPlan | PagePlan;

export interface DashboardInput {
  groups: ZoneGroup[];
  warnings: readonly Warning[];
  timeline: Timeline;
  leases?: LeasesSlot | null;
}

export function planDashboard(
  input: DashboardInput,
  ctx: ViewContext,
  width: number,
  budget: number,
): DashboardPlan {
  const wanted = warningsWanted(input.warnings);
  // Keep room for the most severe warnings (title + 3) when choosing card detail.
  const reserve = Math.min(wanted, 4);
  const zones = planZones(input.groups, ctx, width, budget, reserve);
  const rest = Math.max(0, budget - zones.height);
  // Each panel gets a line first (warnings, the newest event, the leases folded),
  // then the warnings all they want, the leases theirs, the timeline what is left:
  // in an incident on a small terminal the newest event stays on screen.
  const leasesRows = leasesWanted(input.leases);
  let left = rest;
  const take = (want: number) => {
    const n = Math.max(0, Math.min(want, left));
    left -= n;
    return n;
  };
  let warningRows = take(1);
  let timelineRows = take(1);
  let leaseRows = take(leasesRows > 0 ? 1 : 0);
  warningRows += take(wanted - warningRows);
  // Short of room the lease panel folds into one line rather than hide a lease.
  if (leaseRows > 0 && left >= leasesRows - leaseRows) leaseRows += take(leasesRows - leaseRows);
  timelineRows += take(left);
  return {
    kind: 'dashboard',
    zones,
    warnings: warningLines(ctx, input.warnings, width, warningRows),
    leases: leaseLines(ctx, input.leases, width, leaseRows),
    timeline: timelineLines(ctx, input.timeline, width, timelineRows),
  };
}

export function planDetail(
  replica: ReplicaView | undefined,
  ctx: ViewContext,
  width: number,
  budget: number,
): PagePlan {
  const lines = replica ? detailLines(ctx, replica, width) : [];
  return { kind: 'detail', lines: clipLines(lines, budget, width, ctx.theme.glyphs.ellipsis) };
}

export function planHelp(ctx: ViewContext, width: number, budget: number): PagePlan {
  return { kind: 'help', lines: clipLines(helpLines(ctx, width), budget, width, ctx.theme.glyphs.ellipsis) };
}

/** Rows the screen may use: one less than the terminal (see above), at least a few. */
export function usableRows(terminalRows: number): number {
  return Math.max(6, terminalRows - 1);
}
