// The console's operator flows (a / d / R with --write) against a fake
// backend: zone picker, plan screen, typed confirmation, the running
// operation's steps / catch-up / call log, Esc asking before it cancels
// through the AbortSignal, the outcome, and an unfinished operation found at
// start, resumed or rolled back only on its typed operation id.

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PlanStep } from '../../src/domain/ops/plan.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { createConsoleStore } from '../../src/store/index.js';
import { createOpsController, type OpsController, opsScreenOf } from '../../src/ui/ops/index.js';
import { crashed } from '../ops/fixtures.js';
import { app, KEYS, renderSized } from './harness.js';
import { clusterStatus, type FakeBackend, fakeBackend, unfinishedAdd } from './ops-harness.js';

let mounted: { unmount(): void }[] = [];
afterEach(() => {
  for (const m of mounted) m.unmount();
  mounted = [];
});

function setup(write = true, status: ClusterStatus = clusterStatus()) {
  const store = createConsoleStore({ mode: write ? 'write' : 'read-only' });
  store.getState().applyStatus(status);
  const backend = fakeBackend(status);
  const open = vi.fn(async () => backend);
  const refresh = vi.fn();
  const controller = createOpsController({ store, write, open, refresh });
  const ui = renderSized(app(store, { write, ops: controller, clock: Date.now }), 120, 60);
  mounted.push(ui);
  const press = (k: string) => ui.stdin.write(k);
  const see = (text: string | RegExp) =>
    vi.waitFor(() => {
      const s = ui.text();
      if (typeof text === 'string' ? !s.includes(text) : !text.test(s))
        throw new Error(`not on screen: ${text}\n${s}`);
    });
  /**
   * Every key pressed so far handled, and the work it started settled: Ink
   * reads a lone Escape on the next turn of the event loop (it may begin a
   * sequence), and the controller's work (a plan asked of the backend, not a
   * running operation) is awaited. Before a key that follows a redraw, and
   * before a check that a key did nothing: a wait on the state, not the clock.
   */
  const handled = async () => {
    await new Promise((r) => setImmediate(r));
    if (!['running', 'cancel-run'].includes(opsScreenOf(controller.ops.getState().phase) ?? ''))
      await controller.settled();
  };
  return { store, backend, open, refresh, controller, ui, press, see, handled };
}

function typeText(press: (k: string) => void, text: string) {
  for (const ch of text) press(ch);
}

const step = (b: FakeBackend, i: number): PlanStep => b.executions[0]!.plan.steps[i]!;

