// One zone as a column: its heading, then its replicas top to bottom.
import { Box } from 'ink';
import type { ZoneGroup } from '../../store/selectors.js';
import { cardLines, type Density } from '../rows/card.js';
import type { ViewContext } from '../rows/context.js';
import { zoneTitle } from '../rows/zones.js';
import { Lines } from './Lines.js';
import { ReplicaCard } from './ReplicaCard.js';

export function ZoneColumn(props: {
  group: ZoneGroup;
  density: Density;
  width: number;
  gap: number;
  ctx: ViewContext;
}) {
  const { group, density, width, ctx } = props;
  return (
    <Box flexDirection="column" width={width} marginRight={props.gap}>
      <Lines lines={[zoneTitle(group, ctx, width)]} />
      {group.replicas.map((r) =>
        density === 'full' ? (
          <ReplicaCard key={r.name} replica={r} width={width} ctx={ctx} />
        ) : (
          <Lines key={r.name} lines={cardLines(r, density, width, ctx)} />
        ),
      )}
    </Box>
  );
}
