// Journals in etcd main (issue 11 item 4): a real one-member etcd for the
// copy, temp dirs for the local files. An operation journalled on one machine
// is listed on another; the newest state wins; a finished one leaves etcd; a
// silent etcd costs a bounded wait and is reported, never a crash.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOURNAL_PREFIX } from '../../src/domain/ops/lock.js';
import { EtcdOps } from '../../src/ops/etcd-ops.js';
import { EtcdJournals, journalKey, mergeJournals } from '../../src/ops/journal-remote.js';
import { JournalStore } from '../../src/ops/journal-store.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';
import { journalFor } from './journal-fixtures.js';

let cluster: TestCluster;
let dir: string;
const etcdOps: EtcdOps[] = [];
const log: string[] = [];

function remote(endpoints = cluster.endpoints): EtcdJournals {
  const e = new EtcdOps('main', { endpoints, tls: null }, 500, () => {});
  etcdOps.push(e);
  return new EtcdJournals(e, (l) => log.push(l));
}

let n = 0;
const machine = () => new JournalStore(join(dir, `machine-${n++}`));

beforeAll(async () => {
  cluster = await startTestCluster(1);
  dir = mkdtempSync(join(tmpdir(), 'kube-ha-remote-'));
}, 30_000);

afterAll(async () => {
  for (const e of etcdOps) e.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('journals in etcd', () => {
  it('an operation journalled on one machine is seen on another, which can set it aside', async () => {
    const a = machine().attachRemote(remote());
    const j = journalFor(undefined, undefined, 'op-remote-a');
    a.write(j);
    expect(await a.flush()).toBe(true);

    const b = machine().attachRemote(remote());
    expect(b.scan().journals).toEqual([]);
    await b.refresh();
    expect(b.remoteProblem()).toBeNull();
    expect(b.scan().journals.map((x) => x.operationId)).toEqual(['op-remote-a']);
    expect(b.preflightContext().unfinished?.operationId).toBe('op-remote-a');

    // Discarded on b: a copy set aside locally, the key gone from etcd.
    const aside = b.discard('op-remote-a');
    await b.discardRemote('op-remote-a');
    expect(readdirSync(b.dir)).toEqual([aside.split('/').at(-1)]);
    await b.refresh();
    expect(b.scan().journals).toEqual([]);
  });

  it('keeps the newest state of each operation; a finished one tells a stale local copy it is over, and goes after a week', async () => {
    const a = machine().attachRemote(remote());
    const j = journalFor(undefined, undefined, 'op-remote-b');
    a.write(j);
    a.write({ ...j, updatedAt: '2030-01-01T00:00:00.000Z', error: 'newer' });
    await a.flush();
    const c = new Etcd3({ hosts: cluster.endpoints });
    try {
      const stored = JSON.parse((await c.get(journalKey('op-remote-b')).string()) ?? '{}');
      expect(stored.error).toBe('newer');
      // Finished on another machine: a's local file still says running, etcd says done.
      const other = machine().attachRemote(remote());
      other.write({ ...j, state: 'done', updatedAt: '2030-01-01T00:00:01.000Z' });
      await other.flush();
      await a.refresh();
      expect(a.scan().journals.find((x) => x.operationId === 'op-remote-b')?.state).toBe('done');
      expect(a.preflightContext().unfinished).toBeNull();
      // A week and a day later, the next finished operation prunes it.
      other.write({
        ...journalFor(undefined, undefined, 'op-remote-b2'),
        state: 'done',
        updatedAt: '2030-01-09T00:00:02.000Z',
      });
      await other.flush();
      expect(await c.get(journalKey('op-remote-b')).string()).toBeNull();
      expect(await c.get(journalKey('op-remote-b2')).string()).not.toBeNull();
    } finally {
      await c.delete().key(journalKey('op-remote-b2'));
      c.close();
    }
  });

  it('reports a value in etcd that is not a journal, by key and reason', async () => {
    const c = new Etcd3({ hosts: cluster.endpoints });
    try {
      await c.put(`${JOURNAL_PREFIX}op-garbage`).value('{"format":1');
      const b = machine().attachRemote(remote());
      await b.refresh();
      expect(b.scan().unreadable).toEqual([
        expect.objectContaining({ path: `etcd main ${JOURNAL_PREFIX}op-garbage`, operationId: 'op-garbage' }),
      ]);
      expect(b.preflightContext().unreadableJournals).toHaveLength(1);
    } finally {
      await c.delete().key(`${JOURNAL_PREFIX}op-garbage`);
      c.close();
    }
  });

  it('with etcd silent: the local journal is written, the copy is reported behind, and waits are bounded', async () => {
    // A loopback port nothing listens on.
    const a = machine().attachRemote(remote(['http://127.0.0.1:1']));
    const j = journalFor(undefined, undefined, 'op-remote-c');
    a.write(j);
    expect(a.scan().journals.map((x) => x.operationId)).toEqual(['op-remote-c']);
    expect(await a.flush(5000)).toBe(false);
    expect(a.remoteWriteProblem()).toMatch(/no etcd main endpoint answered/);
    await a.refresh();
    expect(a.remoteProblem()).toMatch(/no etcd main endpoint answered/);
    // Still the local view.
    expect(a.preflightContext().unfinished?.operationId).toBe('op-remote-c');
  });
});

describe('mergeJournals', () => {
  it('takes the copy updated last and keeps start order', () => {
    const x = journalFor(undefined, undefined, 'op-x');
    const y = { ...journalFor(undefined, undefined, 'op-y'), startedAt: '1969-12-31T00:00:00.000Z' };
    const newer = { ...x, updatedAt: '2031-01-01T00:00:00.000Z', state: 'rolling-back' as const };
    expect(mergeJournals([x, y], [newer]).map((j) => [j.operationId, j.state])).toEqual([
      ['op-y', y.state],
      ['op-x', 'rolling-back'],
    ]);
    expect(mergeJournals([newer], [x])[0]?.state).toBe('rolling-back');
  });
});
