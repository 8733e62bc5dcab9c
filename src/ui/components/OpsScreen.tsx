// Where App mounts the operator flows: the screen for the controller's phase,
// in place of the dashboard body (the header keeps updating above it).
import { useConsoleContext } from '../contexts/ConsoleContext.js';
import { opsHint } from '../keys/opsKeys.js';
import type { OpsController } from '../ops/controller.js';
import { hintLine, quorumLines, remedyLines } from '../ops/lines.js';
import { useOpsState } from '../ops/useOps.js';
import { fitLine, seg } from '../text.js';
import { Lines } from './Lines.js';
import { OperationView } from './OperationView.js';
import { PlanView } from './PlanView.js';
import { RecoverView, UnfinishedView } from './UnfinishedView.js';
import { ZonePicker } from './ZonePicker.js';

export interface OpsScreenProps {
  controller: OpsController;
  width: number;
  rows: number;
  clock?: () => number;
}

export function OpsScreen(props: OpsScreenProps) {
  const { theme } = useConsoleContext();
  const phase = useOpsState(props.controller, (s) => s.phase);
  const run = useOpsState(props.controller, (s) => s.run);
  const g = theme.glyphs;
  const fitted = (l: ReturnType<typeof seg>[]) => fitLine(l, props.width, g.ellipsis);
  // The room every screen is drawn in.
  const size = { width: props.width, rows: props.rows };
  switch (phase.kind) {
    case 'idle':
      return null;
    case 'busy':
      return (
        <Lines
          lines={[
            fitted([seg(phase.text, { role: 'accent' })]),
            fitted([seg(opsHint('busy', 'cancel', g), { bold: true, role: 'accent' })]),
          ]}
        />
      );
    case 'error':
      return (
        <Lines
          lines={[
            fitted([seg(`${g.error} ${phase.text}`, { role: 'error', bold: true })]),
            fitted(hintLine('outcome', theme)),
          ]}
        />
      );
    case 'zone':
      return <ZonePicker zones={phase.zones} index={phase.index} width={props.width} />;
    case 'remedy':
      return <Lines lines={remedyLines(phase.replica, phase.choice, theme, props.width)} />;
    case 'quorum':
      return <Lines lines={quorumLines(phase.diagnosis, theme, props.width)} />;
    case 'plan':
      return <PlanView planned={phase.planned} typed={phase.typed} error={phase.error} {...size} />;
    case 'unfinished':
      return <UnfinishedView journal={phase.journal} {...size} />;
    case 'recover':
      return (
        <RecoverView
          journal={phase.journal}
          mode={phase.mode}
          typed={phase.typed}
          error={phase.error}
          {...size}
        />
      );
    case 'running':
    case 'outcome':
      return run ? (
        <OperationView
          run={run}
          result={phase.kind === 'outcome' ? phase.result : null}
          {...size}
          clock={props.clock}
          askingCancel={phase.kind === 'running' && phase.askingCancel === true}
        />
      ) : null;
  }
}
