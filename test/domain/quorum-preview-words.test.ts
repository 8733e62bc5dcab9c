import { describe, expect, it } from 'vitest';
import {
  describePreview,
  type QuorumFigures,
  type QuorumPreview,
} from '../../src/domain/ops/quorum-preview.js';

function fig(voters: number, healthyVoters: number, quorum: number, faultTolerance: number): QuorumFigures {
  return {
    replicas: voters,
    voters,
    healthyVoters,
    quorum,
    faultTolerance,
    zones: {},
    survivesZoneLoss: false,
  };
}

function preview(before: QuorumFigures, after: QuorumFigures): QuorumPreview {
  return { main: { before, after }, events: { before, after } };
}

describe('describePreview: the quorum line of a plan', () => {
  it('counts failures tolerated on both sides when both keep quorum', () => {
    expect(describePreview(preview(fig(3, 3, 2, 1), fig(4, 4, 3, 1)))).toBe(
      'etcd main: voters 3 → 4 · healthy 3 → 4 · quorum 2 → 3 · tolerates 1 → 1 failure',
    );
    expect(describePreview(preview(fig(3, 2, 2, 0), fig(3, 3, 2, 1)), 'events')).toBe(
      'etcd events: voters 3 → 3 · healthy 2 → 3 · quorum 2 → 2 · tolerates 0 → 1 failure',
    );
  });

  it('says QUORUM LOST for a side without quorum, never "tolerates QUORUM LOST failures"', () => {
    const lost = describePreview(preview(fig(3, 1, 2, -1), fig(3, 2, 2, 0)));
    expect(lost).toBe(
      'etcd main: voters 3 → 3 · healthy 1 → 2 · quorum 2 → 2 · QUORUM LOST → tolerates 0 failures',
    );
    const both = describePreview(preview(fig(3, 1, 2, -1), fig(3, 1, 2, -1)));
    expect(both).toMatch(/· QUORUM LOST → QUORUM LOST$/);
    expect(describePreview(preview(fig(2, 2, 2, 0), fig(2, 1, 2, -1)))).toMatch(
      /· tolerates 0 failures → QUORUM LOST$/,
    );
  });
});
