// `kube-ha ui` in a real terminal that hangs up (a dropped ssh session) at
// any moment of its start: before Node has run a line of ours, while the
// console loads, after its first frame on a screen that no longer changes
// (etcd unreachable: no write fails to tell it). Every time it must end, with
// its exit run once it had started, and never by Node 20 aborting on the gone
// terminal ("Assertion failed" in ResetStdio, exit 139). Under a shell that
// keeps SIGHUP to itself, it did abort when the hang-up came while it loaded,
// and once up on a quiet screen it ran on, polling, for nobody.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, LAUNCHER_NODE_FLAGS, needTmux } from '../../src/bench/tmux-pane.js';
import { processAlive as alive } from '../../src/lab/processes.js';
import { eventually } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kube-ha-hangup-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const started: number[] = [];

afterAll(() => {
  for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs the console in a terminal, ends the terminal after `ms`, and waits for
 * the console to end: its stderr, debug log and (under `sh`) exit status.
 * `console`: the terminal's only process, as a login shell's foreground job,
 * it gets the hang-up's SIGHUP. `sh`: under a shell that keeps SIGHUP to
 * itself (`trap`), the console hears of the hang-up only from its terminal.
 */
async function hangUpAfter(
  ms: number,
  name: string,
  parent: 'console' | 'sh',
): Promise<{ stderr: string; debugLog: string; rc: string | null }> {
  const socket = join(dir, `${name}.sock`);
  const state = join(dir, name);
  const errFile = join(dir, `${name}.err`);
  const rcFile = join(dir, `${name}.rc`);
  // Nothing listens on port 9: the console starts, shows etcd unreachable, and waits.
  const node = [
    process.execPath,
    ...LAUNCHER_NODE_FLAGS,
    BIN,
    'ui',
    '--etcd-endpoints',
    'http://127.0.0.1:9',
  ];
  const run = `env XDG_STATE_HOME=${q(state)} ${node.map(q).join(' ')} 2>${q(errFile)}`;
  const cmd =
    parent === 'console' ? `exec ${run}` : `sh -c ${q(`trap : HUP; ${run}; echo $? >${q(rcFile)}`)}`;
  execFileSync('tmux', ['-S', socket, 'new-session', '-d', '-x', '120', '-y', '36', cmd]);
  const pid = Number(
    execFileSync('tmux', ['-S', socket, 'list-panes', '-F', '#{pane_pid}'], { encoding: 'utf8' }),
  );
  started.push(pid);
  await sleep(ms);
  execFileSync('tmux', ['-S', socket, 'kill-server']);
  await eventually(async () => !alive(pid), 20_000).catch((err: Error) => {
    throw new Error(`hang-up after ${ms} ms (${parent}): the console still runs (${err.message})`);
  });
  const debug = join(state, 'kube-ha', 'debug.log');
  return {
    stderr: existsSync(errFile) ? readFileSync(errFile, 'utf8') : '',
    debugLog: existsSync(debug) ? readFileSync(debug, 'utf8') : '',
    rc: existsSync(rcFile) ? readFileSync(rcFile, 'utf8').trim() : null,
  };
}

describe('kube-ha ui when its terminal hangs up', () => {
  for (const parent of ['console', 'sh'] as const) {
    it(`ends whenever the hang-up comes, never by Node aborting on the gone terminal (${parent})`, async () => {
      needTmux();
      for (const ms of [0, 150, 400, 800]) {
        const { stderr, rc } = await hangUpAfter(ms, `${parent}-${ms}`, parent);
        expect(stderr, `hang-up after ${ms} ms`).not.toContain('Assertion failed');
        // As a program a hang-up ends: by SIGHUP, which the shell reports as 129.
        if (parent === 'sh') expect(rc, `hang-up after ${ms} ms: ${stderr.slice(0, 300)}`).toBe('129');
      }
      // Up and quiet: it ends, and its exit runs (the session log closes).
      const { stderr, debugLog, rc } = await hangUpAfter(4000, `${parent}-up`, parent);
      expect(stderr).not.toContain('Assertion failed');
      expect(debugLog).toContain('session started');
      expect(debugLog).toContain('session ended');
      if (parent === 'sh') expect(rc).toBe('129');
    }, 150_000);
  }
});
