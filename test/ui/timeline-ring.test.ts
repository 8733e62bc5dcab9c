// The console timeline is a ring buffer (issue 11 item 9): memory keeps the
// newest events, in order, without copying the history per event; the whole
// session goes to a log in the state dir as it happens, and the incident
// export gives that whole session with unambiguous (UTC) times.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  attachSessionLog,
  buildIncidentLog,
  createConsoleStore,
  SessionLog,
  TIMELINE_LIMIT,
  TimelineRing,
  writeIncidentLog,
} from '../../src/store/index.js';
import { healthy3, T0 } from './fixtures.js';
import { renderApp, storeWith } from './harness.js';

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function storeWithEvents(n: number, limit?: number) {
  let now = T0;
  const store = createConsoleStore({ now: () => now, ...(limit ? { timelineLimit: limit } : {}) });
  const record = (k: number) => {
    for (let i = 0; i < k; i++) {
      now += 1000;
      store.getState().recordEvent({ kind: 'action', severity: 'info', message: `event ${i}` });
    }
  };
  record(n);
  return { store, record };
}

let dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  dirs = [];
});
async function tempDir() {
  const d = await mkdtemp(join(tmpdir(), 'kube-ha-ring-'));
  dirs.push(d);
  return d;
}

describe('the console timeline is a ring buffer', () => {
  it('keeps the newest TIMELINE_LIMIT (1000) events, oldest first, and counts the whole session', () => {
    expect(TIMELINE_LIMIT).toBe(1000);
    const { store } = storeWithEvents(2500);
    const t = store.getState().timeline;
    expect(t.length).toBe(1000);
    expect(t.total).toBe(2500);
    expect(t.dropped).toBe(1500);
    const ids = t.map((e) => e.id);
    expect(ids[0]).toBe(1501);
    expect(ids.at(-1)).toBe(2500);
    expect(ids.every((id, i) => i === 0 || id === (ids[i - 1] as number) + 1)).toBe(true);
    expect(t.latest(3).map((e) => e.id)).toEqual([2498, 2499, 2500]);
    expect(t.at(-1)?.message).toBe('event 2499');
    expect(t.after(2497).map((e) => e.id)).toEqual([2498, 2499, 2500]);
  });

  it('publishes a new view per change (subscribers redraw) while older views never show newer events', () => {
    const { store, record } = storeWithEvents(3, 4);
    const before = store.getState().timeline;
    expect(before.map((e) => e.id)).toEqual([1, 2, 3]);
    record(1);
    const after = store.getState().timeline;
    expect(after).not.toBe(before);
    expect(after.map((e) => e.id)).toEqual([1, 2, 3, 4]);
    // The old view still says what it held.
    expect(before.map((e) => e.id)).toEqual([1, 2, 3]);
    record(2);
    // Ids 1 and 2 were overwritten: the old view loses them, and shows nothing newer than 3.
    expect(before.map((e) => e.id)).toEqual([3]);
    expect(store.getState().timeline.map((e) => e.id)).toEqual([3, 4, 5, 6]);
  });

  it('appends in place: the storage is allocated once, whatever the session length', () => {
    const ring = new TimelineRing(8);
    const views = [];
    for (let i = 1; i <= 100; i++) {
      ring.push([{ id: i, at: i, kind: 'action', severity: 'info', message: String(i) }]);
      views.push(ring.view());
    }
    // Slots of the 8 newest only; a view is a cursor, not a copy.
    expect(ring.get(91)).toBeUndefined();
    expect(ring.get(92)?.id).toBe(93);
    expect(
      views
        .at(-1)
        ?.toArray()
        .map((e) => e.id),
    ).toEqual([93, 94, 95, 96, 97, 98, 99, 100]);
    expect(Object.keys(views.at(-1) as object)).toEqual(['ring', 'end']);
  });
});

