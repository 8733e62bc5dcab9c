// The one key table: the input handler looks commands up here and the help
// overlay and the footer print it, so they cannot disagree.
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
  | 'quit';

export type SpecialKey = 'upArrow' | 'downArrow' | 'leftArrow' | 'rightArrow' | 'return' | 'escape';

export interface KeySpec {
  /** A printable key, matched exactly (so `R` is not `r`). */
  input?: string;
  special?: SpecialKey;
  /** With Ctrl (then `input` is the letter). */
  ctrl?: boolean;
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
export const ACTION_COMMANDS = ['add', 'delete', 'replace'] as const;
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
    description: 'replace the selected replica',
    hint: 'replace',
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

function matches(spec: KeySpec, input: string, key: Key): boolean {
  if (spec.special) return key[spec.special] && !key.ctrl;
  if (spec.ctrl) return key.ctrl && input === spec.input;
  return !key.ctrl && !key.meta && input === spec.input;
}

/** The command a keypress means, or null. */
export function commandFor(input: string, key: Key): Command | null {
  for (const b of KEY_BINDINGS) if (b.keys.some((k) => matches(k, input, key))) return b.command;
  return null;
}

/** Keys of the operator-flow screens (zone picker, plan, running operation, unfinished operation). */
export type PromptCommand = 'prompt-up' | 'prompt-down' | 'confirm' | 'cancel' | 'resume' | 'rollback';

export interface PromptBinding {
  command: PromptCommand;
  keys: KeySpec[];
  description: string;
}

export const PROMPT_KEY_BINDINGS: readonly PromptBinding[] = [
  { command: 'prompt-up', keys: [{ special: 'upArrow' }, { input: 'k' }], description: 'previous zone' },
  { command: 'prompt-down', keys: [{ special: 'downArrow' }, { input: 'j' }], description: 'next zone' },
  // Where a name must be typed, only Enter confirms (y is text there).
  { command: 'confirm', keys: [{ special: 'return' }, { input: 'y' }], description: 'confirm' },
  { command: 'cancel', keys: [{ special: 'escape' }], description: 'cancel (while running: roll back)' },
  { command: 'resume', keys: [{ input: 'r' }], description: 'resume the unfinished operation' },
  { command: 'rollback', keys: [{ input: 'b' }], description: 'roll back the unfinished operation' },
];

/** The operator-flow command a keypress means, or null. */
export function promptCommandFor(input: string, key: Key): PromptCommand | null {
  for (const b of PROMPT_KEY_BINDINGS) if (b.keys.some((k) => matches(k, input, key))) return b.command;
  return null;
}

/** `Enter y` for a prompt command, from the same table. */
export function promptKeys(command: PromptCommand, glyphs: Glyphs): string {
  const b = PROMPT_KEY_BINDINGS.find((x) => x.command === command);
  return b ? b.keys.map((k) => keyLabel(k, glyphs)).join('/') : '';
}

const SPECIAL_LABEL: Record<SpecialKey, (g: Glyphs) => string> = {
  upArrow: (g) => g.keyUp,
  downArrow: (g) => g.keyDown,
  leftArrow: (g) => g.keyLeft,
  rightArrow: (g) => g.keyRight,
  return: () => 'Enter',
  escape: () => 'Esc',
};

export function keyLabel(spec: KeySpec, glyphs: Glyphs): string {
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
