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

export const KEY_BINDINGS: readonly KeyBinding[] = [
  {
    command: 'up',
    keys: [{ special: 'upArrow' }, { input: 'k' }],
    description: 'previous replica',
    group: 'move',
  },
  {
    command: 'down',
    keys: [{ special: 'downArrow' }, { input: 'j' }],
    description: 'next replica',
    group: 'move',
  },
  {
    command: 'left',
    keys: [{ special: 'leftArrow' }, { input: 'h' }],
    description: 'replica in the zone to the left',
    group: 'move',
  },
  {
    command: 'right',
    keys: [{ special: 'rightArrow' }, { input: 'l' }],
    description: 'replica in the zone to the right',
    group: 'move',
  },
  {
    command: 'detail',
    keys: [{ special: 'return' }],
    description: 'details of the selected replica',
    hint: 'detail',
    group: 'view',
  },
  {
    command: 'back',
    keys: [{ special: 'escape' }],
    description: 'back (close details, help, clear filter)',
    group: 'view',
  },
  { command: 'help', keys: [{ input: '?' }], description: 'this help', hint: 'help', group: 'view' },
  {
    command: 'filter',
    keys: [{ input: '/' }],
    description: 'filter replicas by name or zone',
    hint: 'filter',
    group: 'view',
  },
  {
    command: 'refresh',
    keys: [{ input: 'r' }],
    description: 'poll every source now',
    hint: 'refresh',
    group: 'session',
  },
  {
    command: 'pause',
    keys: [{ input: 'p' }],
    description: 'pause or resume updates',
    hint: 'pause',
    group: 'session',
  },
  {
    command: 'export',
    keys: [{ input: 'e' }],
    description: 'export the incident log (Markdown and JSON)',
    hint: 'export',
    group: 'session',
  },
  { command: 'add', keys: [{ input: 'a' }], description: 'add a replica', hint: 'add', group: 'action' },
  {
    command: 'delete',
    keys: [{ input: 'd' }],
    description: 'delete the selected replica',
    hint: 'delete',
    group: 'action',
  },
  {
    command: 'replace',
    keys: [{ input: 'R' }],
    description: 'repair the selected replica',
    hint: 'repair',
    group: 'action',
  },
  {
    // Capital, as R: a reflex must not start it. Not in the footer: NOSPACE's warning names it.
    command: 'defrag',
    keys: [{ input: 'D' }],
    description: 'compact, defragment member by member, disarm etcd (NOSPACE)',
    group: 'action',
  },
  {
    // Not in the footer: the QUORUM LOST warning names it.
    command: 'recover',
    keys: [{ input: 'V' }],
    description: 'quorum lost: diagnose, start or reset what brings it back',
    group: 'action',
  },
  {
    command: 'quit',
    keys: [{ input: 'q' }, { input: 'c', ctrl: true }],
    description: 'quit',
    hint: 'quit',
    group: 'session',
  },
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

export function bindingFor(command: Command): KeyBinding {
  const b = KEY_BINDINGS.find((x) => x.command === command);
  if (!b) throw new Error(`no key binding for ${command}`);
  return b;
}