describe('the session log and the incident export', () => {
  it('writes every event to the state dir as it comes, with UTC ISO times, beyond what memory keeps', async () => {
    const dir = await tempDir();
    const { store, record } = storeWithEvents(3, 10);
    const log = new SessionLog({ stateDir: dir, startedAt: T0, pid: 42 });
    const detach = attachSessionLog(store, log);
    record(47);
    await log.flush();
    detach();
    expect(store.getState().timeline.length).toBe(10);
    expect(await readdir(join(dir, 'sessions'))).toEqual([log.path.split('/').pop()]);
    const lines = (await readFile(log.path, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(50);
    const events = lines.map((l) => JSON.parse(l));
    expect(events.map((e) => e.id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    for (const e of events) expect(e.at).toMatch(ISO_UTC);
    expect(events[0].at).toBe(new Date(T0 + 1000).toISOString());
  });

  it('rotates once past its byte limit, keeping the newest events', async () => {
    const dir = await tempDir();
    const { store, record } = storeWithEvents(0, 10);
    const log = new SessionLog({ stateDir: dir, startedAt: T0, pid: 42, maxBytes: 2000 });
    attachSessionLog(store, log);
    for (let i = 0; i < 60; i++) {
      record(1);
      await log.flush();
    }
    const history = await log.read();
    expect(history?.lostOldest).toBe(true);
    const ids = history?.events.map((e) => e.id) ?? [];
    expect(ids.at(-1)).toBe(60);
    expect(ids.length).toBeGreaterThan(10);
    expect(ids.length).toBeLessThan(60);
    const onDisk = await readdir(join(dir, 'sessions'));
    expect(onDisk.sort()).toEqual([log.rotatedPath, log.path].map((p) => p.split('/').pop()));
  });

  it('e exports the whole session from the log, every time UTC ISO 8601 and the local offset named', async () => {
    const dir = await tempDir();
    const { store, record } = storeWithEvents(0, 10);
    const log = new SessionLog({ stateDir: dir, startedAt: T0, pid: 42 });
    attachSessionLog(store, log);
    record(25);
    const at = T0 + 60_000;
    const files = await writeIncidentLog(store.getState(), dir, at, log);
    const json = JSON.parse(await readFile(files.jsonPath, 'utf8'));
    expect(json.timeline).toHaveLength(25);
    expect(json.timeline.map((e: { id: number }) => e.id)).toEqual(
      Array.from({ length: 25 }, (_, i) => i + 1),
    );
    expect(json.timelineOmitted).toBe(0);
    expect(json.sessionLog).toBe(log.path);
    expect(json.exportedAt).toMatch(ISO_UTC);
    expect(json.localUtcOffset).toMatch(/^[+-]\d\d:\d\d$/);
    for (const e of json.timeline) expect(e.at).toMatch(ISO_UTC);
    const md = await readFile(files.markdownPath, 'utf8');
    expect(md).toMatch(
      /- times are UTC \(ISO 8601\); the console's screen showed local times, UTC[+-]\d\d:\d\d/,
    );
    expect(md).toContain(`The whole session is also in ${log.path}`);
    const stamps = [...md.matchAll(/^- (\S+) \[info\] action: event \d+$/gm)].map((m) => m[1]);
    expect(stamps).toHaveLength(25);
    for (const s of stamps) expect(s).toMatch(ISO_UTC);
  });

  it('a session log that cannot be written: the export falls back to memory and says why', async () => {
    const dir = await tempDir();
    const { store, record } = storeWithEvents(0, 10);
    // The state dir is a file: nothing can be created under it.
    const blocked = join(dir, 'not-a-dir');
    await writeFile(blocked, '');
    const log = new SessionLog({ stateDir: blocked, startedAt: T0, pid: 42 });
    attachSessionLog(store, log);
    record(12);
    const files = await writeIncidentLog(store.getState(), dir, T0, log);
    const json = JSON.parse(await readFile(files.jsonPath, 'utf8'));
    expect(json.timeline.map((e: { id: number }) => e.id)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(json.timelineOmitted).toBe(2);
    expect(json.sessionLogError).toMatch(/ENOTDIR|EEXIST/);
    expect(await readFile(files.markdownPath, 'utf8')).toMatch(/The session log failed: .*(ENOTDIR|EEXIST)/);
  });

  it('without a session log the export says how many of the oldest events it lacks', () => {
    const { store } = storeWithEvents(25, 10);
    const log = buildIncidentLog(store.getState(), T0);
    expect(log.markdown).toContain('The 15 oldest events of this session are not in this export.');
    expect(JSON.parse(log.json).timelineOmitted).toBe(15);
  });
});

describe('the events panel', () => {
  it('counts the whole session and says when only the newest are kept', () => {
    const store = storeWith(healthy3(), { timelineLimit: 5 });
    for (let i = 0; i < 8; i++) {
      store.getState().recordEvent({ kind: 'action', severity: 'info', message: `note ${i}`, at: T0 });
    }
    const ui = renderApp(store);
    const text = ui.text();
    ui.unmount();
    expect(text).toContain('Events (9 this session, the newest 5 kept, newest first)');
    expect(text).toContain('note 7');
  });
});
