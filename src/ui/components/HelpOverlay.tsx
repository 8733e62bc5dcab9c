// The key table (?), printed from the same table the handler uses.
import type { Line } from '../text.js';
import { Lines } from './Lines.js';

export function HelpOverlay(props: { lines: Line[] }) {
  return props.lines.length ? <Lines lines={props.lines} /> : null;
}
