// `kube-ha demo` (what `npm start` runs) in a real terminal: it starts a
// 3-zone lab and shows it; when the terminal goes away (an ssh session that
// drops: SIGHUP, then EIO on every write), the console ends and the demo
// stops the lab it started, leaving no process behind. Before, the first
// failed write killed the process mid-exit and the lab ran on.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { needTmux, TmuxPane } from '../../src/bench/tmux-pane.js';
import { processAlive as alive } from '../../src/lab/processes.js';
import { eventually } from '../helpers/cli.js';

const state = mkdtempSync(join(tmpdir(), 'kube-ha-demo-'));
const labDir = join(state, 'kube-ha', 'lab');

/** Processes whose command line names `dir` (the lab's supervisor, VMs, etcd). */
function processesOf(dir: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) out.push(Number(pid));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

let pane: TmuxPane | null = null;

afterAll(async () => {
  await pane?.close();
  // Whatever the test saw, nothing of the lab outlives it.
  for (const pid of processesOf(state)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(state, { recursive: true, force: true });
});

describe('kube-ha demo in a real terminal', () => {
  it('shows its lab; a terminal that hangs up ends it and the lab it started is stopped', async () => {
    needTmux();
    pane = await TmuxPane.start({ args: ['demo'], env: { XDG_STATE_HOME: state }, cols: 120, rows: 36 });
    const { screen } = await pane.waitFor(
      (s) => /^main\s+3\/3 healthy/m.test(s) && /^events\s+3\/3 healthy/m.test(s),
      90_000,
      { everyMs: 200 },
    );
    expect(screen).toContain('WRITE');
    const ctx = JSON.parse(readFileSync(join(labDir, 'context.json'), 'utf8')) as { supervisorPid: number };
    const demo = await pane.nodePid();
    expect(alive(ctx.supervisorPid)).toBe(true);
    expect(processesOf(labDir).length).toBeGreaterThan(3);

    // The terminal hangs up: tmux's server ends, and the pane's processes get SIGHUP.
    await pane.tmux('kill-server');
    await eventually(async () => !alive(demo), 60_000);
    await eventually(async () => !alive(ctx.supervisorPid) && processesOf(labDir).length === 0, 30_000).catch(
      (err: Error) => {
        const left = processesOf(labDir).map((p) =>
          readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' '),
        );
        throw new Error(
          `${err.message}; supervisor alive: ${alive(ctx.supervisorPid)}; left: ${left.join(' | ')}`,
        );
      },
    );
    // The console's exit ran (its session log closed) before the lab went.
    expect(readFileSync(join(state, 'kube-ha', 'debug.log'), 'utf8')).toContain('session ended');
  }, 150_000);
});
