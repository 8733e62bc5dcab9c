import { homedir } from 'node:os';
import { join } from 'node:path';

/** $XDG_STATE_HOME/kube-ha, falling back to ~/.local/state/kube-ha. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'kube-ha');
}

export function defaultLabDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'lab');
}
