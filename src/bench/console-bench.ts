// How fast and how light the live console is, measured on the real binary in a real
// terminal (a tmux pane on a private server) against a real 3-zone lab:
// launch to the etcd part on screen and to the whole screen, crash-to-screen
// latency, and idle CPU and RSS. The pane is read with `tmux capture-pane`
// every ~50 ms, so every figure carries up to ~50 ms of sampling error.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAST_LEASE_TIMINGS, leaseTimingArgs } from '../lab/components/control-plane.js';
import { CONSOLE_QUIET } from '../pollers/index.js';
import { fmt, summarize, timeCommand } from './measure.js';
import { BIN, TmuxPane } from './tmux-pane.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

// What the screen says, in terms that hold at 120 and at 80 columns.

/** The leader named on the header line of a cluster (`main … leader ★ NAME`), or null. */
export function headerLeader(screen: string, cluster: 'main' | 'events'): string | null {
  const line = screen.split('\n').find((l) => l.startsWith(`${cluster} `));
  // The leader's name, then the end of the line or more of the header (` · no snapshot yet`).
  const m = line ? /★ (\S+)(?:\s*$|\s+·)/.exec(line) : null;
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

/**
 * VMs shown RUNNING on the replica cards: the timeline's "appeared in ZONE
 * (VM RUNNING)" lines are not cards.
 */
export function runningVms(screen: string): number {
  return screen.match(/VM RUNNING(?!\))/g)?.length ?? 0;
}

/** The whole: the etcd part, every zone, every VM's status and the load balancer. */
export function wholeVisible(screen: string, names: string[], zones: string[]): boolean {
  return (
    etcdPartVisible(screen, names) &&
    zones.every((z) => screen.includes(z)) &&
    runningVms(screen) === names.length &&
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
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds: cpuTicks(`/proc/${pid}/stat`) / CLOCK_TICKS, rssKiB: Number(rss?.[1] ?? 0) };
}

