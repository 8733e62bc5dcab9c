// One replica with a border (the 'full' density of the columns arrangement).
import { Box } from 'ink';
import { healthWord } from '../../domain/format.js';
import type { ReplicaView } from '../../domain/types.js';
import { useConsoleContext } from '../contexts/ConsoleContext.js';
import { cardLines } from '../rows/card.js';
import type { ViewContext } from '../rows/context.js';
import type { ColorRole } from '../theme.js';
import { Lines } from './Lines.js';

function borderRole(r: ReplicaView, selected: boolean): ColorRole {
  if (selected) return 'accent';
  const members = [r.etcd.main, r.etcd.events].filter((m) => m !== null);
  const bad = r.vm.status !== 'RUNNING' || members.some((m) => healthWord(m) !== 'healthy');
  return bad ? 'error' : 'muted';
}

export function ReplicaCard(props: { replica: ReplicaView; width: number; ctx: ViewContext }) {
  const { theme } = useConsoleContext();
  const selected = props.ctx.selected === props.replica.name;
  return (
    <Box
      flexDirection="column"
      width={props.width}
      borderStyle={theme.border}
      borderColor={theme.colors[borderRole(props.replica, selected)]}
      // Other cards' borders are dim, so the selected one stands out without colour too.
      borderDimColor={!selected}
    >
      <Lines lines={cardLines(props.replica, 'full', props.width - 2, props.ctx)} />
    </Box>
  );
}
