import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Key, Text, useInput } from 'ink';
import { cleanup, render as renderTest } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  bindingKeys,
  type Command,
  commandFor,
  KEY_BINDINGS,
  type KeySpec,
} from '../../src/ui/keys/keyBindings.js';
import {
  OPS_KEY_TABLE,
  type OpsCommand,
  type OpsScreen,
  opsCommandFor,
  opsScreenHints,
} from '../../src/ui/keys/opsKeys.js';
import { createOpsController, opsScreenOf } from '../../src/ui/ops/index.js';
import { helpDescription } from '../../src/ui/rows/help.js';
import { createTheme } from '../../src/ui/theme.js';
import { degraded, healthy3, NAMES } from './fixtures.js';
import { app, KEYS, plain, renderApp, renderSized, storeWith } from './harness.js';
import { clusterStatus, fakeBackend, unfinishedAdd } from './ops-harness.js';

afterEach(() => cleanup());

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/** What a terminal sends for a key of the table. */
function sequence(spec: KeySpec): string {
  if (spec.ctrl) return String.fromCharCode((spec.input ?? 'a').charCodeAt(0) - 96);
  const special: Record<string, string> = {
    upArrow: KEYS.up,
    downArrow: KEYS.down,
    leftArrow: KEYS.left,
    rightArrow: KEYS.right,
    return: KEYS.enter,
    escape: KEYS.escape,
    backspace: KEYS.backspace,
  };
  if (spec.any) return 'x';
  return spec.special ? (special[spec.special] ?? '') : (spec.input ?? '');
}

describe('the key table', () => {
  it('is what the handler matches: every listed key means its command, and nothing else does', () => {
    for (const b of KEY_BINDINGS) {
      for (const k of b.keys) {
        const key: Key = { ...NO_KEY, ...(k.special ? { [k.special]: true } : {}), ctrl: Boolean(k.ctrl) };
        expect(
          commandFor(k.special ? '' : (k.input ?? ''), key),
          `${bindingKeys(b, createTheme({ color: false, ascii: true }).glyphs)}`,
        ).toBe(b.command);
      }
    }
    expect(commandFor('x', NO_KEY)).toBeNull();
    expect(commandFor('r', { ...NO_KEY, ctrl: true })).toBeNull();
    // R (replace) and r (refresh) are different keys.
    expect(commandFor('R', { ...NO_KEY, shift: true })).toBe('replace');
  });

  it('every key of the table, typed into a terminal, reaches its command through Ink', async () => {
    const seen: (Command | null)[] = [];
    function Probe() {
      useInput((input, key) => {
        seen.push(commandFor(input, key));
      });
      return <Text>probe</Text>;
    }
    const ui = renderTest(<Probe />);
    const expected: Command[] = [];
    for (const b of KEY_BINDINGS) {
      for (const k of b.keys) {
        ui.stdin.write(sequence(k));
        expected.push(b.command);
        // A lone Escape is held back briefly; wait for each key before the next.
        await vi.waitFor(() => expect(seen).toHaveLength(expected.length));
      }
    }
    expect(seen).toEqual(expected);
  });

  it('help overlay lists exactly the table, in order', async () => {
    const ui = renderSized(app(storeWith(healthy3())), 100, 50);
    ui.stdin.write('?');
    await vi.waitFor(() => expect(ui.text()).toContain('Keys  (Esc or ? closes; read-only)'));
    const lines = ui.text().split('\n');
    const start = lines.findIndex((l) => l.startsWith('Keys'));
    const listed = lines.slice(start + 1, start + 1 + KEY_BINDINGS.length);
    const glyphs = createTheme({ color: false, ascii: false }).glyphs;
    expect(listed.map((l) => l.trim().replace(/\s{2,}/, ' | '))).toEqual(
      KEY_BINDINGS.map((b) => `${bindingKeys(b, glyphs)} | ${helpDescription(b, true)}`),
    );
    // Then a blank line and the operation screens' table.
    expect(lines[start + 1 + KEY_BINDINGS.length]).toBe('');
    expect(lines[start + 2 + KEY_BINDINGS.length]).toMatch(/^Operation screens/);
    ui.stdin.write(KEYS.escape);
    await vi.waitFor(() => expect(ui.text()).not.toContain('Keys  (Esc'));
    ui.unmount();
  });
});

