// The operation screens' keys (a / d / R with --write): the zone picker, the
// plan with its confirmation, a refused plan, the running operation (and its
// "cancel?" question), its outcome, and an unfinished operation found at start
// with the typed confirmation of its resume or rollback. One table, beside the
// dashboard's: the operations controller looks keys up here, the screens
// print their hints from it, and the help overlay lists it.
import type { Key } from 'ink';
import type { Glyphs } from '../theme.js';
import { type KeySpec, keyLabel, keyMatches } from './keyBindings.js';

/** Which operation screen is up (see OpsController.screen). */
export type OpsScreen =
  | 'zone'
  | 'remedy'
  | 'quorum'
  | 'plan'
  | 'confirm'
  | 'refused'
  | 'busy'
  | 'running'
  | 'cancel-run'
  | 'outcome'
  | 'unfinished'
  | 'recover';

export type OpsCommand =
  | 'zone-up'
  | 'zone-down'
  | 'choose-zone'
  | 'lighter'
  | 'replace-instead'
  | 'run'
  | 'erase'
  | 'submit'
  | 'force'
  | 'back'
  | 'cancel'
  | 'ask-cancel'
  | 'abort'
  | 'keep'
  | 'how-to-stop'
  | 'resume'
  | 'rollback'
  | 'quit';

export interface OpsKeyBinding {
  command: OpsCommand;
  keys: readonly KeySpec[];
  /** What it does, as the screen's hint line and the help say it (after the keys). */
  hint: string;
}

export interface OpsScreenKeys {
  /** null: every operation screen (looked up before the screen's own keys). */
  screen: OpsScreen | null;
  /** The screen as the help names it. */
  title: string;
  bindings: readonly OpsKeyBinding[];
}

const ESC: KeySpec = { special: 'escape' };
const ENTER: KeySpec = { special: 'return' };

/** A screen where every other key types text (a name, an operation id): erase, confirm, or leave with Esc. */
function typing(leave: 'cancel' | 'back'): OpsKeyBinding[] {
  return [
    { command: 'erase', keys: [{ special: 'backspace' }], hint: 'erase' },
    { command: 'submit', keys: [ENTER], hint: 'confirm' },
    { command: leave, keys: [ESC], hint: leave },
  ];
}

