// The confirmation screen: the plan, its checks with reasons, quorum and fault
// tolerance before → after, warnings highlighted; then the prompt. A refused
// plan shows why, and any key goes back: nothing was changed. A replace refused
// only because its replica is healthy offers F, which plans it forced.
import type { PlannedOperation } from '../../domain/ops/operation.js';
import { useConsoleContext } from '../contexts/ConsoleContext.js';
import { opsHint } from '../keys/opsKeys.js';
import { hintLine, planLines } from '../ops/lines.js';
import { fitLine, seg } from '../text.js';
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
      ) : planned.forceable ? (
        <Lines
          lines={[
            fitLine(
              [
                seg(opsHint('refused', 'force', theme.glyphs), { bold: true, role: 'warn' }),
                seg(' (its name is still typed)', { role: 'muted' }),
                seg(theme.glyphs.sep, { role: 'muted' }),
                ...hintLine('refused', theme, ['back']),
              ],
              props.width,
              theme.glyphs.ellipsis,
            ),
          ]}
        />
      ) : (
        <Lines lines={[fitLine(hintLine('refused', theme, ['back']), props.width, theme.glyphs.ellipsis)]} />
      )}
    </>
  );
}