describe('a: add a replica', () => {
  it('picks the zone with the fewest replicas, shows the plan, and runs it on Enter', async () => {
    const { backend, press, see, ui, refresh, handled } = setup();
    press('a');
    await see('choose its zone');
    // us-central1-f has no replica: preselected.
    expect(ui.text()).toMatch(/▸ us-central1-f\s+0 replicas\s+\(fewest\)/);
    press(KEYS.up);
    await see(/▸ us-central1-c/);
    press(KEYS.down);
    await see(/▸ us-central1-f/);
    press(KEYS.enter);
    await see('Plan: add kubernetes-master-aaa in us-central1-f');
    expect(backend.requests).toEqual([{ kind: 'add', zone: 'us-central1-f', name: null }]);
    const plan = ui.text();
    expect(plan).toMatch(/✔ zone-in-region\s+us-central1-f is in us-central1/);
    expect(plan).toContain('Quorum before → after:');
    expect(plan).toContain(
      'etcd main: voters 3 → 4 · healthy 3 → 4 · quorum 2 → 3 · tolerates 1 → 1 failure',
    );
    expect(plan).toMatch(/▲ the result has 4 voters: an even count/);
    expect(plan).toContain('Create VM kubernetes-master-aaa in us-central1-f');
    // Adding destroys nothing: no name to type.
    expect(plan).toContain('Enter/y run it');
    expect(plan).not.toContain('to confirm');
    expect(backend.executions).toHaveLength(0);

    press(KEYS.enter);
    await vi.waitFor(() => expect(backend.executions).toHaveLength(1));
    const ex = backend.executions[0]!;
    expect(ex.kind).toBe('execute');
    expect(ex.plan.summary).toMatch(/^add kubernetes-master-aaa in us-central1-f/);
    await see('Running: add kubernetes-master-aaa');
    expect(ui.text()).toContain('Esc cancel (rolls back what was done): asks y/N first');

    const at = Date.now();
    const on = ex.opts.onEvent!;
    on({ type: 'operation-start', operationId: 'op-test', summary: ex.plan.summary, mode: 'run', at });
    on({ type: 'step-start', step: step(backend, 1), index: 1, mode: 'forward', at });
    on({ type: 'call', line: 'gcloud compute disks create kubernetes-master-aaa-pd', at });
    on({
      type: 'step-end',
      step: step(backend, 1),
      index: 1,
      mode: 'forward',
      status: 'done',
      elapsedMs: 420,
      at,
    });
    on({ type: 'step-start', step: step(backend, 5), index: 5, mode: 'forward', at });
    on({ type: 'call', line: 'etcdctl endpoint status --endpoints https://127.20.1.5:2379', at });
    on({
      type: 'progress',
      stepId: step(backend, 5).id,
      current: 500,
      target: 1000,
      message: 'catching up',
      at,
    });
    await see('applied 500 / leader 1000');
    const running = ui.text();
    expect(running).toMatch(/✔\s+2\. Create disk kubernetes-master-aaa-pd in us-central1-f\s+done 0\.4 s/);
    expect(running).toMatch(/▶\s+6\. Wait for kubernetes-master-aaa to catch up in etcd main\s+running/);
    expect(running).toMatch(/·\s+7\. Wait for kubernetes-master-aaa to catch up in etcd events\s+pending/);
    // Half caught up: half the bar.
    expect(running).toMatch(/\[(█+)(░+)\] applied 500/);
    const [, on_, off] = /\[(█+)(░+)\]/.exec(running)!;
    expect(on_!.length).toBe(off!.length);
    expect(running).toContain('$ gcloud compute disks create kubernetes-master-aaa-pd');
    expect(running).toContain('$ etcdctl endpoint status --endpoints https://127.20.1.5:2379');
    expect(running).toContain('Calls (2, newest last)');
    // The dashboard's key hints are not offered while the operation screen is up.
    expect(running).not.toContain('a add');
    expect(running).toContain('Ctrl-C quit');

    // Keys do not leak to the dashboard while it runs (a second `a` does nothing):
    // q, pressed after it, is answered, so the `a` was read before.
    press('a');
    press('q');
    await see('an operation is running: Esc asks to cancel it');
    await handled();
    expect(backend.requests).toHaveLength(1);

    on({
      type: 'step-end',
      step: step(backend, 5),
      index: 5,
      mode: 'forward',
      status: 'done',
      elapsedMs: 3100,
      at,
    });
    ex.finish({ outcome: 'done' });
    await see('done: add kubernetes-master-aaa');
    expect(ui.text()).toContain('any key back to the dashboard');
    expect(ui.text()).not.toContain('applied 500');
    expect(refresh).toHaveBeenCalled();
    press('x');
    await see('VM RUNNING');
    expect(ui.text()).not.toContain('any key back');
  });

  it('Esc in the zone picker cancels without planning', async () => {
    const { backend, press, see, ui, store } = setup();
    press('a');
    await see('choose its zone');
    press(KEYS.escape);
    await see('VM RUNNING');
    expect(ui.text()).not.toContain('choose its zone');
    expect(backend.requests).toEqual([]);
    expect(store.getState().message?.text).toMatch(/cancelled, nothing was changed/);
  });

  it('Esc while running only asks "cancel and roll back? y/N": Esc, n or Enter keep it running, y cancels through the AbortSignal', async () => {
    const { backend, press, see, ui, store, handled } = setup();
    press('a');
    await see('choose its zone');
    press(KEYS.enter);
    await see('Plan: add');
    press('y');
    await vi.waitFor(() => expect(backend.executions).toHaveLength(1));
    const ex = backend.executions[0]!;
    expect(ex.opts.signal?.aborted).toBe(false);
    await see('Esc cancel (rolls back what was done): asks y/N first');
    // Esc is "back" everywhere else: here it asks, and a second Esc answers no.
    for (const answer of [KEYS.escape, 'n', KEYS.enter, 'Y']) {
      await handled();
      press(KEYS.escape);
      await see('cancel and roll back what was done? y/N (y cancel and roll back · any key keep it running)');
      expect(ex.opts.signal?.aborted).toBe(false);
      await handled();
      press(answer);
      await see('Esc cancel (rolls back what was done): asks y/N first');
      await handled();
      expect(ex.opts.signal?.aborted).toBe(false);
      expect(store.getState().message?.text).toBe('not cancelled: the operation keeps running');
      expect(ui.text()).toContain('Running: add');
    }
    await handled();
    press(KEYS.escape);
    await see('cancel and roll back what was done? y/N');
    press('y');
    await vi.waitFor(() => expect(ex.opts.signal?.aborted).toBe(true));
    await see('cancelling: rolling back after the current step');
    expect(ui.text()).not.toContain('y/N');
    // Once cancelling, Esc asks nothing more (checked on the next step's redraw, after it).
    press(KEYS.escape);
    await handled();
    const at = Date.now();
    ex.opts.onEvent!({ type: 'step-start', step: step(backend, 1), index: 1, mode: 'undo', at });
    ex.opts.onEvent!({
      type: 'step-end',
      step: step(backend, 1),
      index: 1,
      mode: 'undo',
      status: 'undone',
      elapsedMs: 200,
      at,
    });
    await see(/↶\s+2\. Create disk \S+ in \S+\s+undone 0\.2 s/);
    expect(ui.text()).not.toContain('y/N');
    ex.finish({
      outcome: 'rolled-back',
      exitCode: 4,
      cancelled: true,
      reasons: ['cancelled by the operator'],
    });
    await see('cancelled and rolled back');
    expect(ui.text()).toContain('cancelled by the operator');
  });

  it('an operation that ends while "cancel?" is up shows its outcome; the pending question is dropped', async () => {
    const { backend, press, see, ui, handled } = setup();
    press('a');
    await see('choose its zone');
    press(KEYS.enter);
    await see('Plan: add');
    press('y');
    await vi.waitFor(() => expect(backend.executions).toHaveLength(1));
    const ex = backend.executions[0]!;
    await handled();
    press(KEYS.escape);
    await see('cancel and roll back what was done? y/N');
    ex.finish({ outcome: 'done' });
    await see('done: add kubernetes-master-aaa');
    expect(ui.text()).not.toContain('y/N');
    expect(ex.opts.signal?.aborted).toBe(false);
  });
});

