// The top lines: project, apiserver IP, quorum of each etcd cluster, troubled sources.
import type { Line } from '../text.js';
import { Lines } from './Lines.js';

export function Header(props: { lines: Line[] }) {
  return props.lines.length ? <Lines lines={props.lines} /> : null;
}
