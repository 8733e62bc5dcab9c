// issue 5's console part, end to end: the built binary's console with
// --write in a real terminal (a tmux pane on a private tmux server, CI unset
// so Ink draws) against a 3-zone lab: `a`, the preselected zone, Enter plans,
// Enter runs; every step completes and the new replica appears on the
// dashboard; then `d` on it, a wrong name refused, its name typed, and it is gone.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterStatus } from '../../src/domain/types.js';
import { BIN, labDown, labUp, runCli, tempLabDir } from '../helpers/cli.js';

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A small tmux pane: its own server (socket in a temp dir), no status line. */
class Pane {
  readonly tmp = mkdtempSync(join(tmpdir(), 'kube-ha-ops-pane-'));
  readonly socket = join(this.tmp, 'tmux.sock');
  readonly exitFile = join(this.tmp, 'exit');

  tmux(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) =>
      execFile('tmux', ['-S', this.socket, ...args], (err, out) => (err ? reject(err) : resolve(out))),
    );
  }

  async start(args: string[], env: Record<string, string>, cols: number, rows: number): Promise<void> {
    const conf = join(this.tmp, 'tmux.conf');
    writeFileSync(conf, 'set -g status off\n');
    const vars = Object.entries(env).map(([k, v]) => `${k}=${q(v)}`);
    const cmd = `env -u CI TERM=xterm-256color ${vars.join(' ')} ${q(process.execPath)} ${q(BIN)} ${args.map(q).join(' ')}; echo $? > ${q(this.exitFile)}`;
    await this.tmux('-f', conf, 'new-session', '-d', '-x', String(cols), '-y', String(rows), cmd);
  }

  async waitFor(test: (screen: string) => boolean, ms: number): Promise<string> {
    const until = Date.now() + ms;
    let screen = '';
    for (;;) {
      screen = await this.tmux('capture-pane', '-p').catch(() => screen);
      if (test(screen)) return screen;
      if (Date.now() > until)
        throw new Error(`screen condition not met in ${ms} ms; last screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  exitCode(): number | null {
    try {
      return Number(readFileSync(this.exitFile, 'utf8').trim());
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {
    await this.tmux('kill-server').catch(() => {});
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

const dir = tempLabDir();
// A private state dir: this console's journals block no other test's lab.
const xdg = mkdtempSync(join(tmpdir(), 'kube-ha-ops-e2e-state-'));
const env = { XDG_STATE_HOME: xdg };
const pane = new Pane();
let names: string[] = [];

const vmCount = (s: string) => s.match(/VM RUNNING/g)?.length ?? 0;

describe('kube-ha ui --write: a adds a replica, d removes it', () => {
  beforeAll(async () => {
    try {
      execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    } catch {
      throw new Error('tmux is not installed: run `KUBE_HA_NEED_TMUX=1 bash scripts/ensure-deps.sh`');
    }
    await labUp(dir);
    const s = JSON.parse(
      (await runCli(['status', '--lab-dir', dir, '--json'], { env })).stdout,
    ) as ClusterStatus;
    names = s.replicas.map((r) => r.name);
    expect(names).toHaveLength(3);
    await pane.start(['ui', '--lab-dir', dir, '--write'], env, 130, 45);
  });

  afterAll(async () => {
    await pane.close();
    await labDown(dir);
    rmSync(xdg, { recursive: true, force: true });
  });

  it('a: zone, plan, Enter adds a replica; d on it: a wrong name is refused, its name removes it', async () => {
    await pane.waitFor((s) => s.includes('WRITE') && vmCount(s) === 3, 25_000);
    await pane.tmux('send-keys', 'a');
    // The region's zones, the one with the fewest replicas preselected.
    const picker = await pane.waitFor((s) => s.includes('choose its zone') && /▸ \S+/.test(s), 20_000);
    const zone = /▸ (\S+)\s+0 replicas\s+\(fewest\)/.exec(picker)?.[1];
    expect(zone, picker).toMatch(/^us-central1-[a-z]$/);
    await pane.tmux('send-keys', 'Enter');
    const plan = await pane.waitFor((s) => s.includes('Enter/y run it'), 20_000);
    const name = new RegExp(`Plan: add (kubernetes-master-[a-z0-9]{3}) in ${zone}`).exec(plan)?.[1];
    expect(name, plan).toBeDefined();
    expect(names).not.toContain(name);
    expect(plan).toContain('etcd main: voters 3 → 4');
    expect(plan).toMatch(/▲ the result has 4 voters/);
    await pane.tmux('send-keys', 'Enter');
    // While it runs: steps with elapsed time and the call log.
    const running = await pane.waitFor((s) => s.includes('Running: add') && /\$ \S+/.test(s), 15_000);
    expect(running).toContain('Esc cancel (rolls back what was done)');
    const done = await pane.waitFor((s) => s.includes(`done: add ${name}`), 45_000);
    expect(done).toMatch(/✔\s+\d+\. Verify the result\s+done \d+\.\d s/);
    expect(done).not.toMatch(/\b(pending|failed|running)\b/);
    await pane.tmux('send-keys', 'x');
    const dash = await pane.waitFor((s) => s.includes(name!) && vmCount(s) === 4, 20_000);
    expect(dash).toMatch(/main\s+4\/4 healthy · quorum 3/);
    expect(dash).toContain(zone!);

    // d on the new replica: a removal needs its name typed; a wrong one is refused.
    let screen = dash;
    for (let i = 0; i < 6 && !screen.includes(`▸ ${name}`); i++) {
      await pane.tmux('send-keys', 'l');
      screen = await pane.waitFor(() => true, 0);
      await new Promise((r) => setTimeout(r, 300));
      screen = await pane.waitFor(() => true, 0);
    }
    expect(screen, screen).toContain(`▸ ${name}`);
    await pane.tmux('send-keys', 'd');
    await pane.waitFor((s) => s.includes(`type ${name} to confirm`), 20_000);
    expect(await pane.waitFor((s) => s.includes('etcd main: voters 4 → 3'), 5000)).toContain(
      `remove ${name}`,
    );
    // Type, see it echoed, then Enter (as a person does; keys sent in one burst can reach Ink as one chunk).
    const typed = (t: string) => (s: string) => s.includes(`to confirm, or Esc to cancel: ${t}`);
    await pane.tmux('send-keys', '-l', 'kubernetes-master');
    await pane.waitFor(typed('kubernetes-master'), 10_000);
    await pane.tmux('send-keys', 'Enter');
    await pane.waitFor(
      (s) => /✖ .*kubernetes-master/.test(s) && s.includes(`type ${name} to confirm`),
      10_000,
    );
    expect(
      vmCount(
        await runCli(['status', '--lab-dir', dir], { env }).then((r) =>
          r.stdout.replace(/RUNNING/g, 'VM RUNNING'),
        ),
      ),
    ).toBe(4);
    for (let i = 0; i < 'kubernetes-master'.length; i++) await pane.tmux('send-keys', 'BSpace');
    await pane.tmux('send-keys', '-l', name!);
    await pane.waitFor(typed(name!), 10_000);
    await pane.tmux('send-keys', 'Enter');
    await pane.waitFor((s) => s.includes(`done: remove ${name}`), 45_000);
    await pane.tmux('send-keys', 'x');
    // Gone from the cards (the events timeline below still tells its story).
    const cards = (s: string) => s.split('Events (')[0] ?? s;
    const after = await pane.waitFor((s) => !cards(s).includes(name!) && vmCount(cards(s)) === 3, 20_000);
    expect(after).toMatch(/main\s+3\/3 healthy · quorum 2/);
    expect(after).toContain(`operation done: remove ${name}`);
    await pane.tmux('send-keys', 'q');
    await pane.waitFor(() => pane.exitCode() !== null, 10_000);
    expect(pane.exitCode()).toBe(0);
  }, 180_000);
});
