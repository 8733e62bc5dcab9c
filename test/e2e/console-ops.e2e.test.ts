// issue 5's console part, end to end: the built binary's console with
// --write in a real terminal (a tmux pane on a private tmux server, CI unset
// so Ink draws) against one 3-zone lab, each test leaving it at 3 healthy
// replicas and starting from there:
// - `a`, the preselected zone, Enter plans, Enter runs; every step completes
//   and the new replica appears on the dashboard; then `d` on it, a wrong
//   name refused, its name typed, and it is gone;
// - a replica crashed with `kube-ha lab crash`, `R` on it, its name typed: a
//   new replica in its zone, 3 healthy, the crashed one gone;
// - the CLI's typed confirmation on a terminal: `kube-ha remove` without
//   --yes asks for the name; a wrong one changes nothing, the right one removes.
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runningVms } from '../../src/bench/console-bench.js';
import { needTmux, TmuxPane } from '../../src/bench/tmux-pane.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { labDown, labUp, runCli, tempLabDir } from '../helpers/cli.js';
import { aggregatedNames, cli, journals, opsLab, settle, status } from '../ops/lab-helpers.js';

// A private state dir (opsLab's): this console's journals block no other test's lab.
const lab = opsLab(tempLabDir());
const dir = lab.dir;
const env = lab.env;
let panes: TmuxPane[] = [];
let names: string[] = [];
/** Run after each test, passed or not: what puts the lab back for the next one. */
let cleanups: (() => Promise<unknown>)[] = [];

/** kube-ha ARGS on a terminal COLS x ROWS, with the lab's environment; closed after the test. */
async function newPane(args: string[], cols: number, rows: number): Promise<TmuxPane> {
  const p = await TmuxPane.start({ args, env, cols, rows, keepScreen: true });
  panes.push(p);
  return p;
}

/** The screen once it passes `test` (with `history`, what scrolled off it too). */
async function until(
  pane: TmuxPane,
  test: (s: string) => boolean,
  ms: number,
  history = false,
): Promise<string> {
  return (await pane.waitFor(test, ms, { history })).screen;
}

/** Type, see it echoed, then Enter (as a person does; keys sent in one burst can reach Ink as one chunk). */
async function typeThenEnter(
  pane: TmuxPane,
  text: string,
  echoed: (typed: string) => (s: string) => boolean,
) {
  await pane.tmux('send-keys', '-l', text);
  await until(pane, echoed(text), 10_000);
  await pane.tmux('send-keys', 'Enter');
}

/** The replica the console has selected (▸), as drawn. */
const selectedOn = (screen: string) => /▸ (\S+)/.exec(screen)?.[1] ?? null;

/**
 * Moves the console's selection (l: the zone to the right) until `name` is
 * selected, one key at a time: each press waits for the selection to move, so
 * that a slow redraw never leaves a second press in flight past `name`.
 */
async function select(pane: TmuxPane, name: string): Promise<string> {
  let screen = await pane.capture();
  for (let i = 0; i < 8 && selectedOn(screen) !== name; i++) {
    const from = selectedOn(screen);
    await pane.tmux('send-keys', 'l');
    screen = await until(pane, (s) => selectedOn(s) !== from, 10_000);
  }
  expect(screen, screen).toContain(`▸ ${name}`);
  return screen;
}

/** Every test starts from a consistent lab of 3 replicas (and leaves it so). */
async function threeHealthy(): Promise<ClusterStatus> {
  expect(await settle(lab, 3)).toEqual([]);
  return status(lab);
}

const vmCount = runningVms;

