// The session's events, newest first (lines planned by the layout).
import type { Line } from '../text.js';
import { Lines } from './Lines.js';

export function TimelinePanel(props: { lines: Line[] }) {
  return props.lines.length ? <Lines lines={props.lines} /> : null;
}
