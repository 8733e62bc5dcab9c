// Warnings, most severe first (lines planned by the layout).
import type { Line } from '../text.js';
import { Lines } from './Lines.js';

export function WarningsPanel(props: { lines: Line[] }) {
  return props.lines.length ? <Lines lines={props.lines} /> : null;
}