export const OPS_KEY_TABLE: readonly OpsScreenKeys[] = [
  {
    screen: 'zone',
    title: 'zone picker',
    bindings: [
      { command: 'zone-up', keys: [{ special: 'upArrow' }, { input: 'k' }], hint: 'previous' },
      { command: 'zone-down', keys: [{ special: 'downArrow' }, { input: 'j' }], hint: 'next' },
      { command: 'choose-zone', keys: [ENTER], hint: 'plan' },
      { command: 'cancel', keys: [ESC], hint: 'cancel' },
    ],
  },
  {
    // R on a sick replica: the lighter rung is offered first; R again goes on to the replace.
    screen: 'remedy',
    title: 'lighter step first',
    bindings: [
      { command: 'lighter', keys: [ENTER, { input: 'y' }], hint: 'plan it (start or reset)' },
      { command: 'replace-instead', keys: [{ input: 'R' }], hint: 'replace it instead' },
      { command: 'cancel', keys: [ESC], hint: 'cancel' },
    ],
  },
  {
    // V after quorum loss: the diagnosis, then the first start or reset through the usual plan.
    screen: 'quorum',
    title: 'quorum lost',
    bindings: [
      { command: 'lighter', keys: [ENTER, { input: 'y' }], hint: 'plan the first start or reset' },
      { command: 'cancel', keys: [ESC], hint: 'back' },
    ],
  },
  {
    screen: 'plan',
    title: 'plan of an add',
    bindings: [
      { command: 'run', keys: [ENTER, { input: 'y' }], hint: 'run it' },
      { command: 'cancel', keys: [ESC], hint: 'cancel' },
    ],
  },
  {
    // Every other key types the name (y and Enter alone do not confirm a removal).
    screen: 'confirm',
    title: 'type the name',
    bindings: typing('cancel'),
  },
  {
    screen: 'refused',
    title: 'refused plan',
    bindings: [
      // Only a replace or reset refused for no other reason than a healthy replica; the name is still typed.
      { command: 'force', keys: [{ input: 'F' }], hint: 'force: replace or reset a healthy replica' },
      { command: 'back', keys: [{ any: true }], hint: 'back' },
    ],
  },
  {
    screen: 'busy',
    title: 'planning',
    bindings: [{ command: 'cancel', keys: [ESC], hint: 'cancel' }],
  },
  {
    screen: 'running',
    title: 'running',
    bindings: [
      // Esc is "back" everywhere else: here it only asks (cancel-run), it never cancels alone.
      { command: 'ask-cancel', keys: [ESC], hint: 'cancel (rolls back what was done): asks y/N first' },
      { command: 'how-to-stop', keys: [{ input: 'q' }], hint: 'how to stop it' },
    ],
  },
  {
    screen: 'cancel-run',
    title: 'cancel? y/N',
    bindings: [
      { command: 'abort', keys: [{ input: 'y' }], hint: 'cancel and roll back' },
      { command: 'keep', keys: [{ any: true }], hint: 'keep it running' },
    ],
  },
  {
    screen: 'outcome',
    title: 'outcome',
    bindings: [{ command: 'back', keys: [{ any: true }], hint: 'back to the dashboard' }],
  },
  {
    screen: 'unfinished',
    title: 'unfinished op',
    bindings: [
      // Capitals, not r / b: r is the dashboard's refresh, and a reflex must not resume an
      // operation. Either key only shows what it will do; the operation id is then typed.
      { command: 'resume', keys: [{ input: 'U' }], hint: 'resume (then type the op id)' },
      { command: 'rollback', keys: [{ input: 'B' }], hint: 'roll back (then type the op id)' },
      { command: 'cancel', keys: [ESC], hint: 'leave it for now' },
    ],
  },
  {
    // As for a removal: every other key types the operation id (U, Enter or y alone do nothing).
    screen: 'recover',
    title: 'type the op id',
    bindings: typing('back'),
  },
  {
    screen: null,
    title: 'every screen',
    bindings: [
      {
        command: 'quit',
        keys: [{ input: 'c', ctrl: true }],
        hint: 'quit (an operation left running can be resumed)',
      },
    ],
  },
];

function groupOf(screen: OpsScreen | null): OpsScreenKeys {
  const g = OPS_KEY_TABLE.find((x) => x.screen === screen);
  if (!g) throw new Error(`no keys for the operation screen ${screen}`);
  return g;
}

/** The command a keypress means on an operation screen, or null (on the typed confirmation: text). */
export function opsCommandFor(screen: OpsScreen, input: string, key: Key): OpsCommand | null {
  for (const g of [groupOf(null), groupOf(screen)]) {
    for (const b of g.bindings) if (b.keys.some((k) => keyMatches(k, input, key))) return b.command;
  }
  return null;
}

export function opsBinding(screen: OpsScreen | null, command: OpsCommand): OpsKeyBinding {
  const b = groupOf(screen).bindings.find((x) => x.command === command);
  if (!b) throw new Error(`no key for ${command} on the operation screen ${screen}`);
  return b;
}

/** `Enter/y`: the keys of a command on a screen, from the table. */
export function opsKeys(screen: OpsScreen | null, command: OpsCommand, glyphs: Glyphs): string {
  return opsBinding(screen, command)
    .keys.map((k) => keyLabel(k, glyphs))
    .join('/');
}

/** `Enter/y run it`: keys and hint, as the screens and the help print them. */
export function opsHint(screen: OpsScreen | null, command: OpsCommand, glyphs: Glyphs): string {
  return `${opsKeys(screen, command, glyphs)} ${opsBinding(screen, command).hint}`;
}

/** Every binding of a screen as `keys hint`, in table order. */
export function opsScreenHints(screen: OpsScreen | null, glyphs: Glyphs): string[] {
  return groupOf(screen).bindings.map((b) => opsHint(screen, b.command, glyphs));
}
