// issue 3's numbers for the live console, measured on the real binary in a real
// terminal (a tmux pane on a private server) against a real 3-zone lab:
// launch to the etcd part on screen and to the whole screen, crash-to-screen
// latency, and idle CPU and RSS. The pane is read with `tmux capture-pane`
// every ~50 ms, so every figure carries up to ~50 ms of sampling error.
// TmuxPane is also what `npm run screenshots` and the end-to-end test drive.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, summarize, timeCommand } from './measure.js';

export const BIN = fileURLToPath(new URL('../../bin/kube-ha.js', import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 16 << 20, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface PaneOptions {
  /** argv after `node bin/kube-ha.js`. */
  args: string[];
  cols: number;
  rows: number;
}

/**
 * One kube-ha process in a tmux pane on its own tmux server (`tmux -S`), with
 * CI unset (Ink renders nothing on a terminal while CI is set). When kube-ha
 * exits, the pane writes `EXIT=<status>` to a file and the server ends.
 */
export class TmuxPane {
  readonly tmp = mkdtempSync(join(tmpdir(), 'kube-ha-pane-'));
  /** A private tmux server: its socket lives in our temp dir and goes with it. */
  readonly socket = join(this.tmp, 'tmux.sock');
  readonly exitFile = join(this.tmp, 'exit');
  readonly confFile = join(this.tmp, 'tmux.conf');
  /** process.hrtime in ms just before tmux was asked to start kube-ha. */
  startedAt = 0;

  private constructor(readonly opts: PaneOptions) {}

  static async start(opts: PaneOptions): Promise<TmuxPane> {
    const pane = new TmuxPane(opts);
    const cmd =
      `env -u CI TERM=xterm-256color ${shellQuote(process.execPath)} ${shellQuote(BIN)} ` +
      `${opts.args.map(shellQuote).join(' ')}; echo EXIT=$? > ${shellQuote(pane.exitFile)}`;
    // A bare server: no user config, and no status line taking a row.
    writeFileSync(pane.confFile, 'set -g status off\n');
    pane.startedAt = nowMs();
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

  /** The screen as text; with `escapes`, with its colours and attributes as SGR sequences. */
  capture(escapes = false): Promise<string> {
    return this.tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []));
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
    everyMs = 50,
  ): Promise<{ screen: string; atMs: number }> {
    const until = nowMs() + timeoutMs;
    let screen = '';
    for (;;) {
      try {
        screen = await this.capture();
      } catch {
        // The pane is gone (kube-ha exited): keep the last screen.
      }
      const at = nowMs();
      if (test(screen)) return { screen, atMs: at };
      if (at > until) throw new Error(`screen condition not met in ${timeoutMs} ms; last screen:\n${screen}`);
      await sleep(everyMs);
    }
  }

  /** The kube-ha node process (the pane runs `sh -c` -> env -> exec node). */
  async nodePid(): Promise<number> {
    const shell = Number((await this.tmux('list-panes', '-F', '#{pane_pid}')).trim());
    for (let i = 0; i < 100; i++) {
      const kids = readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim().split(/\s+/);
      for (const k of kids.filter(Boolean)) {
        const cmdline = readFileSync(`/proc/${k}/cmdline`, 'utf8');
        if (cmdline.includes(BIN)) return Number(k);
      }
      await sleep(20);
    }
    throw new Error('no kube-ha process in the pane');
  }

  /** `EXIT=n` once kube-ha has exited, else null. */
  exitStatus(): number | null {
    if (!existsSync(this.exitFile)) return null;
    const m = /EXIT=(\d+)/.exec(readFileSync(this.exitFile, 'utf8'));
    return m ? Number(m[1]) : null;
  }

  async waitForExit(timeoutMs = 10_000): Promise<number> {
    const until = nowMs() + timeoutMs;
    for (;;) {
      const s = this.exitStatus();
      if (s !== null) return s;
      if (nowMs() > until) throw new Error(`kube-ha did not exit within ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  /** Ends the tmux server (and kube-ha with it, by SIGHUP) and removes the temp dir. */
  async close(): Promise<void> {
    const pid = this.exitStatus() === null ? await this.nodePid().catch(() => null) : null;
    await this.tmux('kill-server').catch(() => {});
    // kube-ha ends on the SIGHUP; one that does not is killed, by its own pid.
    if (pid !== null) {
      const until = nowMs() + 3000;
      while (alive(pid) && nowMs() < until) await sleep(50);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// What the screen says, in terms that hold at 120 and at 80 columns.

/** The leader named on the header line of a cluster (`main … leader ★ NAME`), or null. */
export function headerLeader(screen: string, cluster: 'main' | 'events'): string | null {
  const line = screen.split('\n').find((l) => l.startsWith(`${cluster} `));
  const m = line ? /★ (\S+)\s*$/.exec(line) : null;
  return m ? m[1]! : null;
}

/** etcd part: every replica on screen, and both clusters' header lines reading n/n healthy. */
export function etcdPartVisible(screen: string, names: string[]): boolean {
  const n = names.length;
  return (
    names.every((name) => new RegExp(`\\b${name}\\b`).test(screen)) &&
    new RegExp(`^main\\s+${n}/${n} healthy`, 'm').test(screen) &&
    new RegExp(`^events\\s+${n}/${n} healthy`, 'm').test(screen)
  );
}

/** The whole: the etcd part, every zone, every VM's status and the load balancer. */
export function wholeVisible(screen: string, names: string[], zones: string[]): boolean {
  return (
    etcdPartVisible(screen, names) &&
    zones.every((z) => screen.includes(z)) &&
    (screen.match(/VM RUNNING/g)?.length ?? 0) === names.length &&
    /on load balancer/.test(screen)
  );
}

/** After a crash of `crashed`: a different main leader, and the member named unhealthy. */
export function crashVisible(screen: string, crashed: string): boolean {
  const leader = headerLeader(screen, 'main');
  return (
    leader !== null &&
    leader !== crashed &&
    new RegExp(`${crashed}: etcd main member \\S+ unhealthy`).test(screen)
  );
}

/** Per-process CPU seconds (all threads) and resident memory, from /proc. */
export function procUsage(pid: number): { cpuSeconds: number; rssKiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds: ticks / CLOCK_TICKS, rssKiB: Number(rss?.[1] ?? 0) };
}

/** USER_HZ: 100 on every Linux this runs on (`getconf CLK_TCK`). */
const CLOCK_TICKS = 100;

interface LabInfo {
  dir: string;
  names: string[];
  zones: string[];
}

async function labStart(): Promise<LabInfo> {
  const dir = mkdtempSync(join(tmpdir(), 'kube-ha-bench-console-'));
  // The TTL ends a leaked lab; `lab down` in finally is the cleanup.
  const up = await timeCommand(process.execPath, [BIN, 'lab', 'up', '--dir', dir, '--ttl', '1200']);
  if (up.code !== 0) throw new Error(`lab up failed (${up.code})`);
  const status = await statusJson(dir);
  return {
    dir,
    names: status.replicas.map((r) => r.name),
    zones: [...new Set(status.replicas.map((r) => r.zone ?? ''))],
  };
}

interface StatusJson {
  replicas: { name: string; zone: string | null; etcd: { main?: { leader?: boolean } | null } }[];
}

async function statusJson(dir: string): Promise<StatusJson> {
  const r = await timeCommand(process.execPath, [BIN, 'status', '--lab-dir', dir, '--json']);
  return JSON.parse(r.stdout) as StatusJson;
}

async function healthyAgain(dir: string): Promise<void> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    const r = await timeCommand(process.execPath, [BIN, 'status', '--lab-dir', dir, '--json']);
    if (r.code === 0) return;
    await sleep(200);
  }
  throw new Error('the lab did not become healthy again');
}

const ms = (t: { median: number; min: number; max: number; runs: number[] }) => fmt(t);

export async function benchConsole(opts: { startups?: number; crashes?: number; idleSeconds?: number } = {}) {
  const startups = opts.startups ?? 5;
  const crashes = opts.crashes ?? 3;
  const idleSeconds = opts.idleSeconds ?? 60;
  const lines: string[] = [];
  const lab = await labStart();
  const panes: TmuxPane[] = [];
  const open = async (cols = 120, rows = 36) => {
    const p = await TmuxPane.start({ args: ['ui', '--lab-dir', lab.dir], cols, rows });
    panes.push(p);
    return p;
  };
  const quit = async (p: TmuxPane) => {
    await p.sendKeys('q');
    const code = await p.waitForExit();
    await p.close();
    if (code !== 0) throw new Error(`kube-ha ui exited ${code}`);
  };
  try {
    // (1) Launch to the etcd part, and to the whole, on screen.
    const etcdPart: number[] = [];
    const whole: number[] = [];
    for (let i = 0; i < startups; i++) {
      const p = await open();
      const a = await p.waitFor((s) => etcdPartVisible(s, lab.names), 20_000);
      const b = await p.waitFor((s) => wholeVisible(s, lab.names, lab.zones), 20_000);
      etcdPart.push(a.atMs - p.startedAt);
      whole.push(b.atMs - p.startedAt);
      await quit(p);
    }
    lines.push(
      `launch -> every replica with etcd health on screen (the etcd part): ${ms(summarize(etcdPart))}`,
    );
    lines.push(`launch -> zones, VM status and load balancer on screen (the whole): ${ms(summarize(whole))}`);

    // (2) Crash the main leader's replica; time from `lab crash` returning to the screen.
    const p = await open();
    await p.waitFor((s) => wholeVisible(s, lab.names, lab.zones), 20_000);
    const latencies: number[] = [];
    for (let i = 0; i < crashes; i++) {
      const leader = (await statusJson(lab.dir)).replicas.find((r) => r.etcd.main?.leader)?.name;
      if (!leader) throw new Error('no main leader before the crash');
      const crash = await timeCommand(process.execPath, [BIN, 'lab', 'crash', leader, '--dir', lab.dir]);
      if (crash.code !== 0) throw new Error(`lab crash ${leader} failed`);
      const returned = nowMs();
      const seen = await p.waitFor((s) => crashVisible(s, leader), 15_000);
      latencies.push(seen.atMs - returned);
      await timeCommand(process.execPath, [BIN, 'lab', 'restart', leader, '--dir', lab.dir]);
      await healthyAgain(lab.dir);
      await p.waitFor((s) => wholeVisible(s, lab.names, lab.zones), 20_000);
    }
    lines.push(
      `\`lab crash <main leader>\` returned -> new leader and the member unhealthy on screen: ${ms(summarize(latencies))}`,
    );

    // (3) Idle on the unchanged lab: CPU and RSS of the node process, all threads.
    const pid = await p.nodePid();
    await sleep(5000); // let the post-restart events settle
    const t0 = nowMs();
    const u0 = procUsage(pid);
    await sleep(idleSeconds * 1000);
    const u1 = procUsage(pid);
    const wall = (nowMs() - t0) / 1000;
    const cpu = ((u1.cpuSeconds - u0.cpuSeconds) / wall) * 100;
    lines.push(
      `idle ${wall.toFixed(0)} s on the unchanged lab: ${cpu.toFixed(2)} % of one core ` +
        `(${(u1.cpuSeconds - u0.cpuSeconds).toFixed(2)} CPU s), RSS ${(u0.rssKiB / 1024).toFixed(0)} MB -> ${(u1.rssKiB / 1024).toFixed(0)} MB`,
    );
    await quit(p);
    lines.push(
      `(${cpus().length} cores here; load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')} at the end: other work on the machine slows the launch figures)`,
    );
  } finally {
    for (const p of panes) await p.close();
    await timeCommand(process.execPath, [BIN, 'lab', 'down', '--dir', lab.dir]);
    rmSync(lab.dir, { recursive: true, force: true });
  }
  return lines;
}
