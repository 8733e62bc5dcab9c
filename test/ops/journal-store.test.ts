// The journal store on a real (temporary) directory: unreadable journals are
// reported by path with the reason, never skipped; discard sets a journal
// aside; a failed write is a JournalWriteError naming the file.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JournalStore, JournalWriteError } from '../../src/ops/journal-store.js';
import { journalFor, runTo } from './journal-fixtures.js';

let dir: string;
let store: JournalStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kube-ha-journals-'));
  store = new JournalStore(join(dir, 'ops'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('JournalStore', () => {
  it('scan: readable journals, and every unreadable one by path with its reason', () => {
    const good = runTo(journalFor(undefined, undefined, 'op-good'), 'add.instance', 'running');
    store.write(good);
    const missing = JSON.parse(JSON.stringify(journalFor(undefined, undefined, 'op-nosteps')));
    delete missing.plan.steps;
    writeFileSync(store.path('op-nosteps'), JSON.stringify(missing));
    writeFileSync(store.path('op-cut'), JSON.stringify(good).slice(0, 100));
    writeFileSync(store.path('op-future'), JSON.stringify({ ...good, format: 2, operationId: 'op-future' }));
    writeFileSync(store.path('op-renamed'), JSON.stringify(good));
    // Not journals: a temporary file of a write, and a discarded journal.
    writeFileSync(`${store.path('op-x')}.123.tmp`, '{');
    writeFileSync(`${store.path('op-y')}.discarded-2025`, '{');

    const scan = store.scan();
    expect(scan.journals.map((j) => j.operationId)).toEqual(['op-good']);
    expect(scan.unreadable).toEqual([
      { path: store.path('op-cut'), operationId: 'op-cut', reason: expect.stringMatching(/^not JSON/) },
      {
        path: store.path('op-future'),
        operationId: 'op-future',
        reason: expect.stringMatching(/^unknown format 2/),
      },
      {
        path: store.path('op-nosteps'),
        operationId: 'op-nosteps',
        reason: 'plan.steps: missing, expected a list',
      },
      {
        path: store.path('op-renamed'),
        operationId: 'op-renamed',
        reason: 'it holds operation op-good, not op-renamed as its name says',
      },
    ]);
    // unfinished() keeps meaning the newest unfinished readable journal.
    expect(store.unfinished()?.operationId).toBe('op-good');
    expect(store.list()).toHaveLength(1);
    expect(store.preflightContext()).toEqual({
      unfinished: { operationId: 'op-good', summary: good.plan.summary, state: 'running' },
      unreadableJournals: scan.unreadable,
    });
    expect(() => store.read('op-nosteps')).toThrow(/cannot be read: plan\.steps: missing/);
  });

  it('scan: nothing when the directory does not exist; a directory that cannot be listed is reported', () => {
    expect(store.scan()).toEqual({ journals: [], unreadable: [] });
    writeFileSync(store.dir, 'a file where the directory should be');
    const scan = store.scan();
    expect(scan.journals).toEqual([]);
    expect(scan.unreadable).toEqual([
      {
        path: store.dir,
        operationId: null,
        reason: expect.stringMatching(/^cannot list the journals: ENOTDIR/),
      },
    ]);
  });

  it('discard: renames the journal aside, keeps its bytes, and it is no longer read', () => {
    const j = runTo(journalFor(), 'add.disk');
    store.write(j);
    const before = readFileSync(store.path('op-test'), 'utf8');
    const aside = store.discard('op-test', new Date('2025-01-02T03:04:05.678Z'));
    expect(aside).toBe(`${store.path('op-test')}.discarded-2025-01-02T03-04-05-678Z`);
    expect(existsSync(store.path('op-test'))).toBe(false);
    expect(readFileSync(aside, 'utf8')).toBe(before);
    expect(store.scan()).toEqual({ journals: [], unreadable: [] });
    expect(() => store.discard('../../etc/passwd')).toThrow(/is not an operation id/);
    expect(() => store.discard('op-none')).toThrow(/ENOENT/);
  });

  it('write: a failure is a JournalWriteError naming the file, and leaves no temporary file', () => {
    writeFileSync(join(dir, 'blocked'), '');
    const blocked = new JournalStore(join(dir, 'blocked', 'ops'));
    expect(() => blocked.write(journalFor())).toThrow(JournalWriteError);
    expect(() => blocked.write(journalFor())).toThrow(/cannot write the journal .*op-test\.json: ENOTDIR/);
    store.write(journalFor());
    expect(readdirSync(store.dir)).toEqual(['op-test.json']);
  });
});
