// The confirmation screen: the plan, its checks with reasons, quorum and fault
// tolerance before → after, warnings highlighted; then the prompt. A refused
// plan shows why, and any key goes back: nothing was changed.
import type { PlannedOperation } from '../../domain/ops/operation.js';
import { useConsoleContext } from '../contexts/ConsoleContext.js';
import { planLines } from '../ops/lines.js';
import { seg } from '../text.js';
import { ConfirmInput } from './ConfirmInput.js';
import { Lines } from './Lines.js';

export interface PlanViewProps {
  planned: PlannedOperation;
  typed: string;
  error: string | null;
  width: number;
  rows: number;
}

export function PlanView(props: PlanViewProps) {
  const { theme } = useConsoleContext();
  const { planned } = props;
  const promptRows = planned.ok ? (props.error ? 3 : 2) : 2;
  return (
    <>
      <Lines lines={planLines(planned, theme, props.width, Math.max(1, props.rows - promptRows))} />
      <Lines lines={[[]]} />
      {planned.ok ? (
        <ConfirmInput
          token={planned.confirmToken}
          typed={props.typed}
          error={props.error}
          width={props.width}
        />
      ) : (
        <Lines lines={[[seg('press any key to return to the dashboard', { role: 'muted' })]]} />
      )}
    </>
  );
}
