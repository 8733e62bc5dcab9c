// `a`: the zone for the new replica, from the region's zones (the one with the
// fewest replicas preselected); arrows move, Enter plans, Esc cancels.
import { useConsoleContext } from '../contexts/ConsoleContext.js';
import { zonePickerLines } from '../ops/lines.js';
import type { ZoneChoice } from '../ops/opsStore.js';
import { Lines } from './Lines.js';

export function ZonePicker(props: { zones: ZoneChoice[]; index: number; width: number }) {
  const { theme } = useConsoleContext();
  return <Lines lines={zonePickerLines(props.zones, props.index, theme, props.width)} />;
}
