// issue 3's acceptance, end to end: the built binary's live console in a real
// terminal (a tmux pane on a private tmux server, CI unset so Ink draws)
// against a real 3-zone lab; the leader crashed through the lab; `q` quits 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  crashVisible,
  etcdPartVisible,
  headerLeader,
  runningVms,
  wholeVisible,
} from '../../src/bench/console-bench.js';
import { needTmux, TmuxPane } from '../../src/bench/tmux-pane.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { eventually, labDown, labUp, runCli, tempLabDir } from '../helpers/cli.js';

const dir = tempLabDir();
let names: string[] = [];
let zones: string[] = [];
let pane: TmuxPane | null = null;

const status = async () =>
  JSON.parse((await runCli(['status', '--lab-dir', dir, '--json'])).stdout) as ClusterStatus;
/** Waits for the screen to pass `test`: generous for a loaded 2-core machine, but bounded. */
const until = (test: (s: string) => boolean, ms = 15_000) => pane!.waitFor(test, ms, { everyMs: 100 });

describe('kube-ha ui in a real terminal against a 3-zone lab', () => {
  beforeAll(async () => {
    needTmux();
    await labUp(dir);
    const s = await status();
    names = s.replicas.map((r) => r.name);
    zones = s.replicas.map((r) => r.zone ?? '');
    expect(names).toHaveLength(3);
    expect(new Set(zones).size).toBe(3);
    pane = await TmuxPane.start({ args: ['ui', '--lab-dir', dir], cols: 120, rows: 36 });
  });

  afterAll(async () => {
    await pane?.close();
    await labDown(dir);
  });

  it('shows every replica and zone, the quorum of both clusters, VMs and the load balancer', async () => {
    const { screen: s } = await until((x) => wholeVisible(x, names, zones), 25_000);
    expect(etcdPartVisible(s, names)).toBe(true);
    for (const n of names) expect(s).toContain(n);
    for (const z of zones) expect(s).toContain(z);
    expect(s).toMatch(/^main\s+3\/3 healthy · quorum 2 · tolerates 1 failure · leader ★ \S+/m);
    expect(s).toMatch(/^events\s+3\/3 healthy · quorum 2 · tolerates 1 failure · leader ★ \S+/m);
    expect(s).toMatch(/on load balancer kubernetes-master \(3 replicas in pool\)/);
    expect(runningVms(s)).toBe(3);
    expect(s).toContain('no warnings');
    expect(pane!.exitStatus()).toBeNull();
  }, 35_000);

  it('? opens the help over the dashboard, and Esc closes it', async () => {
    await pane!.sendKeys('?');
    const help = await until((s) => s.includes('Keys') && s.includes('this help'));
    expect(help.screen).toMatch(/q Ctrl-C\s+quit/);
    expect(help.screen).not.toContain('VM RUNNING');
    await pane!.sendKeys('Escape');
    await until((s) => !s.includes('this help') && runningVms(s) === 3);
  }, 40_000);

  it('at 80x24 every replica, zone and quorum line fits, no row over 80 columns', async () => {
    // A console of its own, started at 80x24.
    const narrow = await TmuxPane.start({ args: ['ui', '--lab-dir', dir], cols: 80, rows: 24 });
    try {
      // The 80-column header drops the word "project".
      const { screen: s } = await narrow.waitFor(
        (x) => x.startsWith('kube-ha · kube-ha-lab') && wholeVisible(x, names, zones),
        25_000,
        { everyMs: 100 },
      );
      // Rows the terminal wrapped are joined back: a row wider than 80 columns shows up longer.
      const rows = (await narrow.tmux('capture-pane', '-p', '-J'))
        .replace(/\n$/, '')
        .split('\n')
        .map((l) => l.replace(/\s+$/, ''));
      expect(rows.filter((l) => [...l].length > 80)).toEqual([]);
      expect(rows.length).toBeLessThanOrEqual(24);
      expect(s).toMatch(/^main\s+3\/3 healthy · quorum 2 · tolerates 1 failure/m);
      expect(s).toMatch(/^events\s+3\/3 healthy · quorum 2 · tolerates 1 failure/m);
      expect(rows.some((l) => l.includes('q quit'))).toBe(true);
      await narrow.sendKeys('q');
      expect(await narrow.waitForExit(10_000)).toBe(0);
    } finally {
      await narrow.close();
    }
  }, 45_000);

  it('after `lab crash <leader>`, shows the member unreachable and a new leader', async () => {
    const before = await until((s) => headerLeader(s, 'main') !== null && etcdPartVisible(s, names));
    const leader = headerLeader(before.screen, 'main')!;
    // The screen and the lab agree on who leads.
    expect((await status()).replicas.find((r) => r.etcd.main?.leader)?.name).toBe(leader);
    const crash = await runCli(['lab', 'crash', leader, '--dir', dir]);
    expect(crash.code).toBe(0);
    const { screen: s } = await until((x) => crashVisible(x, leader));
    const newLeader = headerLeader(s, 'main');
    expect(newLeader).not.toBe(leader);
    expect(names).toContain(newLeader);
    expect(s).toMatch(/^main\s+2\/3 healthy · quorum 2 · tolerates no failure/m);
    expect(s).toMatch(new RegExp(`ERROR ${leader}: etcd main member \\S+ unhealthy`));
    expect(s).toMatch(/main {3}unreachable/);
  }, 40_000);

  it('q quits with exit status 0 and gives the terminal back', async () => {
    await pane!.sendKeys('q');
    expect(await pane!.waitForExit(10_000)).toBe(0);
    // The pane (and with it the private tmux server) is gone once kube-ha is.
    await eventually(
      () =>
        pane!.capture().then(
          () => false,
          () => true,
        ),
      5000,
    );
  }, 20_000);
});
