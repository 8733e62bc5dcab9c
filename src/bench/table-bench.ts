// The README's measurements table: kube-ha next to what an operator would otherwise type,
// `etcdctl endpoint status` and `etcdctl member list` against the same cluster
// (the "etcdctl pair"), measured side by side in one run on one 3-zone lab:
// each status row as a ratio of wall time (and CPU) to the pair's, in
// alternating rounds so that a busy machine slows both alike; the console's
// launch, idle CPU and memory in absolute terms. Prints the commands to run
// each row by hand.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLabContext } from '../lab/context.js';
import { procUsage, threadUsage, wholeVisible } from './console-bench.js';
import { summarize, timeCommand } from './measure.js';
import { BIN, LAUNCHER_NODE_FLAGS, TmuxPane } from './tmux-pane.js';

/** Builds the floor's bundle (scripts/etcd3-floor.mjs). */
const FLOOR_BUILDER = fileURLToPath(new URL('../../scripts/etcd3-floor.mjs', import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

/** CPU seconds of this process's waited-for children so far (cutime + cstime of /proc/self/stat). */
function childrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of stat(5), counted from the state (field 3) at index 0.
  return (Number(f[13]) + Number(f[14])) / 100;
}

interface Run {
  wallMs: number;
  cpuS: number;
}

/** One command: wall time, and CPU time of it and every process it waited for. */
async function measure(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Run> {
  const cpu0 = childrenCpuSeconds();
  const r = await timeCommand(cmd, args, env);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}`);
  return { wallMs: r.ms, cpuS: childrenCpuSeconds() - cpu0 };
}

const median = (xs: number[]) => summarize(xs).median;
const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Which entry the launcher will run (bin/kube-ha.js): the bundle unless it predates the last compile. */
function launcherEntry(): string {
  const m = (p: string) => {
    try {
      return statSync(new URL(p, import.meta.url)).mtimeMs;
    } catch {
      return null;
    }
  };
  const bundle = m('../../dist/bundle/main.js');
  const compiled = m('../../dist/.tsbuildinfo');
  return bundle !== null && (compiled === null || bundle >= compiled)
    ? 'dist/bundle/main.js (the bundle)'
    : 'dist/cli/main.js (modules: the bundle is missing or older than the last compile; run `npm run build`)';
}

export async function benchTable(opts: { rounds?: number; launches?: number; idleSeconds?: number } = {}) {
  const rounds = opts.rounds ?? 7;
  const launches = opts.launches ?? 5;
  const idleSeconds = opts.idleSeconds ?? 60;
  const dir = mkdtempSync(join(tmpdir(), 'kube-ha-bench-table-'));
  const lines: string[] = [];
  const node = [...LAUNCHER_NODE_FLAGS, BIN];
  const up = await timeCommand(process.execPath, [BIN, 'lab', 'up', '--dir', dir, '--ttl', '1800']);
  if (up.code !== 0) throw new Error('lab up failed');
  try {
    const ctx = readLabContext(dir);
    const main = ctx.etcd.main;
    const tls = [`--cacert=${main.caFile}`, `--cert=${main.certFile}`, `--key=${main.keyFile}`];
    // Every member by address: `--cluster` would ask the advertised client URL,
    // 127.0.0.1 on kube-up's members; their certificates name etcd-<instance>.
    const etcdctl = (sub: string) =>
      `ETCDCTL_API=3 etcdctl --endpoints=${main.endpoints.join(',')} ${tls.join(' ')} --insecure-skip-tls-verify ${sub} -w table`;
    const pairScript = `${etcdctl('endpoint status')} >/dev/null && ${etcdctl('member list')} >/dev/null`;
    const status = JSON.parse(
      (await timeCommand(process.execPath, [BIN, 'status', '--lab-dir', dir, '--json'])).stdout,
    ) as {
      replicas: { name: string; zone: string | null; vm?: { internalIP?: string | null } }[];
    };
    // The floor: the pair's calls through etcd3, bundled and code-cached (scripts/etcd3-floor.mjs).
    const floorDir = join(dir, 'floor');
    const built = await timeCommand(process.execPath, [FLOOR_BUILDER, floorDir]);
    if (built.code !== 0) throw new Error('scripts/etcd3-floor.mjs failed');
    const memberName = (endpoint: string) =>
      `etcd-${status.replicas.find((r) => endpoint.includes(`//${r.vm?.internalIP}:`))?.name ?? 'unknown'}`;
    const floorArgs = [
      join(floorDir, 'floor.cjs'),
      main.endpoints.join(','),
      main.endpoints.map(memberName).join(','),
      main.caFile,
      main.certFile,
      main.keyFile,
    ];
    const rows: [string, string, string[]][] = [
      ['pair', 'sh', ['-c', pairScript]],
      ['floor', process.execPath, floorArgs],
      ['lab', process.execPath, [...node, 'status', '--lab-dir', dir, '--json']],
      [
        'etcd',
        process.execPath,
        [
          ...node,
          'status',
          '--json',
          '--etcd-endpoints',
          main.endpoints.join(','),
          '--cacert',
          main.caFile,
          '--cert',
          main.certFile,
          '--key',
          main.keyFile,
        ],
      ],
    ];
    const runs = new Map<string, Run[]>(rows.map(([k]) => [k, []]));
    // One unmeasured round (page cache, the lab's first answers), then alternating rounds.
    for (let i = 0; i <= rounds; i++) {
      for (const [k, cmd, args] of rows) {
        const r = await measure(cmd, args);
        if (i > 0) runs.get(k)!.push(r);
      }
    }
    const wall = (k: string) => median(runs.get(k)!.map((r) => r.wallMs));
    const cpu = (k: string) => median(runs.get(k)!.map((r) => r.cpuS));
    const ratio = (k: string) =>
      `${(wall(k) / wall('pair')).toFixed(1)}× (${(wall(k) / 1000).toFixed(2)} s vs ${(wall('pair') / 1000).toFixed(2)} s); CPU ${(cpu(k) / cpu('pair')).toFixed(0)}× (${cpu(k).toFixed(2)} s vs ${cpu('pair').toFixed(2)} s)`;

    // The console: launch to the whole screen, then idle CPU and memory.
    const whole: number[] = [];
    const names = status.replicas.map((r) => r.name);
    const zones = [...new Set(status.replicas.map((r) => r.zone ?? ''))];
    let idle = '';
    let rss = '';
    for (let i = 0; i < launches; i++) {
      const pane = await TmuxPane.start({ args: ['ui', '--lab-dir', dir], cols: 120, rows: 36 });
      try {
        const seen = await pane.waitFor((s) => wholeVisible(s, names, zones), 30_000);
        whole.push(seen.atMs - pane.startedAt);
        if (i === launches - 1) {
          // Idle on the unchanged lab, in the last console, once its first polls are done.
          await sleep(5000);
          const pid = await pane.nodePid();
          const t0 = nowMs();
          const u0 = procUsage(pid);
          const th0 = threadUsage(pid);
          await sleep(idleSeconds * 1000);
          const u1 = procUsage(pid);
          const th1 = threadUsage(pid);
          const s = (nowMs() - t0) / 1000;
          const pct = (x: number) => `${((x / s) * 100).toFixed(2)} %`;
          idle = `${pct(u1.cpuSeconds - u0.cpuSeconds)} of a core over ${s.toFixed(0)} s (main thread ${pct(th1.main - th0.main)}, GCE worker and V8 threads ${pct(th1.others - th0.others)})`;
          rss = `${(u1.rssKiB / 1024).toFixed(0)} MB (${(u0.rssKiB / 1024).toFixed(0)} MB at the start of the idle minute)`;
        }
        await pane.sendKeys('q');
        await pane.waitForExit();
      } finally {
        await pane.close();
      }
    }
    const w = summarize(whole);

    lines.push(`entry: ${launcherEntry()}`);
    lines.push('');
    lines.push('| what | issue 12 target | measured |');
    lines.push('| --- | --- | --- |');
    lines.push(`| \`kube-ha status --lab-dir D --json\` / etcdctl pair, wall | ≤ 4× | ${ratio('lab')} |`);
    lines.push(
      `| \`kube-ha status --etcd-endpoints … --json\` / etcdctl pair, wall | ≤ 2.5× | ${ratio('etcd')} |`,
    );
    lines.push(
      `| (floor: the pair's own calls through etcd3, bundled and code-cached, no more) / etcdctl pair, wall | | ${ratio('floor')} |`,
    );
    lines.push(
      `| console launch → every replica, zone, VM state and both clusters' health on screen | ≤ 1.5 s | median ${(w.median / 1000).toFixed(2)} s (${(w.min / 1000).toFixed(2)}–${(w.max / 1000).toFixed(2)}, n=${w.runs.length}) |`,
    );
    lines.push(`| console idle on an unchanged lab, CPU | ≤ 1 % | ${idle} |`);
    lines.push(`| console resident memory | ≤ 150 MB | ${rss} |`);
    lines.push('');
    lines.push(
      `medians of ${rounds} alternating rounds (pair, floor, status on the lab, status etcd only) after one unmeasured; ` +
        `CPU is user + system of the process and its children; ${cpus().length} cores, load average ` +
        `${loadavg()
          .map((x) => x.toFixed(1))
          .join(' ')} at the end (other work on the machine slows every figure)`,
    );
    lines.push('');
    lines.push('to run them by hand (on a lab from `kube-ha lab up --dir D`):');
    lines.push(
      `- etcdctl pair: ${etcdctl('endpoint status').replaceAll(dir, 'D')}; ${etcdctl('member list').replaceAll(dir, 'D')}`,
    );
    lines.push(
      `- ${['node', ...LAUNCHER_NODE_FLAGS, 'bin/kube-ha.js', 'status', '--lab-dir', 'D', '--json'].join(' ')}`,
    );
    lines.push(
      `- ${['node', ...LAUNCHER_NODE_FLAGS, 'bin/kube-ha.js', 'status', '--json', '--etcd-endpoints', main.endpoints.join(','), '--cacert', 'D/pki/ca.crt', '--cert', 'D/pki/kube-ha-client.crt', '--key', 'D/pki/kube-ha-client.key'].map(quote).join(' ')}`,
    );
    lines.push(
      `- floor: node scripts/etcd3-floor.mjs F, then ${['node', 'F/floor.cjs', ...floorArgs.slice(1)].map((a) => quote(a.replaceAll(dir, 'D'))).join(' ')}`,
    );
    lines.push(
      '- console: `node bin/kube-ha.js ui --lab-dir D` in a 120×36 terminal (the bench drives it in tmux)',
    );
  } finally {
    await timeCommand(process.execPath, [BIN, 'lab', 'down', '--dir', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}
