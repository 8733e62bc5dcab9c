// The header's last snapshot (issue 16 item 2): its age and revision on the
// etcd main line, "no snapshot yet" before the first, dropped before anything
// else when the line is short.
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { healthy3, T0 } from './fixtures.js';
import { app, renderSized, storeWith } from './harness.js';

afterEach(() => cleanup());

const mainLine = (text: string) => text.split('\n').find((l) => /^\s*main\s/.test(l)) ?? '';
/** Waits, bounded, for the drawn main line to match (a redraw is asynchronous). */
const mainLineShows = (ui: { text(): string }, re: RegExp) =>
  vi.waitFor(() => expect(mainLine(ui.text())).toMatch(re));

describe('the header names the last snapshot', () => {
  it('none yet, then its age to the minute and its revision; updated when a newer one appears', async () => {
    const store = storeWith(healthy3());
    const ui = renderSized(app(store), 140, 40);
    await mainLineShows(ui, /no snapshot yet/);
    store
      .getState()
      .setLastSnapshot({ takenAt: T0 - (2 * 60 + 5) * 60_000 - 30_000, revision: '4711', file: 'f' });
    await mainLineShows(ui, /snapshot 2h05m ago, rev 4711/);
    store.getState().setLastSnapshot({ takenAt: T0 - 20_000, revision: '4800', file: 'g' });
    await mainLineShows(ui, /snapshot just now, rev 4800/);
    ui.unmount();
  });

  it('on a narrow terminal it goes first; the quorum and the leader stay', async () => {
    const store = storeWith(healthy3());
    store.getState().setLastSnapshot({ takenAt: T0 - 3 * 86_400_000, revision: '9', file: 'f' });
    const wide = renderSized(app(store), 140, 40);
    await mainLineShows(wide, /snapshot 3d ago, rev 9/);
    wide.unmount();
    const narrow = renderSized(app(store), 60, 24);
    // Drawn (the quorum is there), and the snapshot is not.
    await mainLineShows(narrow, /3\/3/);
    expect(mainLine(narrow.text())).not.toMatch(/snap/);
    narrow.unmount();
  });
});