describe("the operation screens' key table", () => {
  const glyphs = createTheme({ color: false, ascii: false }).glyphs;
  const screens = OPS_KEY_TABLE.flatMap((t) => (t.screen ? [t.screen] : []));

  it('every key of it, typed into a terminal, reaches its command on its screen through Ink', async () => {
    for (const screen of screens) {
      const seen: (OpsCommand | null)[] = [];
      function Probe() {
        useInput((input, key) => {
          seen.push(opsCommandFor(screen, input, key));
        });
        return <Text>probe</Text>;
      }
      const ui = renderTest(<Probe />);
      const expected: OpsCommand[] = [];
      // The screen's own keys, then the keys of every screen (Ctrl-C).
      const groups = OPS_KEY_TABLE.filter((t) => t.screen === screen || t.screen === null);
      for (const b of groups.flatMap((t) => t.bindings)) {
        for (const k of b.keys) {
          ui.stdin.write(sequence(k));
          expected.push(b.command);
          await vi.waitFor(() => expect(seen).toHaveLength(expected.length));
        }
      }
      expect(seen, screen).toEqual(expected);
      ui.unmount();
    }
    // On the typed confirmation, other keys are text (no command); y is not "run it" there.
    expect(opsCommandFor('confirm', 'y', NO_KEY)).toBeNull();
    expect(opsCommandFor('plan', 'y', NO_KEY)).toBe('run');
    // A key of one screen means nothing on another: F forces only on a refusal.
    expect(opsCommandFor('plan', 'F', NO_KEY)).toBeNull();
    expect(opsCommandFor('refused', 'F', NO_KEY)).toBe('force');
    expect(opsCommandFor('refused', 'f', NO_KEY)).toBe('back');
  });

  it('the help lists every operation screen from the table, in order, with its keys', async () => {
    for (const mode of ['write', 'read-only'] as const) {
      const ui = renderSized(app(storeWith(healthy3(), { mode }), { write: mode === 'write' }), 120, 50);
      ui.stdin.write('?');
      await vi.waitFor(() => expect(ui.text()).toContain('Operation screens'));
      const lines = ui.text().split('\n');
      const start = lines.findIndex((l) => l.startsWith('Operation screens'));
      expect(lines[start]).toBe(
        mode === 'write' ? 'Operation screens  (a / d / R)' : 'Operation screens  (a / d / R, with --write)',
      );
      const listed = lines.slice(start + 1, start + 1 + OPS_KEY_TABLE.length);
      expect(listed.map((l) => l.trim().replace(/\s{2,}/, ' | '))).toEqual(
        OPS_KEY_TABLE.map((t) => `${t.title} | ${opsScreenHints(t.screen, glyphs).join(' · ')}`),
      );
      // What an operator most needs to find there.
      const help = listed.join('\n');
      expect(help).toMatch(/zone picker\s+↑\/k previous · ↓\/j next · Enter plan · Esc cancel/);
      expect(help).toMatch(/type the name\s+Backspace erase · Enter confirm · Esc cancel/);
      expect(help).toMatch(/refused plan\s+F force: replace or reset a healthy replica · any key back/);
      expect(help).toMatch(
        /lighter step first\s+Enter\/y plan it \(start or reset\) · R replace it instead · Esc cancel/,
      );
      expect(help).toMatch(/running\s+Esc cancel \(rolls back what was done\): asks y\/N first/);
      expect(help).toMatch(/cancel\? y\/N\s+y cancel and roll back · any key keep it running/);
      expect(help).toMatch(
        /unfinished op\s+U resume \(then type the op id\) · B roll back \(then type the op id\) · Esc leave it for now/,
      );
      expect(help).toMatch(/type the op id\s+Backspace erase · Enter confirm · Esc back/);
      expect(help).toMatch(/every screen\s+Ctrl-C quit/);
      expect(lines[start + 1 + OPS_KEY_TABLE.length]).toMatch(/help .*quit/);
      ui.unmount();
    }
  });

  it('the operations controller takes its keys from the table: rebinding one there rebinds it on the screen', async () => {
    const store = storeWith(clusterStatus(), { mode: 'write' });
    const backend = fakeBackend();
    const c = createOpsController({ store, write: true, open: async () => backend });
    const zoneDown = OPS_KEY_TABLE.find((t) => t.screen === 'zone')!.bindings.find(
      (b) => b.command === 'zone-down',
    )!;
    const resume = OPS_KEY_TABLE.find((t) => t.screen === 'unfinished')!.bindings.find(
      (b) => b.command === 'resume',
    )!;
    const saved = [zoneDown.keys, resume.keys];
    const index = () => {
      const p = c.ops.getState().phase;
      return p.kind === 'zone' ? p.index : -1;
    };
    try {
      c.start('add');
      await c.settled();
      expect(opsScreenOf(c.ops.getState().phase)).toBe<OpsScreen>('zone');
      const at = index();
      c.handleKey('j', NO_KEY);
      expect(index()).not.toBe(at);
      Object.assign(zoneDown, { keys: [{ input: 'n' }] });
      const now = index();
      c.handleKey('j', NO_KEY);
      expect(index()).toBe(now);
      c.handleKey('n', NO_KEY);
      expect(index()).not.toBe(now);
      c.handleKey('', { ...NO_KEY, escape: true });
      expect(c.ops.getState().phase.kind).toBe('idle');

      Object.assign(resume, { keys: [{ input: 'R' }] });
      const j = unfinishedAdd();
      c.offerUnfinished(j);
      expect(opsScreenOf(c.ops.getState().phase)).toBe<OpsScreen>('unfinished');
      c.handleKey('r', NO_KEY);
      expect(opsScreenOf(c.ops.getState().phase)).toBe<OpsScreen>('unfinished');
      c.handleKey('R', { ...NO_KEY, shift: true });
      // The rebound key opens the typed confirmation; the id typed runs it.
      expect(opsScreenOf(c.ops.getState().phase)).toBe<OpsScreen>('recover');
      for (const ch of j.operationId) c.handleKey(ch, NO_KEY);
      // Every key handled (the id is typed) and nothing left in flight: nothing ran without Enter.
      expect(c.ops.getState().phase).toMatchObject({ typed: j.operationId });
      await c.settled();
      expect(backend.executions).toHaveLength(0);
      c.handleKey('', { ...NO_KEY, return: true });
      await vi.waitFor(() => expect(backend.executions.map((e) => e.kind)).toEqual(['resume']));
    } finally {
      Object.assign(zoneDown, { keys: saved[0] });
      Object.assign(resume, { keys: saved[1] });
    }
  });
});

