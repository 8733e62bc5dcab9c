// Colours and glyphs. Every state is also said in words or shapes, so the
// colourless theme (NO_COLOR, --no-color) and the ASCII glyphs (--ascii) lose
// nothing but decoration.
import type { BoxProps } from 'ink';

export type ColorRole = 'ok' | 'warn' | 'error' | 'muted' | 'accent' | 'title' | 'leader' | 'info';

export interface Glyphs {
  /** Selected replica. */
  pointer: string;
  leader: string;
  sep: string;
  arrow: string;
  ellipsis: string;
  ok: string;
  warn: string;
  error: string;
  info: string;
  cursor: string;
  keyUp: string;
  keyDown: string;
  keyLeft: string;
  keyRight: string;
}

export interface Theme {
  color: boolean;
  ascii: boolean;
  /** Ink colour names; undefined = terminal default. */
  colors: Record<ColorRole, string | undefined>;
  glyphs: Glyphs;
  border: NonNullable<BoxProps['borderStyle']>;
}

const UNICODE: Glyphs = {
  pointer: '▸',
  leader: '★',
  sep: ' · ',
  arrow: '→',
  ellipsis: '…',
  ok: '✔',
  warn: '▲',
  error: '✖',
  info: '•',
  cursor: '▏',
  keyUp: '↑',
  keyDown: '↓',
  keyLeft: '←',
  keyRight: '→',
};

const ASCII: Glyphs = {
  pointer: '>',
  leader: '*',
  sep: ' - ',
  arrow: '->',
  ellipsis: '...',
  ok: '+',
  warn: '!',
  error: 'x',
  info: '-',
  cursor: '_',
  keyUp: 'Up',
  keyDown: 'Down',
  keyLeft: 'Left',
  keyRight: 'Right',
};

const COLORS: Record<ColorRole, string> = {
  ok: 'green',
  warn: 'yellow',
  error: 'red',
  muted: 'gray',
  accent: 'cyan',
  title: 'blueBright',
  leader: 'yellowBright',
  info: 'white',
};

const NO_COLORS: Record<ColorRole, undefined> = {
  ok: undefined,
  warn: undefined,
  error: undefined,
  muted: undefined,
  accent: undefined,
  title: undefined,
  leader: undefined,
  info: undefined,
};

export function createTheme(opts: { color: boolean; ascii: boolean }): Theme {
  return {
    color: opts.color,
    ascii: opts.ascii,
    colors: opts.color ? COLORS : NO_COLORS,
    glyphs: opts.ascii ? ASCII : UNICODE,
    border: opts.ascii ? 'classic' : 'round',
  };
}

/**
 * Whether to use colour: off with --no-color or a non-empty NO_COLOR
 * (https://no-color.org), on otherwise. The CLI passes the result to
 * runConsole.
 */
export function colorWanted(env: NodeJS.ProcessEnv, noColorFlag: boolean): boolean {
  if (noColorFlag) return false;
  return !(env.NO_COLOR !== undefined && env.NO_COLOR !== '');
}
