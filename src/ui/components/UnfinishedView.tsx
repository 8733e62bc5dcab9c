// At start with --write: an operation a killed console or script left
// unfinished, with its steps; U resumes, B rolls back, Esc leaves it.
import type { Journal } from '../../domain/ops/journal.js';
import { useConsoleContext } from '../contexts/ConsoleContext.js';
import { unfinishedLines } from '../ops/lines.js';
import { Lines } from './Lines.js';

export function UnfinishedView(props: { journal: Journal; width: number; rows: number }) {
  const { theme } = useConsoleContext();
  return <Lines lines={unfinishedLines(props.journal, theme, props.width, props.rows)} />;
}