describe('keys on the dashboard', () => {
  it('moves between replicas with h/j/k/l and the arrows', async () => {
    const ui = renderApp(storeWith(healthy3()));
    expect(ui.text()).toContain(`▸ ${NAMES.a}`);
    const press = async (seq: string, name: string) => {
      ui.stdin.write(seq);
      await vi.waitFor(() => expect(ui.text()).toContain(`▸ ${name}`));
    };
    await press('l', NAMES.b);
    await press(KEYS.right, NAMES.c);
    await press('h', NAMES.b);
    await press(KEYS.left, NAMES.a);
    await press('j', NAMES.b);
    await press(KEYS.down, NAMES.c);
    await press('k', NAMES.b);
    await press(KEYS.up, NAMES.a);
  });

  it('Enter shows every field of the selected replica, with member IDs in hex; Esc goes back', async () => {
    const status = degraded();
    const ui = renderApp(storeWith(status));
    ui.stdin.write('l');
    await vi.waitFor(() => expect(ui.text()).toContain(`▸ ${NAMES.b}`));
    ui.stdin.write(KEYS.enter);
    const b = status.replicas[1];
    await vi.waitFor(() => expect(ui.text()).toContain(`member ${b?.etcd.main?.memberId}`));
    const text = ui.text();
    expect(b?.etcd.main?.memberId).toMatch(/^[0-9a-f]{16}$/);
    expect(text).toContain(`main   member ${b?.etcd.main?.memberId} (etcd-${NAMES.b})`);
    expect(text).toContain(`events member ${b?.etcd.events?.memberId} (etcd-${NAMES.b})`);
    expect(text).toContain('★ leader · healthy · voter');
    expect(text).toContain(`peer URLs   https://${NAMES.b}:2380`);
    expect(text).toContain('client URLs https://10.128.0.3:2379');
    expect(text).toContain('raft term 5 · index 18343 · applied 18343');
    expect(text).toContain('DB size 2.1 MB · version 3.4.23');
    expect(text).toContain('zone us-central1-b · VM RUNNING · in target pool');
    expect(text).toContain('internal IP 10.128.0.3 · external IP 34.66.10.11');
    ui.stdin.write(KEYS.escape);
    await vi.waitFor(() => expect(ui.text()).toContain('us-central1-a (1)'));
    expect(ui.text()).not.toContain('peer URLs');
  });

  it('/ filters replicas by name; Enter keeps the filter, Esc clears it', async () => {
    const ui = renderApp(storeWith(healthy3()));
    ui.stdin.write('/');
    await vi.waitFor(() => expect(ui.text()).toContain('Enter keep'));
    for (const ch of 'x7') ui.stdin.write(ch);
    ui.stdin.write('k');
    await vi.waitFor(() => expect(ui.text()).toMatch(/^\/x7k▏ +1\/3 shown/m));
    expect(ui.text()).not.toContain(NAMES.c);
    expect(ui.text()).toContain(`▸ ${NAMES.b}`);
    ui.stdin.write(KEYS.enter);
    await vi.waitFor(() => expect(ui.text()).toContain('filter "x7k" 1/3'));
    // Keys are commands again once the prompt is closed.
    ui.stdin.write('?');
    await vi.waitFor(() => expect(ui.text()).toContain('Keys  (Esc'));
    ui.stdin.write(KEYS.escape);
    await vi.waitFor(() => expect(ui.text()).not.toContain('Keys  (Esc'));
    expect(ui.text()).toContain('filter "x7k" 1/3');
    ui.stdin.write(KEYS.escape);
    await vi.waitFor(() => expect(ui.text()).toContain(NAMES.c));
    expect(ui.text()).not.toContain('filter "');
  });

  it('p pauses updates visibly and holds the screen; p again resumes', async () => {
    const store = storeWith(healthy3());
    const ui = renderApp(store);
    ui.stdin.write('p');
    await vi.waitFor(() =>
      expect(ui.text().split('\n')[0]).toMatch(/ PAUSED {2}at \d\d:\d\d:\d\d READ-ONLY$/),
    );
    expect(ui.text()).toContain('p resume');
    const held = store.getState().status;
    store.getState().applyStatus(degraded());
    expect(store.getState().status).toBe(held);
    // A message set after it is drawn: the screen has caught up, and still shows the held status.
    store.getState().setMessage('after the poll');
    await vi.waitFor(() => expect(ui.text()).toContain('after the poll'));
    expect(ui.text()).not.toContain('unreachable');
    ui.stdin.write('p');
    await vi.waitFor(() => expect(ui.text()).not.toContain('PAUSED'));
    store.getState().applyStatus(degraded());
    await vi.waitFor(() => expect(ui.text()).toContain('main   unreachable'));
  });

  it('r asks the pollers to refresh now', async () => {
    const refresh = vi.fn();
    const ui = renderApp(storeWith(healthy3()), { refresh });
    ui.stdin.write('r');
    await vi.waitFor(() => expect(ui.text()).toContain('refreshing every source now'));
    expect(refresh).toHaveBeenCalledTimes(1);
  });
});