describe('d / R: removal and replacement need the replica typed', () => {
  it('d shows the plan, rejects a wrong name, and runs only on the exact name', async () => {
    const { backend, press, see, ui, handled } = setup();
    press('j');
    await handled();
    press('d');
    await see('type kubernetes-master-x7k to confirm, or Esc to cancel');
    expect(backend.requests).toEqual([{ kind: 'remove', replica: 'kubernetes-master-x7k', zone: null }]);
    expect(ui.text()).toContain('etcd main: voters 3 → 2');
    // The long form when the line has room, as the CLI prints it.
    expect(ui.text()).toContain('[point of no return: a failure from here on finishes the removal]');
    // y and Enter alone do not confirm a removal.
    press('y');
    await see(/to confirm, or Esc to cancel: y/);
    press(KEYS.backspace);
    await see(/to confirm, or Esc to cancel: ▏/);
    press(KEYS.enter);
    await see("'' is not kubernetes-master-x7k: not confirmed");
    typeText(press, 'kubernetes-master');
    press(KEYS.enter);
    await see("'kubernetes-master' is not kubernetes-master-x7k: not confirmed");
    await handled();
    expect(backend.executions).toHaveLength(0);
    typeText(press, 'kubernetes-master-x7k');
    press(KEYS.enter);
    await vi.waitFor(() => expect(backend.executions).toHaveLength(1));
    expect(backend.executions[0]!.plan.remove?.name).toBe('kubernetes-master-x7k');
    await see('Running: remove kubernetes-master-x7k');
  });

  it('R on a healthy replica shows the refusal, and any key goes back having changed nothing', async () => {
    const { backend, press, see, ui, handled } = setup();
    press('R');
    await see('Refused, nothing was changed:');
    expect(ui.text()).toMatch(/✖ replace-only-unhealthy: kubernetes-master is healthy/);
    expect(ui.text()).not.toContain('to confirm');
    expect(ui.text()).toContain(
      'F force: replace or reset a healthy replica (its name is still typed) · any key back',
    );
    press(KEYS.enter);
    await see('VM RUNNING');
    await handled();
    expect(backend.requests).toHaveLength(1);
    expect(backend.executions).toHaveLength(0);
  });

  it('F on that refusal plans the replace forced; the name must still be typed to run it', async () => {
    const { backend, press, see, ui, handled } = setup();
    press('R');
    await see('Refused, nothing was changed:');
    expect(backend.requests).toEqual([
      { kind: 'replace', replica: 'kubernetes-master', zone: null, force: false },
    ]);
    press('F');
    await see('type kubernetes-master to confirm, or Esc to cancel');
    // Re-planned with force, by the same planner: the check passes and the plan says it is forced.
    expect(backend.requests[1]).toEqual({
      kind: 'replace',
      replica: 'kubernetes-master',
      zone: null,
      force: true,
    });
    const plan = ui.text();
    expect(plan).toMatch(/Plan: replace kubernetes-master with kubernetes-master-\w+ in us-central1-a/);
    expect(plan).toMatch(/✔ replace-only-unhealthy\s+kubernetes-master is healthy, replaced anyway/);
    expect(plan).toMatch(/▲ .*healthy/);
    expect(plan).not.toContain('Refused');
    // Enter or y alone does not run it: the name is typed, as for any replace.
    press('y');
    await see(/to confirm, or Esc to cancel: y/);
    press(KEYS.enter);
    await see("'y' is not kubernetes-master: not confirmed");
    await handled();
    expect(backend.executions).toHaveLength(0);
    typeText(press, 'kubernetes-master');
    await see(/to confirm, or Esc to cancel: kubernetes-master▏/);
    press(KEYS.enter);
    await vi.waitFor(() => expect(backend.executions).toHaveLength(1));
    const ex = backend.executions[0]!;
    expect(ex.plan.request).toMatchObject({ kind: 'replace', force: true });
    expect(ex.plan.remove?.name).toBe('kubernetes-master');
    await see('Running: replace kubernetes-master');
  });

  it('F on a refusal force cannot lift (quorum) only goes back, like any key', async () => {
    // Another replica down: replacing a healthy one would leave too few healthy voters, forced or not.
    const { backend, press, see, ui, handled } = setup(true, crashed(3, 2));
    press('R');
    await see('Refused, nothing was changed:');
    expect(ui.text()).toMatch(/✖ replace-only-unhealthy: kubernetes-master is healthy/);
    expect(ui.text()).toMatch(/✖ removal-keeps-quorum/);
    expect(ui.text()).not.toContain('F force');
    press('F');
    await see('VM RUNNING');
    await handled();
    expect(backend.requests).toHaveLength(1);
    expect(backend.executions).toHaveLength(0);
  });
});

