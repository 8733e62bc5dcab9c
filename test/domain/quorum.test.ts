import { describe, expect, it } from 'vitest';
import { canRemoveVoter, faultTolerance, quorumOf, survivesZoneLoss } from '../../src/domain/quorum.js';

describe('quorum math', () => {
  it('quorum is a strict majority of voters', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(quorumOf)).toEqual([1, 2, 2, 3, 3, 4, 4]);
    expect(quorumOf(0)).toBe(0);
  });

  it('fault tolerance counts spare healthy voters, -1 once quorum is lost', () => {
    expect(faultTolerance(3, 3)).toBe(1);
    expect(faultTolerance(3, 2)).toBe(0);
    expect(faultTolerance(3, 1)).toBe(-1);
    expect(faultTolerance(4, 4)).toBe(1);
    expect(faultTolerance(5, 5)).toBe(2);
    expect(faultTolerance(2, 2)).toBe(0);
    expect(faultTolerance(1, 1)).toBe(0);
  });

  it("removal follows KubeadmControlPlane's rule", () => {
    // 3 healthy, remove a healthy one: 2 left, both healthy, need 2.
    expect(canRemoveVoter(3, 3, true).ok).toBe(true);
    // 3 voters, one down, removing a healthy one leaves 1 healthy of 2: refuse.
    expect(canRemoveVoter(3, 2, true)).toMatchObject({ ok: false, votersLeft: 2, healthyLeft: 1, needed: 2 });
    // Removing the broken one is fine.
    expect(canRemoveVoter(3, 2, false).ok).toBe(true);
    // Never the last member.
    expect(canRemoveVoter(1, 1, true).ok).toBe(false);
  });

  it('zone loss', () => {
    expect(
      survivesZoneLoss(
        new Map([
          ['a', 1],
          ['b', 1],
          ['c', 1],
        ]),
      ).ok,
    ).toBe(true);
    expect(
      survivesZoneLoss(
        new Map([
          ['a', 2],
          ['b', 1],
        ]),
      ),
    ).toEqual({ ok: false, worstZone: 'a' });
    expect(
      survivesZoneLoss(
        new Map([
          ['a', 2],
          ['b', 2],
          ['c', 1],
        ]),
      ).ok,
    ).toBe(true);
  });
});
