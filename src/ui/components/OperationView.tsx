// The running operation, as lazygit shows its commands: each step with its
// elapsed time, the learner's catch-up as a bar, the log of every Compute and
// etcd call; Esc asks whether to cancel (and roll back), y cancels. When it
// ends, the outcome stays until a key is pressed.
import type { OpResult } from '../../ops/events.js';
import { useConsoleContext } from '../contexts/ConsoleContext.js';
import { useNow } from '../hooks/useNow.js';
import { operationLines, outcomeLines } from '../ops/lines.js';
import type { OpsRun } from '../ops/opsStore.js';
import { Lines } from './Lines.js';

export interface OperationViewProps {
  run: OpsRun;
  result: OpResult | null;
  width: number;
  rows: number;
  clock?: () => number;
  /** "cancel and roll back? y/N" is up. */
  askingCancel?: boolean;
}

export function OperationView(props: OperationViewProps) {
  const { theme } = useConsoleContext();
  const running = props.run.endedAt === null && props.result === null;
  // Elapsed times tick while something runs; an ended operation is still.
  const now = useNow(running, props.clock ?? Date.now, 500);
  const outcome = props.result ? [[], ...outcomeLines(props.result, theme, props.width)] : [];
  const rows = Math.max(3, props.rows - outcome.length);
  // An outcome without the executor's end event (it threw, or a fake) is still an end:
  // no "Esc cancel" hint under it.
  const run =
    props.result && props.run.endedAt === null
      ? { ...props.run, endedAt: props.run.startedAt + props.result.elapsedMs }
      : props.run;
  return (
    <Lines lines={[...operationLines(run, now, theme, props.width, rows, props.askingCancel), ...outcome]} />
  );
}
