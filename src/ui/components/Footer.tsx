// The bottom line: filter prompt, latest message, or key hints.
import type { Line } from '../text.js';
import { Lines } from './Lines.js';

export function Footer(props: { lines: Line[] }) {
  return props.lines.length ? <Lines lines={props.lines} /> : null;
}