describe('kube-ha ui --write and the CLI on a terminal: add, remove, replace', () => {
  beforeAll(async () => {
    needTmux();
    await labUp(dir);
  });

  afterEach(async () => {
    for (const p of panes) await p.close();
    panes = [];
    for (const c of cleanups) await c().catch(() => {});
    cleanups = [];
  });

  afterAll(async () => {
    await labDown(dir);
    rmSync(lab.stateDir, { recursive: true, force: true });
  });

  it('a: zone, plan, Enter adds a replica; d on it: a wrong name is refused, its name removes it', async () => {
    names = (await threeHealthy()).replicas.map((r) => r.name);
    const pane = await newPane(['ui', '--lab-dir', dir, '--write'], 130, 45);
    await until(pane, (s) => s.includes('WRITE') && vmCount(s) === 3, 25_000);
    await pane.tmux('send-keys', 'a');
    // The region's zones, the one with the fewest replicas preselected.
    const picker = await until(pane, (s) => s.includes('choose its zone') && /▸ \S+/.test(s), 20_000);
    const zone = /▸ (\S+)\s+0 replicas\s+\(fewest\)/.exec(picker)?.[1];
    expect(zone, picker).toMatch(/^us-central1-[a-z]$/);
    await pane.tmux('send-keys', 'Enter');
    const plan = await until(pane, (s) => s.includes('Enter/y run it'), 20_000);
    const name = new RegExp(`Plan: add (kubernetes-master-[a-z0-9]{3}) in ${zone}`).exec(plan)?.[1];
    expect(name, plan).toBeDefined();
    expect(names).not.toContain(name);
    expect(plan).toContain('etcd main: voters 3 → 4');
    expect(plan).toMatch(/▲ the result has 4 voters/);
    await pane.tmux('send-keys', 'Enter');
    // While it runs: steps with elapsed time and the call log.
    const running = await until(pane, (s) => s.includes('Running: add') && /\$ \S+/.test(s), 15_000);
    expect(running).toContain('Esc cancel (rolls back what was done)');
    const done = await until(pane, (s) => s.includes(`done: add ${name}`), 45_000);
    expect(done).toMatch(/✔\s+\d+\. Verify the result\s+done \d+\.\d s/);
    expect(done).not.toMatch(/\b(pending|failed|running)\b/);
    await pane.tmux('send-keys', 'x');
    // The new member is asked at its VM's address (its advertised client URL is
    // 127.0.0.1), known once Compute answers: the dashboard converges on 4/4.
    const dash = await until(
      pane,
      (s) => s.includes(name!) && vmCount(s) === 4 && /main\s+4\/4 healthy/.test(s),
      20_000,
    );
    expect(dash).toMatch(/main\s+4\/4 healthy · quorum 3/);
    expect(dash).toContain(zone!);

    // d on the new replica: a removal needs its name typed; a wrong one is refused.
    await select(pane, name!);
    await pane.tmux('send-keys', 'd');
    await until(pane, (s) => s.includes(`type ${name} to confirm`), 20_000);
    expect(await until(pane, (s) => s.includes('etcd main: voters 4 → 3'), 5000)).toContain(`remove ${name}`);
    const typed = (t: string) => (s: string) => s.includes(`to confirm, or Esc to cancel: ${t}`);
    await typeThenEnter(pane, 'kubernetes-master', typed);
    await until(
      pane,
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
    await typeThenEnter(pane, name!, typed);
    await until(pane, (s) => s.includes(`done: remove ${name}`), 45_000);
    await pane.tmux('send-keys', 'x');
    // Gone from the cards (the events timeline below still tells its story).
    const cards = (s: string) => s.split('Events (')[0] ?? s;
    const after = await until(pane, (s) => !cards(s).includes(name!) && vmCount(cards(s)) === 3, 20_000);
    expect(after).toMatch(/main\s+3\/3 healthy · quorum 2/);
    expect(after).toContain(`operation done: remove ${name}`);
    await pane.tmux('send-keys', 'q');
    expect(await pane.waitForExit(10_000)).toBe(0);
  }, 180_000);

  it('R on a crashed replica: its plan, its name typed, a new replica in its zone; 3 healthy, the crashed one gone', async () => {
    const before = await threeHealthy();
    const dead = before.replicas[1]!;
    const crash = await runCli(['lab', 'crash', dead.name, '--dir', dir]);
    expect(crash.code, crash.stderr).toBe(0);
    // Should this test fail before replacing it, the crashed VM comes back for the next test.
    cleanups.push(async () => {
      if ((await status(lab)).replicas.some((r) => r.name === dead.name))
        await runCli(['lab', 'restart', dead.name, '--dir', dir]);
    });

    // Tall enough for the plan's every check and step.
    const pane = await newPane(['ui', '--lab-dir', dir, '--write'], 130, 60);
    // Its members unreachable: 2 of 3 healthy, and the VM still RUNNING (a hung VM).
    await until(
      pane,
      (s) => s.includes('WRITE') && /main\s+2\/3 healthy/.test(s) && vmCount(s) === 3,
      30_000,
    );
    await select(pane, dead.name);
    await pane.tmux('send-keys', 'R');
    // A hung VM: reset is offered first; R again goes on to the replace.
    await until(pane, (s) => s.includes(`Repair ${dead.name}: its VM is RUNNING`), 15_000);
    await pane.tmux('send-keys', 'R');
    // The first plan of a console builds its operations session (Compute clients, a fresh look): room for a loaded machine.
    const plan = await until(pane, (s) => s.includes(`type ${dead.name} to confirm`), 45_000);
    const fresh = new RegExp(
      `Plan: replace ${dead.name} with (kubernetes-master-[a-z0-9]{3}) in ${dead.zone}`,
    ).exec(plan)?.[1];
    expect(fresh, plan).toBeDefined();
    expect(before.replicas.map((r) => r.name)).not.toContain(fresh);
    expect(plan).toMatch(/✔ replace-only-unhealthy\s+\S+ is unhealthy/);
    expect(plan).toContain(
      'etcd main: voters 3 → 3 · healthy 2 → 3 · quorum 2 → 2 · tolerates 0 → 1 failure',
    );
    expect(plan).not.toContain('Refused');
    expect(plan).not.toContain('F force');

    await typeThenEnter(pane, dead.name, (t) => (s) => s.includes(`to confirm, or Esc to cancel: ${t}`));
    await until(pane, (s) => s.includes(`Running: replace ${dead.name}`), 15_000);
    const done = await until(pane, (s) => s.includes(`done: replace ${dead.name}`), 90_000);
    expect(done).toMatch(/✔\s+\d+\. Verify the result\s+done \d+\.\d s/);
    expect(done).not.toMatch(/\b(pending|failed|running)\b/);
    await pane.tmux('send-keys', 'x');
    const cards = (s: string) => s.split('Events (')[0] ?? s;
    const dash = await until(
      pane,
      (s) =>
        cards(s).includes(fresh!) &&
        !cards(s).includes(dead.name) &&
        vmCount(cards(s)) === 3 &&
        /main\s+3\/3 healthy/.test(s) &&
        // The events poll may show the promotion a poll after main's.
        /events\s+3\/3 healthy/.test(s),
      30_000,
    );
    // No member still a learner on the cards (the events panel below keeps the history).
    expect(cards(dash)).not.toMatch(/\blearner\b/);
    await pane.tmux('send-keys', 'q');
    expect(await pane.waitForExit(10_000)).toBe(0);

    // And as `kube-ha status --json` sees it: 3 healthy replicas, the new one in the crashed one's zone.
    expect(await settle(lab, 3)).toEqual([]);
    const after = await status(lab);
    expect(after.replicas.map((r) => r.name)).not.toContain(dead.name);
    expect(after.replicas.find((r) => r.zone === dead.zone)?.name).toBe(fresh);
    expect(after.replicas.filter((r) => r.zone === dead.zone)).toHaveLength(1);
    expect(after.replicas.every((r) => r.etcd.main?.healthy && r.etcd.events?.healthy)).toBe(true);
    expect(after.etcd.main.members).toBe(3);
    expect(await aggregatedNames(lab, 'instances')).not.toContain(dead.name);
    expect(journals(lab).at(-1)).toMatchObject({ state: 'done', plan: { kind: 'replace' } });
  }, 180_000);

  it('kube-ha remove on a terminal asks for the name: a wrong one exits 2 changing nothing, the right one removes', async () => {
    await threeHealthy();
    const add = await cli(lab, ['add', '--zone', 'us-central1-f', '--yes']);
    expect(add.code, add.stderr).toBe(0);
    expect(await settle(lab, 4)).toEqual([]);
    const before = await status(lab);
    const name = before.replicas.find((r) => r.zone === 'us-central1-f')!.name;
    const shape = (s: ClusterStatus) =>
      JSON.stringify(
        s.replicas.map((r) => [r.name, r.etcd.main?.memberId, r.etcd.events?.memberId, r.inTargetPool]),
      );
    const ops = journals(lab).length;
    // (tmux drops a line's trailing spaces: the prompt's last one too)
    const prompt = `Type ${name} to confirm, or anything else to cancel:`;
    const echoed = (t: string) => (s: string) => s.includes(`${prompt} ${t}`);

    // No --yes, no --confirm: on a terminal it prints the plan and asks.
    const wrong = await newPane(['remove', '--replica', name, '--lab-dir', dir], 160, 50);
    const asked = await until(wrong, (s) => s.includes(prompt), 30_000, true);
    expect(asked).toContain(`Plan: remove ${name} (4 → 3 replicas)`);
    expect(asked).toContain('etcd main: voters 4 → 3');
    await typeThenEnter(wrong, 'kubernetes-master', echoed);
    expect(await wrong.waitForExit(20_000)).toBe(2);
    expect(await wrong.capture({ history: true })).toContain(
      `kube-ha: 'kubernetes-master' is not ${name}: not confirmed; nothing was changed`,
    );
    expect(shape(await status(lab))).toBe(shape(before));
    expect(journals(lab)).toHaveLength(ops);

    const right = await newPane(['remove', '--replica', name, '--lab-dir', dir], 160, 50);
    await until(right, (s) => s.includes(prompt), 30_000, true);
    await typeThenEnter(right, name, echoed);
    expect(await right.waitForExit(60_000)).toBe(0);
    expect(await right.capture({ history: true })).toContain(`done: remove ${name}`);
    expect(await settle(lab, 3)).toEqual([]);
    expect((await status(lab)).replicas.map((r) => r.name)).not.toContain(name);
    expect(journals(lab)).toHaveLength(ops + 1);
  }, 180_000);
});
