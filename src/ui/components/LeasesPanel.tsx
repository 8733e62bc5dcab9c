// Who leads kube-controller-manager, kube-scheduler and cluster-autoscaler,
// and whether that leader still renews (lines planned by the layout).
import type { Line } from '../text.js';
import { Lines } from './Lines.js';

export function LeasesPanel(props: { lines: Line[] }) {
  return props.lines.length ? <Lines lines={props.lines} /> : null;
}
