// Shopify's DangerousConfirmationPrompt: removing or replacing a replica
// needs its name typed; an add needs Enter or y. A wrong name is said so.
import { useConsoleContext } from '../contexts/ConsoleContext.js';
import { opsHint, opsKeys } from '../keys/opsKeys.js';
import { fitLine, type Line, seg } from '../text.js';
import { Lines } from './Lines.js';

export interface ConfirmInputProps {
  /** The replica's name to type, or null when Enter / y confirms. */
  token: string | null;
  typed: string;
  error: string | null;
  width: number;
}

export function ConfirmInput(props: ConfirmInputProps) {
  const { theme } = useConsoleContext();
  const g = theme.glyphs;
  const prompt: Line =
    props.token === null
      ? [
          seg(opsHint('plan', 'run', g), { bold: true, role: 'accent' }),
          seg(g.sep, { role: 'muted' }),
          seg(opsHint('plan', 'cancel', g), { role: 'muted' }),
        ]
      : [
          seg(`${g.warn} type `, { role: 'error', bold: true }),
          seg(props.token, { role: 'error', bold: true, inverse: true }),
          seg(` to confirm, or ${opsKeys('confirm', 'cancel', g)} to cancel: `, {
            role: 'error',
            bold: true,
          }),
          seg(props.typed),
          seg(g.cursor, { role: 'accent' }),
        ];
  const lines: Line[] = [prompt];
  if (props.error) lines.push([seg(`${g.error} ${props.error}`, { role: 'error' })]);
  return <Lines lines={lines.map((l) => fitLine(l, props.width, g.ellipsis))} />;
}
