// The operation lock against a real 3-member etcd cluster (issue 11 item 3):
// keepalives survive one hung member, the loss is noticed on the holder's own
// clock before etcd can expire the lease, and only a provably dead holder's
// lock is taken over early.
import { spawn } from 'node:child_process';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCK_KEY, type LockRecord } from '../../src/domain/ops/lock.js';
import { EtcdOps } from '../../src/ops/etcd-ops.js';
import { acquireLock, type HeldLock, readLock } from '../../src/ops/lock.js';
import { hostIdentity, startTicksOf } from '../../src/ops/process-identity.js';
import { eventually } from '../helpers/cli.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';

vi.setConfig({ testTimeout: 60_000 });

const TTL = 3;
const OPTS = { ttlSeconds: TTL, marginMs: 600, callTimeoutMs: 500 };

let cluster: TestCluster;
let etcd: EtcdOps;
const log: string[] = [];

const record = (id: string): LockRecord => ({
  operationId: id,
  kind: 'add',
  summary: `test ${id}`,
  holder: { user: 'test', host: 'here', pid: process.pid, tool: 'lock.test' },
  since: new Date().toISOString(),
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The member behind an endpoint, to freeze it. */
const memberAt = (endpoint: string) => cluster.members[cluster.endpoints.indexOf(endpoint)]!;

beforeAll(async () => {
  cluster = await startTestCluster(3);
  etcd = new EtcdOps('main', { endpoints: cluster.endpoints, tls: null }, 1000, (l) => log.push(l));
});

afterAll(async () => {
  etcd?.close();
  await cluster?.stop();
});

describe('the operation lock', () => {
  it('keeps the lock through another voter while the member it was taken through hangs', async () => {
    const got = await acquireLock(etcd, record('hang-one'), (l) => log.push(l), undefined, OPTS);
    if (!got.ok) throw new Error('lock not taken');
    const lock = got.lock;
    const via = /taken \(via (\S+)\)/.exec(log.at(-1) ?? '')?.[1];
    expect(cluster.endpoints).toContain(via);
    const frozen = memberAt(via!);
    frozen.child.kill('SIGSTOP');
    try {
      // Three TTLs: etcd3's own keepalive, pinned to the frozen member, would have lost it.
      await sleep(3 * TTL * 1000);
      expect(lock.lost()).toBe(false);
      expect(lock.signal.aborted).toBe(false);
      expect(log.some((l) => l.includes('keepalive') && l.includes('moved to'))).toBe(true);
      const other = new Etcd3({ hosts: cluster.endpoints.filter((e) => e !== via) });
      try {
        const held = JSON.parse((await other.get(LOCK_KEY).string()) ?? '{}') as LockRecord;
        expect(held.operationId).toBe('hang-one');
      } finally {
        other.close();
      }
    } finally {
      frozen.child.kill('SIGCONT');
      await lock.release();
    }
    await eventually(async () => (await readLock(etcd).catch(() => undefined)) === null, 10_000);
  });

  it('declares the lock lost within the TTL when no voter answers, and never takes it back from a new holder', async () => {
    const got = await acquireLock(etcd, record('lose-it'), () => {}, undefined, OPTS);
    if (!got.ok) throw new Error('lock not taken');
    const lock: HeldLock = got.lock;
    const abortedAt = new Promise<number>((r) =>
      lock.signal.addEventListener('abort', () => r(Date.now()), { once: true }),
    );
    // Two of three hung: no quorum, no keepalive can be answered.
    const hung = cluster.members.slice(0, 2);
    const frozenAt = Date.now();
    for (const m of hung) m.child.kill('SIGSTOP');
    let lostAt: number;
    try {
      lostAt = await Promise.race([abortedAt, sleep(3 * TTL * 1000).then(() => Number.NaN)]);
    } finally {
      for (const m of hung) m.child.kill('SIGCONT');
    }
    // Lost no later than the TTL after the last keepalive could have been sent (the freeze).
    expect(lostAt - frozenAt).toBeLessThanOrEqual(TTL * 1000 + 200);
    expect(lock.lost()).toBe(true);
    expect(lock.lostReason()).toMatch(/no keepalive .* answered/);
    // Once etcd has expired the lease, another operation takes the lock...
    const second = await eventually(async () => {
      const r = await acquireLock(etcd, record('second'), () => {}, undefined, OPTS).catch(() => null);
      return r?.ok ? r.lock : null;
    }, 20_000);
    // ...and the first one cannot take it back from under it.
    const again = await lock.reacquire();
    expect(again.ok).toBe(false);
    expect(again.ok ? '' : again.reason).toMatch(/another operation holds the lock now: test second/);
    await second.release();
    await lock.release();
  });

  it('takes over at once only from a provably dead holder; a holder in another pid namespace is waited out', async () => {
    const here = hostIdentity()!;
    const child = spawn('sleep', ['30']);
    const pid = child.pid!;
    const startTicks = startTicksOf(pid)!;
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const client = new Etcd3({ hosts: cluster.endpoints });
    const plant = async (pidNamespace: string) => {
      const { ID } = await client.leaseClient.leaseGrant({ TTL: 60, ID: 0 });
      const dead: LockRecord = {
        ...record('dead'),
        holder: {
          user: 'x',
          host: 'elsewhere',
          pid,
          tool: 't',
          identity: { ...here, pidNamespace, startTicks },
        },
        leaseId: ID,
      };
      await client.put(LOCK_KEY).value(JSON.stringify(dead)).lease(ID);
      return ID;
    };
    try {
      await plant(here.pidNamespace);
      const got = await acquireLock(etcd, record('after-dead'), () => {}, undefined, OPTS);
      expect(got.ok).toBe(true);
      if (got.ok) await got.lock.release();

      // The same pid, boot and name but another pid namespace (a container): nothing is proven.
      const leaseId = await plant('pid:[1]');
      const refused = await acquireLock(etcd, record('container'), () => {}, undefined, OPTS);
      expect(refused.ok).toBe(false);
      expect(refused.ok ? null : refused.holder.operationId).toBe('dead');
      await client.leaseClient.leaseRevoke({ ID: leaseId });
    } finally {
      client.close();
    }
  });
});
