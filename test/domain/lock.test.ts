// The lock's validity clock and the "provably dead holder" rule: pure.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LockValidity, type OperationHolder, provablyDead } from '../../src/domain/ops/lock.js';

describe('LockValidity', () => {
  it('is never valid past the TTL after the last answered keepalive was sent, whatever the delays', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 60_000 }),
        fc.array(
          fc.record({ gap: fc.integer({ min: 0, max: 30_000 }), delay: fc.integer({ min: 0, max: 5000 }) }),
          {
            maxLength: 20,
          },
        ),
        (ttl, sends) => {
          const v = new LockValidity(ttl, 100, 0);
          let t = 0;
          let lastSent = 0;
          for (const s of sends) {
            t += s.gap;
            const answeredAt = t + s.delay;
            // Answers that come after the lease could have run out do not count: the clock already said lost.
            if (!v.lost(answeredAt)) {
              v.answered(t, ttl / 1000);
              lastSent = t;
            }
            t = answeredAt;
          }
          // The server expires the lease no earlier than lastSent + ttl: we say lost before that.
          expect(v.lost(lastSent + ttl)).toBe(true);
        },
      ),
    );
  });

  it('is lost at once when etcd says the lease is gone', () => {
    const v = new LockValidity(15_000, 2000, 0);
    v.answered(1000, -1);
    expect(v.lost(1001)).toBe(true);
    expect(v.leftMs(1001)).toBe(0);
  });

  it('counts a shorter remaining TTL than asked for', () => {
    const v = new LockValidity(15_000, 2000, 0);
    v.answered(10_000, 5);
    // The grant's own window (0 + 15 s - 2 s) still ends later than 10 s + 5 s - 2 s.
    expect(v.leftMs(10_000)).toBe(3000);
    const w = new LockValidity(15_000, 2000, 0);
    w.answered(20_000, 5);
    expect(w.lost(22_999)).toBe(false);
    expect(w.lost(23_000)).toBe(true);
  });
});

describe('provablyDead', () => {
  const here = { bootId: 'boot-1', pidNamespace: 'pid:[4026531836]' };
  const holder = (identity?: OperationHolder['identity']): OperationHolder => ({
    user: 'u',
    host: 'h',
    pid: 42,
    tool: 't',
    ...(identity ? { identity } : {}),
  });
  const id = { ...here, startTicks: '1000' };

  it('is dead when its pid is gone or reused, in the same boot and pid namespace', () => {
    expect(provablyDead(holder(id), here, () => null)).toBe(true);
    expect(provablyDead(holder(id), here, () => '2000')).toBe(true);
  });

  it('is alive, or unknown, otherwise', () => {
    expect(provablyDead(holder(id), here, () => '1000')).toBe(false);
    expect(provablyDead(holder({ ...id, pidNamespace: 'pid:[1]' }), here, () => null)).toBe(false);
    expect(provablyDead(holder({ ...id, bootId: 'boot-0' }), here, () => null)).toBe(false);
    // A lock from before identities were recorded: nothing can be proven.
    expect(provablyDead(holder(), here, () => null)).toBe(false);
  });
});
