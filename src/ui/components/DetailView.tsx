// Everything about the selected replica (Enter; Esc goes back).
import type { Line } from '../text.js';
import { Lines } from './Lines.js';

export function DetailView(props: { lines: Line[] }) {
  return props.lines.length ? <Lines lines={props.lines} /> : null;
}
