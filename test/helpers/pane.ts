// A small tmux pane for end-to-end tests: the built binary in a real terminal
// on a private tmux server (socket in a temp dir), CI unset so Ink draws, no
// status line, with environment variables of its own (a private state dir).
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAUNCHER_NODE_FLAGS } from '../../src/bench/console-bench.js';
import { BIN } from './cli.js';

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Throws the fix when tmux is missing (the e2e tests need it). */
export function needTmux(): void {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
  } catch {
    throw new Error('tmux is not installed: run `KUBE_HA_NEED_TMUX=1 bash scripts/ensure-deps.sh`');
  }
}

export class Pane {
  readonly tmp = mkdtempSync(join(tmpdir(), 'kube-ha-ops-pane-'));
  readonly socket = join(this.tmp, 'tmux.sock');
  readonly exitFile = join(this.tmp, 'exit');

  tmux(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) =>
      execFile('tmux', ['-S', this.socket, ...args], (err, out) => (err ? reject(err) : resolve(out))),
    );
  }

  /** Runs `kube-ha ARGS` in the pane; its exit code lands in exitFile. */
  async start(args: string[], env: NodeJS.ProcessEnv, cols: number, rows: number): Promise<void> {
    const conf = join(this.tmp, 'tmux.conf');
    // remain-on-exit: what a command printed can still be read after it ended (tmux
    // moves a dead pane's screen into its history: capture(true)).
    writeFileSync(conf, 'set -g status off\nset -g history-limit 5000\nset -g remain-on-exit on\n');
    const vars = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${q(v)}`]));
    const cmd = `env -u CI TERM=xterm-256color ${vars.join(' ')} ${q(process.execPath)} ${LAUNCHER_NODE_FLAGS.map(q).join(' ')} ${q(BIN)} ${args.map(q).join(' ')}; echo $? > ${q(this.exitFile)}`;
    await this.tmux('-f', conf, 'new-session', '-d', '-x', String(cols), '-y', String(rows), cmd);
  }

  /** The screen as text; with `history`, everything that scrolled off it too. */
  capture(history = false): Promise<string> {
    return this.tmux('capture-pane', '-p', ...(history ? ['-S', '-'] : []));
  }

  async waitFor(test: (screen: string) => boolean, ms: number, history = false): Promise<string> {
    const until = Date.now() + ms;
    let screen = '';
    for (;;) {
      screen = await this.capture(history).catch(() => screen);
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

  /** Waits for the command to end; its exit code. */
  async exited(ms: number): Promise<number> {
    const until = Date.now() + ms;
    for (;;) {
      const code = this.exitCode();
      if (code !== null) return code;
      if (Date.now() > until) throw new Error(`still running after ${ms} ms:\n${await this.capture(true)}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  async close(): Promise<void> {
    await this.tmux('kill-server').catch(() => {});
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