describe('an unfinished operation at start', () => {
  it('with --write: B shows the rollback steps and needs the operation id typed; wrong text or Esc changes nothing', async () => {
    const { backend, controller, press, see, ui, handled } = setup();
    const j = unfinishedAdd();
    controller.offerUnfinished(j);
    await see('An operation did not finish: add kubernetes-master-aaa');
    expect(ui.text()).toMatch(/✔\s+1\. Save a snapshot of etcd main/);
    expect(ui.text()).toMatch(/✔\s+2\. Create disk kubernetes-master-aaa-pd/);
    expect(ui.text()).toMatch(/·\s+3\. Add kubernetes-master-aaa to etcd main as a learner/);
    expect(ui.text()).toContain('U resume (then type the op id): resume: ');
    expect(ui.text()).toContain('B roll back (then type the op id): undo every step taken');
    // r is the dashboard's refresh and b is not B: neither does anything here.
    press('r');
    press('b');
    await handled();
    expect(backend.executions).toEqual([]);
    expect(ui.text()).toContain('An operation did not finish');

    press('B');
    await see(`type ${j.operationId} to roll back, or Esc to go back: ▏`);
    // What it will do, before it does it: the journal's rollback, step by step.
    const shown = ui.text();
    expect(shown).toContain(`Roll back: ${j.plan.summary}   [operation ${j.operationId}, failed]`);
    expect(shown).toContain('undo every step taken, newest first');
    expect(shown).toContain('Undoes (2), in this order:');
    expect(shown).toMatch(/ 2\. undo: .*\n\s+1\. undo: /);
    expect(shown).not.toContain('Runs forward');
    expect(backend.executions).toEqual([]);
    // Enter alone, then a wrong id: refused, nothing runs.
    press(KEYS.enter);
    await see(`'' is not ${j.operationId}: not confirmed`);
    typeText(press, 'kubernetes-master-aaa');
    press(KEYS.enter);
    await see(`'kubernetes-master-aaa' is not ${j.operationId}: not confirmed`);
    await handled();
    expect(backend.executions).toEqual([]);
    // Esc goes back to the choice, not to the dashboard.
    press(KEYS.escape);
    await see('An operation did not finish');
    expect(ui.text()).not.toContain('to roll back, or Esc');
    await handled();
    expect(backend.executions).toEqual([]);

    press('B');
    await see(`type ${j.operationId} to roll back`);
    typeText(press, j.operationId);
    await see(`to roll back, or Esc to go back: ${j.operationId}▏`);
    press(KEYS.enter);
    await vi.waitFor(() => expect(backend.executions.map((e) => e.kind)).toEqual(['rollback']));
    await see('Rolling back: add kubernetes-master-aaa');
    // Steps start as the journal recorded them.
    expect(ui.text()).toMatch(/✔\s+2\. Create disk/);
  });

  it('with --write: U shows the steps left and resumes only on the typed operation id; r never resumes', async () => {
    const { backend, controller, press, see, ui, handled } = setup();
    const j = unfinishedAdd();
    controller.offerUnfinished(j);
    await see('An operation did not finish');
    press('r');
    await handled();
    press('U');
    await see(`type ${j.operationId} to resume, or Esc to go back: ▏`);
    const shown = ui.text();
    expect(shown).toContain(`Resume: ${j.plan.summary}   [operation ${j.operationId}, failed]`);
    const left = j.plan.steps.length - 2;
    expect(shown).toContain(`Runs forward (${left}), in order:`);
    expect(shown).toMatch(
      new RegExp(`\\s3\\. ${j.plan.steps[2]!.title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
    expect(shown).not.toContain('Undoes');
    // r (the refresh), y and Enter are not an answer: they are typed, and refused.
    press('r');
    await see(/to resume, or Esc to go back: r▏/);
    press(KEYS.enter);
    await see(`'r' is not ${j.operationId}: not confirmed`);
    press('y');
    press(KEYS.enter);
    await see(`'y' is not ${j.operationId}: not confirmed`);
    await handled();
    expect(backend.executions).toEqual([]);
    // Backspace edits what was typed.
    typeText(press, `${j.operationId}x`);
    press(KEYS.backspace);
    await see(`to resume, or Esc to go back: ${j.operationId}▏`);
    press(KEYS.enter);
    await vi.waitFor(() => expect(backend.executions.map((e) => e.kind)).toEqual(['resume']));
    expect(backend.executions[0]!.plan.operationId).toBe(j.operationId);
    await see('Resuming: add kubernetes-master-aaa');
  });

  it('with --write: Esc leaves it and r is the dashboard refresh again', async () => {
    const { backend, controller, press, see, store, handled } = setup();
    controller.offerUnfinished(unfinishedAdd());
    await see('An operation did not finish');
    press(KEYS.escape);
    await see('VM RUNNING');
    expect(store.getState().message?.text).toMatch(/left unfinished: kube-ha operation resume \| rollback/);
    press('r');
    await handled();
    expect(backend.executions).toHaveLength(0);
  });
});

describe('read-only mode removes every mutating action', () => {
  it('a, d, R and the unfinished-operation choices do nothing without --write', async () => {
    const { backend, open, controller, press, see, ui, store, handled } = setup(false);
    controller.offerUnfinished(unfinishedAdd());
    await see(
      /▲ unfinished operation \(failed\): kube-ha operation resume\|rollback or --write handles it · add kubernetes-master-aaa/,
    );
    expect(ui.text()).not.toContain('An operation did not finish');
    for (const k of ['a', 'd', 'R', 'r', 'b', 'U', 'B', KEYS.enter, 'y']) {
      press(k);
      await handled();
      if (k === KEYS.enter) press(KEYS.escape);
    }
    await handled();
    expect(open).not.toHaveBeenCalled();
    expect(backend.requests).toEqual([]);
    expect(backend.executions).toEqual([]);
    expect(controller.ops.getState().phase.kind).toBe('idle');
    // The action keys explain read-only mode instead.
    press('a');
    await vi.waitFor(() => expect(store.getState().message?.text).toMatch(/read-only mode/));
    // Even called directly, the controller refuses.
    controller.start('add');
    controller.start('delete', 'kubernetes-master');
    await handled();
    expect(open).not.toHaveBeenCalled();
  });
});

describe('the controller on its own', () => {
  it('opens the backend once, lazily, and closes it', async () => {
    const store = createConsoleStore({ mode: 'write' });
    store.getState().applyStatus(clusterStatus());
    const backend = fakeBackend();
    const open = vi.fn(async () => backend);
    const c: OpsController = createOpsController({ store, write: true, open });
    expect(open).not.toHaveBeenCalled();
    c.start('delete', 'kubernetes-master');
    await c.settled();
    expect(c.ops.getState().phase.kind).toBe('plan');
    c.ops.getState().setPhase({ kind: 'idle' });
    c.start('add');
    await c.settled();
    expect(c.ops.getState().phase.kind).toBe('zone');
    expect(open).toHaveBeenCalledTimes(1);
    await c.close();
    expect(backend.closed).toBe(1);
  });
});
