// The console's V after quorum loss (issue 16 items 4 and 5): kube-ha
// recover's diagnosis of what the console sees, then the first start or reset
// through the same plan and confirmation screens as every operation; a loss
// no start or reset mends points to the CLI's rebuild.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClusterStatus } from '../../src/domain/types.js';
import { createConsoleStore } from '../../src/store/index.js';
import { createOpsController } from '../../src/ui/ops/index.js';
import { crash } from '../helpers/observations.js';
import { status, withObs } from '../ops/fixtures.js';
import { app, renderSized } from './harness.js';
import { fakeBackend } from './ops-harness.js';

let mounted: { unmount(): void }[] = [];
afterEach(() => {
  for (const m of mounted) m.unmount();
  mounted = [];
});

function setup(s: ClusterStatus) {
  const store = createConsoleStore({ mode: 'write' });
  store.getState().applyStatus(s);
  const backend = fakeBackend(s);
  const controller = createOpsController({ store, write: true, open: async () => backend });
  const ui = renderSized(app(store, { write: true, ops: controller }), 140, 60);
  mounted.push(ui);
  const see = (text: string | RegExp) =>
    vi.waitFor(() => {
      const t = ui.text();
      if (typeof text === 'string' ? !t.includes(text) : !text.test(t))
        throw new Error(`not on screen: ${text}\n${t}`);
    });
  return { store, backend, ui, see, press: (k: string) => ui.stdin.write(k) };
}

const names = status(3).replicas.map((r) => r.name);

/** Replica 1 hung (VM RUNNING, members silent), replica 2's VM TERMINATED: quorum lost in both clusters. */
const twoDown = () =>
  withObs((o) => {
    o.gce!.instances[2]!.status = 'TERMINATED';
    for (const i of [1, 2]) {
      o.etcd.main = crash(o.etcd.main!, i);
      o.etcd.events = crash(o.etcd.events!, i);
    }
  });

describe('V: quorum lost', () => {
  it('diagnoses a transient loss and plans the first remedy (start before reset) on Enter', async () => {
    const s = twoDown();
    expect(s.warnings.find((w) => w.code === 'QUORUM_LOST')?.message).toMatch(/kube-ha recover .*console: V/);
    const { backend, see, press, ui } = setup(s);
    await see(names[0]!);
    press('V');
    await see('Quorum lost: kube-ha recover');
    expect(ui.text()).toMatch(/etcd main: QUORUM LOST/);
    expect(ui.text()).toMatch(/diagnosis: TRANSIENT/);
    expect(ui.text()).toContain(`1. kube-ha start --replica ${names[2]}`);
    expect(ui.text()).toContain(`2. kube-ha reset --replica ${names[1]}`);
    expect(ui.text()).toContain(`Enter plans: kube-ha start --replica ${names[2]}`);
    // Nothing is asked of the cluster before Enter.
    expect(backend.requests).toEqual([]);
    press('\r');
    await vi.waitFor(() =>
      expect(backend.requests).toEqual([{ kind: 'start', replica: names[2], force: false }]),
    );
  });

  it('Esc goes back; on a healthy cluster V says there is nothing to recover', async () => {
    const { see, press, ui, backend } = setup(twoDown());
    await see(names[0]!);
    press('V');
    await see('Quorum lost: kube-ha recover');
    press('\u001b');
    await vi.waitFor(() => expect(ui.text()).not.toContain('Quorum lost: kube-ha recover'));
    const healthy = setup(status(3));
    await healthy.see(names[0]!);
    healthy.press('V');
    await healthy.see('nothing to recover');
    expect(backend.requests).toEqual([]);
    expect(healthy.backend.requests).toEqual([]);
  });
});
