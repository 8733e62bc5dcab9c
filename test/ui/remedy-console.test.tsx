// The console's R as a remediation ladder (issue 16 item 1): on a TERMINATED
// replica it offers start first, on a hung one reset, each through the same
// plan and confirmation screens, with replace as the further option; and a
// card says how long its replica has been unhealthy, from the first look.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClusterStatus } from '../../src/domain/types.js';
import { createConsoleStore } from '../../src/store/index.js';
import { NONE_UNHEALTHY, trackUnhealthy } from '../../src/store/unhealthy.js';
import { createOpsController } from '../../src/ui/ops/index.js';
import { crashed, status, vmStopped } from '../ops/fixtures.js';
import { app, KEYS, renderSized } from './harness.js';
import { fakeBackend } from './ops-harness.js';

let mounted: { unmount(): void }[] = [];
afterEach(() => {
  for (const m of mounted) m.unmount();
  mounted = [];
});

function setup(s: ClusterStatus, select: string, clock: () => number = Date.now) {
  const store = createConsoleStore({ mode: 'write', now: clock });
  store.getState().applyStatus(s);
  store.getState().select(select);
  const backend = fakeBackend(s);
  const controller = createOpsController({ store, write: true, open: async () => backend });
  const ui = renderSized(app(store, { write: true, ops: controller, clock }), 120, 60);
  mounted.push(ui);
  const see = (text: string | RegExp) =>
    vi.waitFor(() => {
      const t = ui.text();
      if (typeof text === 'string' ? !t.includes(text) : !text.test(t))
        throw new Error(`not on screen: ${text}\n${t}`);
    });
  return { store, backend, ui, see, press: (k: string) => ui.stdin.write(k) };
}

const Q2P = 'kubernetes-master-q2p';

describe('R: the lighter step first', () => {
  it('on a TERMINATED replica: start is offered first and planned with y; nothing runs before the plan', async () => {
    const { backend, see, press, ui } = setup(vmStopped(3, 'TERMINATED', 2), Q2P);
    await see(`▸ ${Q2P}`);
    press('R');
    await see(`Repair ${Q2P}: its VM is TERMINATED`);
    expect(ui.text()).toMatch(/start: start its VM \(instances\.start\)/);
    expect(ui.text()).toContain('Enter/y plan it (start or reset) · R replace it instead · Esc cancel');
    expect(backend.requests).toEqual([]);
    press('y');
    await see(`Plan: start ${Q2P} in us-central1-c`);
    expect(backend.requests).toEqual([{ kind: 'start', replica: Q2P, force: false }]);
    expect(ui.text()).toContain(`Start VM ${Q2P}`);
    // Starting destroys nothing: y runs it, as an add.
    press('y');
    await vi.waitFor(() => expect(backend.executions).toHaveLength(1));
    expect(backend.executions[0]!.plan.kind).toBe('start');
  });

  it('on a hung replica: reset is offered; R goes on to the replace instead', async () => {
    const { backend, see, press } = setup(crashed(3, 2), Q2P);
    await see(`▸ ${Q2P}`);
    press('R');
    await see(`Repair ${Q2P}: its VM is RUNNING but etcd main`);
    await see('reset: reset its VM (instances.reset)');
    press('R');
    await see(`Plan: replace ${Q2P} with`);
    expect(backend.requests).toEqual([{ kind: 'replace', replica: Q2P, zone: null, force: false }]);
    press(KEYS.escape);
    await see('cancelled, nothing was changed');
  });

  it('on a healthy replica: straight to the replace (refused, as before)', async () => {
    const { backend, see, press } = setup(status(3), 'kubernetes-master');
    press('R');
    await see('Refused, nothing was changed:');
    expect(backend.requests).toEqual([
      { kind: 'replace', replica: 'kubernetes-master', zone: null, force: false },
    ]);
  });
});

describe('unhealthy since', () => {
  it('counts from the first look that saw it so, forgets it when healthy', () => {
    const sick = crashed(3, 2);
    const a = trackUnhealthy(NONE_UNHEALTHY, sick, 1000);
    expect(a).toEqual({ [Q2P]: 1000 });
    // Another look, still sick: the same record (nothing to redraw).
    expect(trackUnhealthy(a, sick, 5000)).toBe(a);
    expect(trackUnhealthy(a, status(3), 6000)).toEqual({});
    expect(trackUnhealthy(a, null, 6000)).toBe(a);
  });

  it('the card shows it', async () => {
    let now = 1_000_000;
    const clock = () => now;
    const store = createConsoleStore({ mode: 'read-only', now: clock });
    store.getState().applyStatus(crashed(3, 2), now);
    now += 130_000;
    const ui = renderSized(app(store, { clock }), 120, 40);
    mounted.push(ui);
    await vi.waitFor(() => expect(ui.text()).toContain('unhealthy 2m10s'));
  });
});