describe('action keys', () => {
  it('read-only (default): a, d, R explain that --write enables them and call nothing', async () => {
    const onAction = vi.fn();
    const ui = renderApp(storeWith(healthy3()), { onAction });
    expect(ui.text()).toContain('a/d/R/D/V need --write');
    for (const [key, what] of [
      ['a', 'add a replica'],
      ['d', 'delete the selected replica'],
      ['R', 'replace the selected replica'],
    ] as const) {
      ui.stdin.write(key);
      await vi.waitFor(() =>
        expect(ui.text()).toContain(`${what}: read-only mode; start kube-ha with --write to enable it`),
      );
    }
    expect(onAction).not.toHaveBeenCalled();
  });

  it('--write without the operator flows: says they are not wired yet', async () => {
    const ui = renderApp(storeWith(healthy3(), { mode: 'write' }), { write: true });
    expect(ui.text().split('\n')[0]).toMatch(/WRITE$/);
    expect(ui.text()).toContain('a add');
    ui.stdin.write('d');
    await vi.waitFor(() => expect(ui.text()).toContain('delete the selected replica: not available yet'));
  });

  it('--write with the operator flows: calls onAction with the selected replica', async () => {
    const onAction = vi.fn();
    const ui = renderApp(storeWith(healthy3(), { mode: 'write' }), { write: true, onAction });
    ui.stdin.write('l');
    await vi.waitFor(() => expect(ui.text()).toContain(`▸ ${NAMES.b}`));
    ui.stdin.write('d');
    ui.stdin.write('R');
    ui.stdin.write('a');
    await vi.waitFor(() => expect(onAction).toHaveBeenCalledTimes(3));
    expect(onAction.mock.calls).toEqual([
      ['delete', NAMES.b],
      ['replace', NAMES.b],
      ['add', NAMES.b],
    ]);
  });
});

