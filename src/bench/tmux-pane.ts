// One program in a real terminal: a tmux pane on its own tmux server (socket in
// a temp dir), CI unset (Ink renders nothing on a terminal while CI is set), no
// status line taking a row. The one pane helper of the bench, `npm run
// screenshots` and the end-to-end tests.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processAlive } from '../lab/processes.js';

export const BIN = fileURLToPath(new URL('../../bin/kube-ha.js', import.meta.url));

/** The node flags of the launcher's `#!/usr/bin/env -S node ...` line: panes run kube-ha as `kube-ha` runs. */
export const LAUNCHER_NODE_FLAGS: string[] = launcherNodeFlags(BIN);

/** The node flags on a launcher's `#!` line. */
export function launcherNodeFlags(bin: string): string[] {
  const first = readFileSync(bin, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\/usr\/bin\/env -S node(.*)$/.exec(first);
  if (!m) throw new Error(`${bin}: unexpected first line ${first}`);
  return m[1]!.trim().split(/\s+/).filter(Boolean);
}

/** Throws the fix when tmux is missing (the end-to-end tests need it). */
export function needTmux(): void {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
  } catch {
    throw new Error('tmux is not installed: run `KUBE_HA_NEED_TMUX=1 bash scripts/ensure-deps.sh`');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 16 << 20, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

export interface TerminalOptions {
  cols: number;
  rows: number;
  /**
   * Keep the screen once the program ended (tmux remain-on-exit): what a
   * command printed can still be read after it exited, with `capture({ history: true })`.
   */
  keepScreen?: boolean;
}

export interface PaneOptions extends TerminalOptions {
  /** argv after `node bin/kube-ha.js`. */
  args: string[];
  /** Extra environment for kube-ha (e.g. KUBE_HA_TRACE, a private state dir); undefined values are left out. */
  env?: Record<string, string | undefined>;
  /** The launcher to run (default this checkout's bin/kube-ha.js): another build, for A/B runs. */
  bin?: string;
}

/**
 * One program in a tmux pane on its own tmux server (`tmux -S`). When it
 * exits, the pane writes `EXIT=<status>` to a file; the server ends then,
 * unless the screen is kept.
 */
export class TmuxPane {
  readonly tmp = mkdtempSync(join(tmpdir(), 'kube-ha-pane-'));
  /** A private tmux server: its socket lives in our temp dir and goes with it. */
  readonly socket = join(this.tmp, 'tmux.sock');
  readonly exitFile = join(this.tmp, 'exit');
  readonly confFile = join(this.tmp, 'tmux.conf');
  /** process.hrtime in ms just before tmux was asked to start the program. */
  startedAt = 0;

  private constructor(
    /** The launcher the pane runs, or null for a shell command (then no node process to look for at close). */
    readonly bin: string | null,
    readonly opts: TerminalOptions,
  ) {}

  /** kube-ha ARGS in a pane, run as the `kube-ha` launcher runs it. */
  static async start(opts: PaneOptions): Promise<TmuxPane> {
    const bin = opts.bin ?? BIN;
    const vars = Object.entries(opts.env ?? {}).flatMap(([k, v]) =>
      v === undefined ? [] : [`${k}=${shellQuote(v)}`],
    );
    const cmd = [
      'env -u CI TERM=xterm-256color',
      ...vars,
      shellQuote(process.execPath),
      ...launcherNodeFlags(bin).map(shellQuote),
      shellQuote(bin),
      ...opts.args.map(shellQuote),
    ].join(' ');
    return TmuxPane.launch(bin, cmd, opts);
  }

  /** A shell command line in a pane (e.g. an installed executable with an environment of its own). */
  static startShell(command: string, opts: TerminalOptions): Promise<TmuxPane> {
    return TmuxPane.launch(null, command, opts);
  }

  private static async launch(bin: string | null, command: string, opts: TerminalOptions): Promise<TmuxPane> {
    const pane = new TmuxPane(bin, opts);
    writeFileSync(
      pane.confFile,
      `set -g status off\nset -g history-limit 5000\n${opts.keepScreen ? 'set -g remain-on-exit on\n' : ''}`,
    );
    pane.startedAt = nowMs();
    const cmd = `${command}; echo EXIT=$? > ${shellQuote(pane.exitFile)}`;
    await pane.tmux(
      '-f',
      pane.confFile,
      'new-session',
      '-d',
      '-x',
      String(opts.cols),
      '-y',
      String(opts.rows),
      cmd,
    );
    return pane;
  }

  tmux(...args: string[]): Promise<string> {
    return run('tmux', ['-S', this.socket, ...args]);
  }

  /**
   * The screen as text; with `escapes`, with its colours and attributes as SGR
   * sequences; with `history`, everything that scrolled off it too (tmux moves
   * a dead pane's screen into its history).
   */
  capture(how: { escapes?: boolean; history?: boolean } = {}): Promise<string> {
    return this.tmux(
      'capture-pane',
      '-p',
      ...(how.escapes ? ['-e'] : []),
      ...(how.history ? ['-S', '-'] : []),
    );
  }

  async sendKeys(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', ...keys);
  }

  async resize(cols: number, rows: number): Promise<void> {
    await this.tmux('resize-window', '-x', String(cols), '-y', String(rows));
  }

  /** Polls the screen every `everyMs` until `test` passes; the time is from the launch. */
  async waitFor(
    test: (screen: string) => boolean,
    timeoutMs: number,
    how: { everyMs?: number; history?: boolean } = {},
  ): Promise<{ screen: string; atMs: number }> {
    const until = nowMs() + timeoutMs;
    let screen = '';
    for (;;) {
      try {
        screen = await this.capture({ history: how.history });
      } catch {
        // The pane is gone (the program exited): keep the last screen.
      }
      const at = nowMs();
      if (test(screen)) return { screen, atMs: at };
      if (at > until) throw new Error(`screen condition not met in ${timeoutMs} ms; last screen:\n${screen}`);
      await sleep(how.everyMs ?? 50);
    }
  }

  /** The kube-ha node process (the pane runs `sh -c` -> env -> exec node). */
  async nodePid(): Promise<number> {
    const bin = this.bin;
    if (bin === null) throw new Error('a shell command pane: no kube-ha process to look for');
    const shell = Number((await this.tmux('list-panes', '-F', '#{pane_pid}')).trim());
    for (let i = 0; i < 100; i++) {
      const kids = readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim().split(/\s+/);
      for (const k of kids.filter(Boolean)) {
        const cmdline = readFileSync(`/proc/${k}/cmdline`, 'utf8');
        if (cmdline.includes(bin)) return Number(k);
      }
      await sleep(20);
    }
    throw new Error('no kube-ha process in the pane');
  }

  /** The exit status once the program has exited, else null. */
  exitStatus(): number | null {
    if (!existsSync(this.exitFile)) return null;
    const m = /EXIT=(\d+)/.exec(readFileSync(this.exitFile, 'utf8'));
    return m ? Number(m[1]) : null;
  }

  /** Waits for the program to exit; its status. Running still at the deadline: an error with the screen. */
  async waitForExit(timeoutMs = 10_000): Promise<number> {
    const until = nowMs() + timeoutMs;
    for (;;) {
      const s = this.exitStatus();
      if (s !== null) return s;
      if (nowMs() > until) {
        const screen = await this.capture({ history: true }).catch(() => '(no screen)');
        throw new Error(`still running after ${timeoutMs} ms; screen:\n${screen}`);
      }
      await sleep(50);
    }
  }

  /** Ends the tmux server (and kube-ha with it, by SIGHUP) and removes the temp dir. */
  async close(): Promise<void> {
    const pid =
      this.bin !== null && this.exitStatus() === null ? await this.nodePid().catch(() => null) : null;
    await this.tmux('kill-server').catch(() => {});
    // kube-ha ends on the SIGHUP; one that does not is killed, by its own pid.
    if (pid !== null) {
      const until = nowMs() + 3000;
      while (processAlive(pid) && nowMs() < until) await sleep(50);
      if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
