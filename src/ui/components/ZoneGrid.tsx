// The replica area: zones as columns, or one under the other when narrow.
import { Box } from 'ink';
import type { ZonePlan } from '../layout.js';
import type { ViewContext } from '../rows/context.js';
import { clipLines } from '../rows/detail.js';
import { zoneRowsLines } from '../rows/zones.js';
import { pack, seg } from '../text.js';
import { Lines } from './Lines.js';
import { ZoneColumn } from './ZoneColumn.js';

export function ZoneGrid(props: { plan: ZonePlan; ctx: ViewContext; width: number; emptyText: string }) {
  const { plan, ctx, width } = props;
  if (plan.groups.length === 0) {
    return (
      <Lines
        lines={[
          pack([{ segs: [seg(props.emptyText, { role: 'muted' })] }], width, ctx.theme.glyphs.ellipsis),
        ]}
      />
    );
  }
  if (plan.arrangement === 'columns') {
    const last = plan.groups.length - 1;
    return (
      <Box flexDirection="row">
        {plan.groups.map((g, i) => (
          <ZoneColumn
            key={g.zone ?? '(none)'}
            group={g}
            density={plan.density}
            width={plan.columnWidth}
            gap={i < last ? 1 : 0}
            ctx={ctx}
          />
        ))}
      </Box>
    );
  }
  const lines = zoneRowsLines(plan.groups, plan.density, ctx, width);
  return <Lines lines={clipLines(lines, plan.height, width, ctx.theme.glyphs.ellipsis)} />;
}