describe('export', () => {
  it('e writes a Markdown and a JSON incident log to the state dir and says where', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kube-ha-export-'));
    try {
      const store = storeWith(degraded());
      const ui = renderApp(store, { stateDir: dir });
      ui.stdin.write('e');
      await vi.waitFor(() => expect(ui.text()).toContain('incident log written:'));
      const event = store.getState().timeline.find((e) => e.message.startsWith('incident log exported to'));
      const [, md, json] = event?.message.match(/exported to (\S+\.md) and (\S+\.json)$/) ?? [];
      expect(md?.startsWith(dir)).toBe(true);
      expect(ui.text()).toContain(`${md?.split('/').pop()} and .json`);
      const markdown = await readFile(md as string, 'utf8');
      expect(markdown).toContain('# kube-ha incident log');
      expect(markdown).toContain(
        '- etcd main: 2/3 healthy, quorum 2, tolerates no failure, leader kubernetes-master-x7k',
      );
      expect(markdown).toMatch(
        /\| kubernetes-master \| us-central1-a \| RUNNING \| .* \| unreachable, id [0-9a-f]+, error: connection refused \|/,
      );
      expect(markdown).toContain('- **error** UNHEALTHY_MEMBER');
      expect(markdown).toMatch(/## Timeline\n\n- \d{4}-\d\d-\d\dT.* \[info\] observed: first observation/);
      const parsed = JSON.parse(await readFile(json as string, 'utf8'));
      expect(parsed.status.replicas).toHaveLength(3);
      expect(parsed.timeline.length).toBeGreaterThanOrEqual(4);
      expect(parsed.timeline[0].at).toMatch(/^\d{4}-\d\d-\d\dT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('quitting and redrawing', () => {
  for (const [name, seq] of [
    ['q', 'q'],
    ['Ctrl-C', KEYS.ctrlC],
  ] as const) {
    it(`${name} exits the app`, async () => {
      const ui = renderSized(app(storeWith(healthy3())), 80, 24);
      const exited = vi.fn();
      ui.waitUntilExit().then(exited);
      ui.stdin.write(seq);
      await vi.waitFor(() => expect(exited).toHaveBeenCalled());
    });
  }

  it('an unchanged poll draws no new frame; a changed one does', async () => {
    const store = storeWith(healthy3());
    const ui = renderSized(app(store), 100, 30);
    const frames = ui.stdout.frames.length;
    store.getState().applyStatus({ ...healthy3(), observedAt: new Date().toISOString() });
    store.getState().setFilter('');
    // A render those updates scheduled runs before one scheduled after them: a message set
    // now is drawn, and every frame since shows it (the unchanged poll drew none of its own).
    await new Promise((r) => setImmediate(r));
    store.getState().setMessage('after the poll');
    await vi.waitFor(() => expect(plain(ui.stdout.lastFrame())).toContain('after the poll'));
    expect(ui.stdout.frames.slice(frames).filter((f) => !plain(f).includes('after the poll'))).toEqual([]);
    const framesBefore = ui.stdout.frames.length;
    store.getState().applyStatus(degraded());
    await vi.waitFor(() => expect(ui.stdout.frames.length).toBeGreaterThan(framesBefore));
    ui.unmount();
  });
});
