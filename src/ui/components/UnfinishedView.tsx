// At start with --write: an operation a killed console or script left
// unfinished, with its steps; U (resume) or B (roll back) shows what it will
// do and asks for the operation id, Esc leaves it.
import type { Journal } from '../../domain/ops/journal.js';
import { useConsoleContext } from '../contexts/ConsoleContext.js';
import { recoveryToken } from '../ops/controller.js';
import { recoveryLines, unfinishedLines } from '../ops/unfinished-lines.js';
import { Lines } from './Lines.js';

export function UnfinishedView(props: { journal: Journal; width: number; rows: number }) {
  const { theme } = useConsoleContext();
  return <Lines lines={unfinishedLines(props.journal, theme, props.width, props.rows)} />;
}

export function RecoverView(props: {
  journal: Journal;
  mode: 'resume' | 'rollback';
  typed: string;
  error: string | null;
  width: number;
  rows: number;
}) {
  const { theme } = useConsoleContext();
  const { journal: j } = props;
  return (
    <Lines
      lines={recoveryLines(
        j,
        props.mode,
        props.typed,
        props.error,
        recoveryToken(j),
        theme,
        props.width,
        props.rows,
      )}
    />
  );
}