/** CPU seconds of the main thread (its id is the pid) and of all the others (GCE worker, V8's GC and compiler threads). */
export function threadUsage(pid: number): { main: number; others: number } {
  let others = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    if (Number(tid) === pid) continue;
    try {
      others += cpuTicks(`/proc/${pid}/task/${tid}/stat`);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return { main: cpuTicks(`/proc/${pid}/task/${pid}/stat`) / CLOCK_TICKS, others: others / CLOCK_TICKS };
}

/** utime + stime (fields 14 and 15) of a /proc stat file, in clock ticks. */
function cpuTicks(statFile: string): number {
  const stat = readFileSync(statFile, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** USER_HZ: 100 on every Linux this runs on (`getconf CLK_TCK`). */
const CLOCK_TICKS = 100;

interface LabInfo {
  dir: string;
  names: string[];
  zones: string[];
}

async function labStart(extra: string[] = []): Promise<LabInfo> {
  const dir = mkdtempSync(join(tmpdir(), 'kube-ha-bench-console-'));
  // The TTL ends a leaked lab; `lab down` in finally is the cleanup.
  const up = await timeCommand(process.execPath, [BIN, 'lab', 'up', '--dir', dir, '--ttl', '1200', ...extra]);
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

/** Startup marks (src/trace.ts) in the order they normally come. */
const MARKS = [
  'main',
  'pollers started',
  'ui imported',
  'first frame',
  'first poll events',
  'first poll main',
  'first poll gce',
] as const;

function readMarks(file: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
    const m = /^(\d+) (.+)$/.exec(line);
    if (m) out.set(m[2]!, Number(m[1]));
  }
  return out;
}

/** CPU of the kube-ha process over `seconds` on an unchanged lab, as report lines. */
async function idleUsage(pane: TmuxPane, seconds: number, what: string): Promise<string> {
  const pid = await pane.nodePid();
  const t0 = nowMs();
  const u0 = procUsage(pid);
  const th0 = threadUsage(pid);
  await sleep(seconds * 1000);
  const u1 = procUsage(pid);
  const th1 = threadUsage(pid);
  const wall = (nowMs() - t0) / 1000;
  const pct = (cpuS: number) => `${((cpuS / wall) * 100).toFixed(2)} %`;
  return (
    `idle ${wall.toFixed(0)} s, ${what}: ${pct(u1.cpuSeconds - u0.cpuSeconds)} of one core ` +
    `(main thread ${pct(th1.main - th0.main)}, GCE worker and V8 threads ${pct(th1.others - th0.others)}), ` +
    `RSS ${(u0.rssKiB / 1024).toFixed(0)} MB -> ${(u1.rssKiB / 1024).toFixed(0)} MB`
  );
}

export async function benchConsole(
  opts: { startups?: number; crashes?: number; idleSeconds?: number } = {},
): Promise<string[]> {
  const startups = opts.startups ?? 5;
  const crashes = opts.crashes ?? 3;
  const idleSeconds = opts.idleSeconds ?? 60;
  const lines: string[] = [];
  const lab = await labStart();
  const labs = [lab];
  const panes: TmuxPane[] = [];
  const open = async (l: LabInfo, env?: Record<string, string>) => {
    const p = await TmuxPane.start({
      args: ['ui', '--lab-dir', l.dir],
      cols: 120,
      rows: 36,
      ...(env ? { env } : {}),
    });
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
    // (1) Launch to the etcd part, and to the whole, on screen; where the time went.
    const etcdPart: number[] = [];
    const whole: number[] = [];
    const marks = new Map<string, number[]>();
    for (let i = 0; i < startups; i++) {
      const trace = join(lab.dir, `trace-${i}`);
      const p = await open(lab, { KUBE_HA_TRACE: trace });
      const a = await p.waitFor((s) => etcdPartVisible(s, lab.names), 20_000);
      const b = await p.waitFor((s) => wholeVisible(s, lab.names, lab.zones), 20_000);
      etcdPart.push(a.atMs - p.startedAt);
      whole.push(b.atMs - p.startedAt);
      await quit(p);
      for (const [name, at] of readMarks(trace)) marks.set(name, [...(marks.get(name) ?? []), at]);
    }
    lines.push(
      `launch -> every replica with etcd health on screen (the etcd part): ${ms(summarize(etcdPart))}`,
    );
    lines.push(`launch -> zones, VM status and load balancer on screen (the whole): ${ms(summarize(whole))}`);
    lines.push(
      `where the launch goes (median ms after node started, KUBE_HA_TRACE marks): ${MARKS.filter((m) =>
        marks.has(m),
      )
        .map((m) => `${m} ${summarize(marks.get(m)!).median.toFixed(0)}`)
        .join(', ')}`,
    );

    // (2) Crash the main leader's replica; time from `lab crash` returning to the screen.
    const p = await open(lab);
    await p.waitFor((s) => wholeVisible(s, lab.names, lab.zones), 20_000);
    const latencies: number[] = [];
    for (let i = 0; i < crashes; i++) {
      // Crash a quiet console (its slower cadence, the worst case): nothing has happened for a while.
      await sleep(CONSOLE_QUIET.afterMs + 3000);
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
      `\`lab crash <main leader>\` returned -> new leader and the member unhealthy on screen (a quiet console): ${ms(summarize(latencies))}`,
    );
    await quit(p);

    // (3) Idle on an unchanged lab, in a new console: CPU (all threads, and the
    // main thread apart) and RSS. First on this lab, which runs Kubernetes' own
    // leader-election timings (leaders renew every 2 s), once leases crashed
    // above have moved (15 s lease); then on a lab with the tests' short
    // timings, whose leaders write to etcd four times as often.
    await sleep(20_000);
    const settled = await open(lab);
    await settled.waitFor((s) => wholeVisible(s, lab.names, lab.zones), 20_000);
    await sleep(5000);
    lines.push(await idleUsage(settled, idleSeconds, "Kubernetes' lease timings (15 s / 10 s / 2 s)"));
    await quit(settled);

    const fast = await labStart(leaseTimingArgs(FAST_LEASE_TIMINGS));
    labs.push(fast);
    const busy = await open(fast);
    await busy.waitFor((s) => wholeVisible(s, fast.names, fast.zones), 20_000);
    await sleep(5000);
    lines.push(await idleUsage(busy, idleSeconds, "the tests' short lease timings (5 s / 3.5 s / 0.5 s)"));
    await quit(busy);
    lines.push(
      `(${cpus().length} cores here; load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')} at the end: other work on the machine slows the launch figures)`,
    );
  } finally {
    for (const p of panes) await p.close();
    for (const l of labs) {
      await timeCommand(process.execPath, [BIN, 'lab', 'down', '--dir', l.dir]);
      rmSync(l.dir, { recursive: true, force: true });
    }
  }
  return lines;
}
