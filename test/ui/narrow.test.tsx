import { describe, expect, it, vi } from 'vitest';
import { buildStatus } from '../../src/domain/status.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { createTheme } from '../../src/ui/theme.js';
import {
  crash,
  degraded,
  healthy3,
  learnerPresent,
  memberWithoutVm,
  noLeader,
  observations,
  vmWithoutMember,
} from './fixtures.js';
import { app, renderSized, storeWith, width } from './harness.js';

const FIXTURES: Record<string, () => ClusterStatus> = {
  healthy3,
  degraded,
  noLeader,
  memberWithoutVm,
  vmWithoutMember,
  learnerPresent,
  // Five replicas over three zones, two of them down with a long error: the worst fit of the lot.
  fiveInThreeZones: () => {
    const obs = observations(
      [0, 1, 2, 3, 4].map((i) => `kubernetes-master-${'abcde'[i]}${i}z`),
      ['us-central1-a', 'us-central1-b', 'us-central1-c'],
    );
    const error =
      'dial tcp 10.128.0.9:2379: i/o timeout while waiting for the member to answer its Status call';
    crash(obs, 3, { error });
    crash(obs, 4, { error });
    return buildStatus(obs);
  },
};

function checkFits(status: ClusterStatus, text: string, columns: number, rows: number) {
  const lines = text.split('\n');
  for (const line of lines) expect(width(line), `too wide: "${line}"`).toBeLessThanOrEqual(columns);
  // One row short of the terminal: a full-height frame makes Ink clear the screen on every update.
  expect(lines.length).toBeLessThan(rows);
  for (const r of status.replicas) expect(text, `replica ${r.name} missing`).toContain(r.name);
  expect(text).toMatch(/^main {3}\d\/\d healthy [·-] quorum \d [·-] /m);
  expect(text).toMatch(/^events \d\/\d healthy [·-] quorum \d [·-] /m);
}

describe('fits the terminal', () => {
  for (const [name, fixture] of Object.entries(FIXTURES)) {
    for (const [columns, rows] of [
      [80, 24],
      [60, 24],
      [120, 40],
    ] as const) {
      it(`${name} at ${columns}x${rows}: every replica, both quorum lines, no line too wide`, () => {
        const s = fixture();
        const ui = renderSized(app(storeWith(s)), columns, rows);
        checkFits(s, ui.text(), columns, rows);
        ui.unmount();
      });
    }
  }

  it('still fits at 80x24 in ASCII, and in the help and detail views', async () => {
    const s = degraded();
    const store = storeWith(s);
    const ui = renderSized(app(store, { theme: createTheme({ color: false, ascii: true }) }), 80, 24);
    checkFits(s, ui.text(), 80, 24);
    store.getState().setView('detail');
    await vi.waitFor(() => expect(ui.text()).toContain('peer URLs'));
    for (const line of ui.text().split('\n')) expect(width(line)).toBeLessThanOrEqual(80);
    expect(ui.text().split('\n').length).toBeLessThan(24);
    store.getState().setView('help');
    await vi.waitFor(() => expect(ui.text()).toContain('Keys'));
    expect(ui.text().split('\n').length).toBeLessThan(24);
    ui.unmount();
  });

  it('follows resizes: columns become rows when the terminal narrows, and back', async () => {
    const s = healthy3();
    const ui = renderSized(app(storeWith(s)), 100, 30);
    expect(ui.text()).toMatch(/us-central1-a \(1\) +us-central1-b \(1\)/);
    ui.resize(50, 30);
    await vi.waitFor(() => {
      expect(ui.text()).not.toMatch(/us-central1-a \(1\) +us-central1-b/);
      checkFits(s, ui.text(), 50, 30);
    });
    ui.resize(100, 30);
    await vi.waitFor(() => expect(ui.text()).toMatch(/us-central1-a \(1\) +us-central1-b \(1\)/));
    ui.unmount();
  });

  it('drops card detail before anything else on a short terminal', () => {
    const s = degraded();
    const tall = renderSized(app(storeWith(s)), 100, 40);
    const short = renderSized(app(storeWith(s)), 100, 16);
    expect(tall.text()).toContain('2.1 MB');
    expect(short.text()).not.toContain('2.1 MB');
    checkFits(s, short.text(), 100, 16);
    tall.unmount();
    short.unmount();
  });
});
