// Zone headings and the rows arrangement of the replica area.
import type { ZoneGroup } from '../../store/selectors.js';
import { type Line, pack, seg } from '../text.js';
import { cardLines, type Density } from './card.js';
import type { ViewContext } from './context.js';

export function zoneTitle(g: ZoneGroup, ctx: ViewContext, width: number): Line {
  const label = g.zone ?? (g.replicas.every((r) => r.vm.status === 'UNKNOWN') ? 'zone unknown' : 'no VM');
  return pack(
    [
      { segs: [seg(label, { bold: true, role: 'title' })] },
      { segs: [seg(` (${g.replicas.length})`, { role: 'muted' })], drop: 1 },
    ],
    width,
    ctx.theme.glyphs.ellipsis,
  );
}

/** Zones one under the other, each with its replicas' lines. */
export function zoneRowsLines(
  groups: ZoneGroup[],
  density: Density,
  ctx: ViewContext,
  width: number,
): Line[] {
  return groups.flatMap((g) => [
    zoneTitle(g, ctx, width),
    ...g.replicas.flatMap((r) => cardLines(r, density, width, ctx)),
  ]);
}
