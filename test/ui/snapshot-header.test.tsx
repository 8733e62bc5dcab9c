// The header's last snapshot (issue 16 item 2): its age and revision on the
// etcd main line, "no snapshot yet" before the first, dropped before anything
// else when the line is short.
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { healthy3, T0 } from './fixtures.js';
import { app, renderSized, storeWith } from './harness.js';

afterEach(() => cleanup());

const flush = () => new Promise((r) => setTimeout(r, 30));
const mainLine = (text: string) => text.split('\n').find((l) => /^\s*main\s/.test(l)) ?? '';

describe('the header names the last snapshot', () => {
  it('none yet, then its age to the minute and its revision; updated when a newer one appears', async () => {
    const store = storeWith(healthy3());
    const ui = renderSized(app(store), 140, 40);
    await flush();
    expect(mainLine(ui.text())).toMatch(/no snapshot yet/);
    store
      .getState()
      .setLastSnapshot({ takenAt: T0 - (2 * 60 + 5) * 60_000 - 30_000, revision: '4711', file: 'f' });
    await flush();
    expect(mainLine(ui.text())).toMatch(/snapshot 2h05m ago, rev 4711/);
    store.getState().setLastSnapshot({ takenAt: T0 - 20_000, revision: '4800', file: 'g' });
    await flush();
    expect(mainLine(ui.text())).toMatch(/snapshot just now, rev 4800/);
    ui.unmount();
  });

  it('on a narrow terminal it goes first; the quorum and the leader stay', async () => {
    const store = storeWith(healthy3());
    store.getState().setLastSnapshot({ takenAt: T0 - 3 * 86_400_000, revision: '9', file: 'f' });
    const wide = renderSized(app(store), 140, 40);
    await flush();
    expect(mainLine(wide.text())).toMatch(/snapshot 3d ago, rev 9/);
    wide.unmount();
    const narrow = renderSized(app(store), 60, 24);
    await flush();
    const line = mainLine(narrow.text());
    expect(line).not.toMatch(/snap/);
    expect(line).toMatch(/3\/3/);
    narrow.unmount();
  });
});
