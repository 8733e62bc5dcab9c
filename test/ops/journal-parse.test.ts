// Journals read back from disk: every field the tool reads is checked, and a
// broken one is reported with its place in the document, never a crash later.
import { describe, expect, it } from 'vitest';
import { updateStep } from '../../src/domain/ops/journal.js';
import { parseJournal, salvageSteps, validateJournal } from '../../src/domain/ops/journal-parse.js';
import { describeProgress } from '../../src/domain/ops/journal-report.js';
import type { OpRequest } from '../../src/domain/ops/request.js';
import { journalFor } from './journal-fixtures.js';

/** A deep copy, changed by `mutate`, as text. */
// biome-ignore lint/suspicious/noExplicitAny: a journal broken on purpose, field by field
function broken(mutate: (j: Record<string, any>) => void): string {
  const j = JSON.parse(JSON.stringify(journalFor()));
  mutate(j);
  return JSON.stringify(j);
}

describe('parseJournal', () => {
  it('reads back what the store writes, for every plan kind', () => {
    for (const r of [
      { kind: 'add', zone: 'us-central1-f', name: null },
      { kind: 'remove', replica: 'kubernetes-master', zone: null },
      { kind: 'replace', replica: 'kubernetes-master', zone: null, force: true },
    ] as OpRequest[]) {
      const j = updateStep(journalFor(r), journalFor(r).plan.steps[0]!.id, { status: 'done', note: 'x' });
      const res = parseJournal(JSON.stringify(j, null, 2));
      expect(res).toEqual({ ok: true, journal: j });
    }
  });

  it.each([
    ['an empty file', () => '', /^empty file$/],
    [
      'a truncated file',
      () => JSON.stringify(journalFor()).slice(0, 200),
      /^not JSON \(.*\): truncated or not a journal/,
    ],
    [
      'an unknown format',
      () =>
        broken((j) => {
          j.format = 2;
        }),
      /^unknown format 2 \(this kube-ha reads format 1/,
    ],
    ['no format at all', () => '{"hello":1}', /^unknown format missing/],
    [
      'a plan without steps (format 1)',
      () => broken((j) => delete j.plan.steps),
      /^plan\.steps: missing, expected a list/,
    ],
    ['no plan', () => broken((j) => delete j.plan), /^plan: missing, expected an object/],
    [
      'a plan of another operation',
      () =>
        broken((j) => {
          j.plan.operationId = 'op-other';
        }),
      /^plan\.operationId: "op-other", expected the journal's operation op-test/,
    ],
    [
      'fewer step records than plan steps',
      () => broken((j) => j.steps.pop()),
      /^steps: .*expected one per plan step/,
    ],
    [
      'a step record out of place',
      () =>
        broken((j) => {
          j.steps[1].id = j.steps[2].id;
        }),
      /^steps\[1\]\.id: .*\(the plan's step at this place\)/,
    ],
    [
      'an unknown step status',
      () =>
        broken((j) => {
          j.steps[0].status = 'halfway';
        }),
      /^steps\[0\]\.status: "halfway", expected one of pending, running/,
    ],
    [
      'an unknown state',
      () =>
        broken((j) => {
          j.state = 'paused';
        }),
      /^state: "paused", expected one of running, rolling-back/,
    ],
    ['no holder', () => broken((j) => delete j.holder), /^holder: missing, expected an object/],
    [
      'a holder without a pid',
      () => broken((j) => delete j.holder.pid),
      /^holder\.pid: missing, expected a number/,
    ],
    [
      'a step kind it does not know',
      () =>
        broken((j) => {
          j.plan.steps[0].kind = 'disk.teleport';
        }),
      /^plan\.steps\[0\]\.kind: "disk\.teleport", expected a step kind/,
    ],
    [
      "a step's args without a field its runner reads",
      () =>
        broken(
          (j) => delete j.plan.steps.find((s: { kind: string }) => s.kind === 'instance.insert').args.zone,
        ),
      /^plan\.steps\[\d+\]\.args\.zone: missing, expected a non-empty string/,
    ],
    [
      'a duplicated step id',
      () =>
        broken((j) => {
          j.plan.steps[1].id = j.plan.steps[0].id;
          j.steps[1].id = j.steps[0].id;
        }),
      /^plan\.steps\[1\]\.id: .*expected an id no other step has/,
    ],
    [
      'an add without plan.add',
      () =>
        broken((j) => {
          j.plan.add = null;
        }),
      /^plan\.add: null, expected the replica a add adds/,
    ],
    [
      'a fact that is not a string',
      () =>
        broken((j) => {
          j.facts = { 'member.main': 42 };
        }),
      /^facts\.member\.main: 42, expected a string/,
    ],
    [
      'a bad time',
      () =>
        broken((j) => {
          j.updatedAt = 'yesterday';
        }),
      /^updatedAt: "yesterday", expected an ISO time/,
    ],
  ])('rejects %s with the reason', (_what, text, reason) => {
    const res = parseJournal(text());
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.reason).toMatch(reason);
  });

  it('rejects a value that is not an object', () => {
    expect(validateJournal([1, 2])).toEqual({ ok: false, reason: 'journal: [1,2], expected an object' });
    expect(validateJournal(null)).toEqual({ ok: false, reason: 'journal: null, expected an object' });
  });

  it('salvages step ids and statuses from a journal it cannot use', () => {
    const text = broken((j) => {
      delete j.plan;
      j.steps[0].status = 'done';
    });
    expect(salvageSteps(text).slice(0, 2)).toEqual(['snapshot.main: done', 'add.disk: pending']);
    expect(salvageSteps('{oops')).toEqual([]);
  });

  it('describes what an operation did and what it leaves', () => {
    const j = updateStep(journalFor(), 'add.disk', { status: 'done' });
    const lines = describeProgress(j);
    expect(lines[0]).toMatch(/^done: Create disk kubernetes-master-\w+-pd/);
    expect(lines).toContain('left:');
    expect(lines.some((l) => /undo: delete disk/.test(l))).toBe(true);
  });
});
