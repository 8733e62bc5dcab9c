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
const ANY: KeySpec = { any: true };
const key = (input: string): KeySpec => ({ input });

/** One screen's keys, in the order its hint line prints them: [command, keys, hint]. */
function on(screen: OpsScreen | null, title: string, rows: [OpsCommand, KeySpec[], string][]): OpsScreenKeys {
  return { screen, title, bindings: rows.map(([command, keys, hint]) => ({ command, keys, hint })) };
}

/** A screen where every other key types text (a name, an operation id): erase, confirm, or leave with Esc. */
function typing(screen: OpsScreen, title: string, leave: 'cancel' | 'back'): OpsScreenKeys {
  return on(screen, title, [
    ['erase', [{ special: 'backspace' }], 'erase'],
    ['submit', [ENTER], 'confirm'],
    [leave, [ESC], leave],
  ]);
}

export const OPS_KEY_TABLE: readonly OpsScreenKeys[] = [
  on('zone', 'zone picker', [
    ['zone-up', [{ special: 'upArrow' }, key('k')], 'previous'],
    ['zone-down', [{ special: 'downArrow' }, key('j')], 'next'],
    ['choose-zone', [ENTER], 'plan'],
    ['cancel', [ESC], 'cancel'],
  ]),
  // R on a sick replica: the lighter rung is offered first; R again goes on to the replace.
  on('remedy', 'lighter step first', [
    ['lighter', [ENTER, key('y')], 'plan it (start or reset)'],
    ['replace-instead', [key('R')], 'replace it instead'],
    ['cancel', [ESC], 'cancel'],
  ]),
  // V after quorum loss: the diagnosis, then the first start or reset through the usual plan.
  on('quorum', 'quorum lost', [
    ['lighter', [ENTER, key('y')], 'plan the first start or reset'],
    ['cancel', [ESC], 'back'],
  ]),
  on('plan', 'plan of an add', [
    ['run', [ENTER, key('y')], 'run it'],
    ['cancel', [ESC], 'cancel'],
  ]),
  // Every other key types the name (y and Enter alone do not confirm a removal).
  typing('confirm', 'type the name', 'cancel'),
  on('refused', 'refused plan', [
    // Only a replace or reset refused for no other reason than a healthy replica; the name is still typed.
    ['force', [key('F')], 'force: replace or reset a healthy replica'],
    ['back', [ANY], 'back'],
  ]),
  on('busy', 'planning', [['cancel', [ESC], 'cancel']]),
  on('running', 'running', [
    // Esc is "back" everywhere else: here it only asks (cancel-run), it never cancels alone.
    ['ask-cancel', [ESC], 'cancel (rolls back what was done): asks y/N first'],
    ['how-to-stop', [key('q')], 'how to stop it'],
  ]),
  on('cancel-run', 'cancel? y/N', [
    ['abort', [key('y')], 'cancel and roll back'],
    ['keep', [ANY], 'keep it running'],
  ]),
  on('outcome', 'outcome', [['back', [ANY], 'back to the dashboard']]),
  // Capitals, not r / b: r is the dashboard's refresh, and a reflex must not resume an
  // operation. Either key only shows what it will do; the operation id is then typed.
  on('unfinished', 'unfinished op', [
    ['resume', [key('U')], 'resume (then type the op id)'],
    ['rollback', [key('B')], 'roll back (then type the op id)'],
    ['cancel', [ESC], 'leave it for now'],
  ]),
  // As for a removal: every other key types the operation id (U, Enter or y alone do nothing).
  typing('recover', 'type the op id', 'back'),
  on(null, 'every screen', [
    ['quit', [{ input: 'c', ctrl: true }], 'quit (an operation left running can be resumed)'],
  ]),
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
