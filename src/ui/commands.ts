// Keys to store actions. The key table says which command a key means; this
// says what each command does in each view. No rendering here.
import { homedir } from 'node:os';
import { basename, dirname } from 'node:path';
import type { Key } from 'ink';
import type { ConsoleStore } from '../store/consoleStore.js';
import type { IncidentFiles } from '../store/incident.js';
import { effectiveSelection } from '../store/selectors.js';
import { type ActionCommand, type Command, commandFor, isActionCommand } from './keys/keyBindings.js';

/** Called for `a`, `d`, `R` in write mode; the operator flows plug in here. */
export type ActionHandler = (action: ActionCommand, replica?: string) => void;

export interface CommandContext {
  store: ConsoleStore;
  write: boolean;
  refresh?: () => void;
  onAction?: ActionHandler;
  exportIncident: () => Promise<IncidentFiles>;
  quit: () => void;
}

const ACTION_TEXT: Record<ActionCommand, string> = {
  defrag: 'defrag',
  add: 'add a replica',
  delete: 'delete the selected replica',
  replace: 'replace the selected replica',
  recover: 'recover from quorum loss (kube-ha recover diagnoses it read-only)',
};

function shortPath(p: string): string {
  const home = homedir();
  return home && p.startsWith(`${home}/`) ? `~${p.slice(home.length)}` : p;
}

function runAction(action: ActionCommand, ctx: CommandContext): void {
  const { store } = ctx;
  const s = store.getState();
  if (!ctx.write) {
    s.setMessage(
      `${ACTION_TEXT[action]}: read-only mode; start kube-ha with --write to enable it`,
      'warning',
    );
    return;
  }
  const replica = effectiveSelection(s.status, s.filter, s.selected) ?? undefined;
  if (action !== 'add' && action !== 'defrag' && action !== 'recover' && !replica) {
    s.setMessage(`${ACTION_TEXT[action]}: select a replica first`, 'warning');
    return;
  }
  if (!ctx.onAction) {
    s.setMessage(
      `${ACTION_TEXT[action]}: not available yet (the operator flows are not wired into the console)`,
      'warning',
    );
    return;
  }
  ctx.onAction(action, replica);
}

function runExport(ctx: CommandContext): void {
  const s = ctx.store.getState();
  s.setMessage('writing the incident log...');
  ctx.exportIncident().then(
    (files) => {
      const base = basename(files.markdownPath).replace(/\.md$/, '');
      const where = `${shortPath(dirname(files.markdownPath))}/${base}.md and .json`;
      ctx.store.getState().setMessage(`incident log written: ${where}`);
      ctx.store.getState().recordEvent({
        kind: 'session',
        severity: 'info',
        message: `incident log exported to ${files.markdownPath} and ${files.jsonPath}`,
      });
    },
    (err: unknown) => {
      ctx.store
        .getState()
        .setMessage(`export failed: ${err instanceof Error ? err.message : String(err)}`, 'error');
    },
  );
}

export function runCommand(command: Command, ctx: CommandContext): void {
  const { store } = ctx;
  const s = store.getState();
  if (command === 'quit') {
    ctx.quit();
    return;
  }
  // A message stays until the next key.
  s.clearMessage();
  if (s.view === 'help') {
    if (command === 'help' || command === 'back') s.setView('dashboard');
    return;
  }
  if (isActionCommand(command)) {
    runAction(command, ctx);
    return;
  }
  switch (command) {
    case 'up':
    case 'down':
    case 'left':
    case 'right':
      s.moveSelection(command);
      return;
    case 'detail':
      s.setView('detail');
      return;
    case 'back':
      if (s.view !== 'dashboard') s.setView('dashboard');
      else if (s.filter) s.setFilter('');
      return;
    case 'help':
      s.setView('help');
      return;
    case 'filter':
      s.setView('dashboard');
      s.setFilterEditing(true);
      return;
    case 'refresh':
      if (s.paused) s.setMessage('updates are paused: p resumes them', 'warning');
      else if (ctx.refresh) {
        ctx.refresh();
        s.setMessage('refreshing every source now');
      } else s.setMessage('nothing to refresh: no pollers are running', 'warning');
      return;
    case 'pause':
      s.togglePaused();
      return;
    case 'export':
      runExport(ctx);
      return;
  }
}

/** Keys while the `/` prompt is open: text goes into the filter. */
function editFilter(input: string, key: Key, ctx: CommandContext): void {
  const s = ctx.store.getState();
  if (key.ctrl && input === 'c') {
    ctx.quit();
    return;
  }
  if (key.escape) {
    s.setFilter('');
    s.setFilterEditing(false);
    return;
  }
  if (key.return) {
    s.setFilterEditing(false);
    return;
  }
  if (key.backspace || key.delete) {
    s.setFilter([...s.filter].slice(0, -1).join(''));
    return;
  }
  if (key.ctrl || key.meta || key.tab || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow)
    return;
  const text = input.replace(/[\u0000-\u001f\u007f]/g, '');
  if (text) s.setFilter(s.filter + text);
}

export function handleKey(input: string, key: Key, ctx: CommandContext): void {
  if (ctx.store.getState().filterEditing) {
    editFilter(input, key, ctx);
    return;
  }
  const command = commandFor(input, key);
  if (command) runCommand(command, ctx);
}
