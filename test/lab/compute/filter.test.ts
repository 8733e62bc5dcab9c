import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/lab/compute/errors.js';
import { parseFilter } from '../../../src/lab/compute/filter.js';

const items = [
  {
    name: 'kubernetes-master',
    status: 'RUNNING',
    labels: { role: 'cp' },
    networkInterfaces: [{ networkIP: '10.0.0.2' }],
  },
  {
    name: 'kubernetes-master-a1b',
    status: 'STAGING',
    labels: { role: 'cp' },
    networkInterfaces: [{ networkIP: '10.0.0.3' }],
  },
  { name: 'kubernetes-master-pd', status: 'RUNNING', networkInterfaces: [{ networkIP: '10.0.0.4' }] },
  { name: 'kubernetes-minion-1', status: 'RUNNING', scheduling: { automaticRestart: false } },
];
const names = (filter: string) => items.filter(parseFilter(filter)).map((i) => i.name);

describe('list filters', () => {
  it('matches the regex dialect against the whole field', () => {
    expect(names('name eq "kubernetes-master(-[a-z0-9]{3})?"')).toEqual([
      'kubernetes-master',
      'kubernetes-master-a1b',
    ]);
    expect(names('name eq kubernetes-master')).toEqual(['kubernetes-master']);
    expect(names("name eq 'kubernetes-m.*'")).toHaveLength(4);
    expect(names('name ne .*master.*')).toEqual(['kubernetes-minion-1']);
    expect(names('(name eq kubernetes-master.*) (status ne RUNNING)')).toEqual(['kubernetes-master-a1b']);
    // RE2, not JavaScript: inline flags work, lookarounds and backreferences are refused.
    expect(names('name eq "(?i)KUBERNETES-MASTER"')).toEqual(['kubernetes-master']);
    for (const notRe2 of ['name eq "kubernetes(?=-master)"', 'name eq "(k)\\1"'])
      expect(() => names(notRe2), notRe2).toThrow(/Invalid regular expression/);
    expect(names('networkInterfaces.networkIP eq 10\\.0\\.0\\.[34]')).toEqual([
      'kubernetes-master-a1b',
      'kubernetes-master-pd',
    ]);
  });

  it('matches AIP-160 comparisons, with OR binding tighter than AND', () => {
    expect(names('name = "kubernetes-master"')).toEqual(['kubernetes-master']);
    expect(names('name = kubernetes-master-*')).toEqual(['kubernetes-master-a1b', 'kubernetes-master-pd']);
    expect(names('name != kubernetes-master AND status = RUNNING')).toEqual([
      'kubernetes-master-pd',
      'kubernetes-minion-1',
    ]);
    expect(names('status = STAGING OR name = kubernetes-minion-1 AND labels.role:*')).toEqual([
      'kubernetes-master-a1b',
    ]);
    expect(names('(status = STAGING) OR (name = kubernetes-minion-1)')).toEqual([
      'kubernetes-master-a1b',
      'kubernetes-minion-1',
    ]);
    expect(names('scheduling.automaticRestart = false')).toEqual(['kubernetes-minion-1']);
    expect(names('NOT labels.role:*')).toEqual(['kubernetes-master-pd', 'kubernetes-minion-1']);
    expect(names('')).toHaveLength(4);
  });

  it('rejects malformed and mixed filters with a 400', () => {
    for (const bad of ['name eq (', 'name ~ x', '(name eq a) (status = RUNNING)', '(name = a']) {
      let err: unknown;
      try {
        parseFilter(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe(400);
      expect((err as ApiError).message).toContain("Invalid value for field 'filter'");
    }
  });
});
