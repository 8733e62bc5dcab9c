// Metrics and certificates beside a member's Status: loaded in the background
// at most once per interval, waited for briefly, and not waited for at all once
// nothing answered (a firewalled port must not slow every look).
import { describe, expect, it } from 'vitest';
import { Refreshing } from '../../src/sources/refreshing.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Refreshing', () => {
  it('loads once per interval, waits at most the grace, and serves a late answer next time', async () => {
    let loads = 0;
    const r = new Refreshing<number | null>(60_000, async () => {
      loads++;
      await sleep(150);
      return 7;
    });
    const t = Date.now();
    expect(await r.get('a', 20)).toBeUndefined();
    expect(Date.now() - t).toBeLessThan(120);
    expect(await r.get('a', 1000)).toBe(7);
    expect(await r.get('a', 1000)).toBe(7);
    expect(loads).toBe(1);
  });

  it('after a null (nothing answered), a load in flight is not waited for', async () => {
    let answer: number | null = null;
    const r = new Refreshing<number | null>(0, async () => {
      await sleep(200);
      return answer;
    });
    expect(await r.get('a', 1000)).toBeNull();
    answer = 3;
    const t = Date.now();
    expect(await r.get('a', 1000)).toBeNull();
    expect(Date.now() - t).toBeLessThan(100);
    await sleep(250);
    expect(await r.get('a', 0)).toBe(3);
  });
});
