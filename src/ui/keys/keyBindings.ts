// The one key table: the input handler looks commands up here and the help
// overlay and the footer print it, so they cannot disagree. The operation
// screens' keys are a table of their own beside it (opsKeys.ts).
import type { Key } from 'ink';
import type { Glyphs } from '../theme.js';

export type Command =
  | 'up'
  | 'down'
  | 'left'
  | 'right'
  | 'detail'
  | 'back'
  | 'help'
  | 'filter'
  | 'refresh'
  | 'pause'
  | 'export'
  | 'add'
  | 'delete'
  | 'replace'
  | 'defrag'
  | 'recover'
  | 'quit';

export type SpecialKey =
  | 'upArrow'
  | 'downArrow'
  | 'leftArrow'
  | 'rightArrow'
  | 'return'
  | 'escape'
  | 'backspace';

export interface KeySpec {
  /** A printable key, matched exactly (so `R` is not `r`). */
  input?: string;
  special?: SpecialKey;
  /** With Ctrl (then `input` is the letter). */
  ctrl?: boolean;
  /** Any key at all (a screen that is read, then dismissed). */
  any?: boolean;
}

export type KeyGroup = 'move' | 'view' | 'session' | 'action';

export interface KeyBinding {
  command: Command;
  keys: KeySpec[];
  description: string;
  /** Short footer label; bindings without one are only in the help. */
  hint?: string;
  group: KeyGroup;
}

/** Commands that change the cluster: shown always, enabled only with --write. */
export const ACTION_COMMANDS = ['add', 'delete', 'replace', 'defrag', 'recover'] as const;
export type ActionCommand = (typeof ACTION_COMMANDS)[number];

export function isActionCommand(c: Command): c is ActionCommand {
  return (ACTION_COMMANDS as readonly Command[]).includes(c);
}

/** One group's bindings, in the order help and footer print them: [command, keys, description, footer hint]. */
function group(g: KeyGroup, rows: [Command, KeySpec[], string, string?][]): KeyBinding[] {
  return rows.map(([command, keys, description, hint]) => ({
    command,
    keys,
    description,
    ...(hint ? { hint } : {}),
    group: g,
  }));
}

const key = (input: string): KeySpec => ({ input });

export const KEY_BINDINGS: readonly KeyBinding[] = [
  ...group('move', [
    ['up', [{ special: 'upArrow' }, key('k')], 'previous replica'],
    ['down', [{ special: 'downArrow' }, key('j')], 'next replica'],
    ['left', [{ special: 'leftArrow' }, key('h')], 'replica in the zone to the left'],
    ['right', [{ special: 'rightArrow' }, key('l')], 'replica in the zone to the right'],
  ]),
  ...group('view', [
    ['detail', [{ special: 'return' }], 'details of the selected replica', 'detail'],
    ['back', [{ special: 'escape' }], 'back (close details, help, clear filter)'],
    ['help', [key('?')], 'this help', 'help'],
    ['filter', [key('/')], 'filter replicas by name or zone', 'filter'],
  ]),
  ...group('session', [
    ['refresh', [key('r')], 'poll every source now', 'refresh'],
    ['pause', [key('p')], 'pause or resume updates', 'pause'],
    ['export', [key('e')], 'export the incident log (Markdown and JSON)', 'export'],
  ]),
  ...group('action', [
    ['add', [key('a')], 'add a replica', 'add'],
    ['delete', [key('d')], 'delete the selected replica', 'delete'],
    ['replace', [key('R')], 'repair the selected replica', 'repair'],
    // Capital, as R: a reflex must not start it. Not in the footer: NOSPACE's warning names it.
    ['defrag', [key('D')], 'compact, defragment member by member, disarm etcd (NOSPACE)'],
    // Not in the footer: the QUORUM LOST warning names it.
    ['recover', [key('V')], 'quorum lost: diagnose, start or reset what brings it back'],
  ]),
  // Last in the footer, after the actions.
  ...group('session', [['quit', [key('q'), { input: 'c', ctrl: true }], 'quit', 'quit']]),
];

/** Whether a keypress is the key a spec names. */
export function keyMatches(spec: KeySpec, input: string, key: Key): boolean {
  if (spec.any) return true;
  // A terminal's Backspace sends DEL, which Ink reports as `delete`.
  if (spec.special === 'backspace') return (key.backspace || key.delete) && !key.ctrl;
  if (spec.special) return key[spec.special] && !key.ctrl;
  if (spec.ctrl) return key.ctrl && input === spec.input;
  return !key.ctrl && !key.meta && input === spec.input;
}

/** The command a keypress means, or null. */
export function commandFor(input: string, key: Key): Command | null {
  for (const b of KEY_BINDINGS) if (b.keys.some((k) => keyMatches(k, input, key))) return b.command;
  return null;
}

const SPECIAL_LABEL: Record<SpecialKey, (g: Glyphs) => string> = {
  upArrow: (g) => g.keyUp,
  downArrow: (g) => g.keyDown,
  leftArrow: (g) => g.keyLeft,
  rightArrow: (g) => g.keyRight,
  return: () => 'Enter',
  escape: () => 'Esc',
  backspace: () => 'Backspace',
};

export function keyLabel(spec: KeySpec, glyphs: Glyphs): string {
  if (spec.any) return 'any key';
  if (spec.special) return SPECIAL_LABEL[spec.special](glyphs);
  if (spec.ctrl) return `Ctrl-${(spec.input ?? '').toUpperCase()}`;
  return spec.input ?? '';
}

/** All keys of a binding as printed: `↑ k`, `q Ctrl-C`. */
export function bindingKeys(b: KeyBinding, glyphs: Glyphs): string {
  return b.keys.map((k) => keyLabel(k, glyphs)).join(' ');
}
