// New operations are refused (exit 3) while a journal in the state dir cannot
// be read: it may be the only record of an operation left half-done.
import { describe, expect, it } from 'vitest';
import { planOperation } from '../../src/domain/ops/operation.js';
import { journalsReadable } from '../../src/domain/ops/preflight.js';
import { ctx, status } from './fixtures.js';

const UNREADABLE = {
  path: '/state/kube-ha/operations/lab-1/op-x.json',
  operationId: 'op-x',
  reason: 'plan.steps: missing, expected a list',
};

describe('preflight: journals-readable', () => {
  it('refuses add, remove and replace while a journal cannot be read, naming it and how to resolve it', () => {
    for (const request of [
      { kind: 'add', zone: 'us-central1-f', name: null },
      { kind: 'remove', replica: 'kubernetes-master-x7k', zone: null },
      { kind: 'replace', replica: 'kubernetes-master-x7k', zone: null, force: true },
    ] as const) {
      const p = planOperation(status(3), request, ctx({ unreadableJournals: [UNREADABLE] }));
      expect(p.ok).toBe(false);
      expect(p.refusals).toEqual([
        'journals-readable: journal /state/kube-ha/operations/lab-1/op-x.json cannot be read: plan.steps: missing, expected a list; inspect it, then kube-ha operation discard op-x --confirm op-x',
      ]);
      expect(planOperation(status(3), request, ctx({ unreadableJournals: [] })).ok).toBe(true);
    }
  });

  it('counts the others, and names a directory that cannot be listed', () => {
    const two = journalsReadable(
      status(3),
      { kind: 'add', zone: 'us-central1-f', name: null },
      ctx({
        unreadableJournals: [UNREADABLE, { ...UNREADABLE, path: '/p/op-y.json', operationId: 'op-y' }],
      }),
    );
    expect(two.reason).toMatch(/\(and 1 more: kube-ha operation status\)/);
    const dir = journalsReadable(
      status(3),
      { kind: 'add', zone: 'us-central1-f', name: null },
      ctx({
        unreadableJournals: [{ path: '/p', operationId: null, reason: 'cannot list the journals: EACCES' }],
      }),
    );
    expect(dir).toEqual({
      name: 'journals-readable',
      ok: false,
      reason: 'journal /p cannot be read: cannot list the journals: EACCES; fix its permissions',
    });
  });
});
