// The helpers that guard the lab tests must be able to fail: a status that
// never parsed is not "consistent", and a journal that cannot be read is not
// "no journal left".
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { journalFor } from './journal-fixtures.js';
import { journals, type OpsLab, settle } from './lab-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'kube-ha-helpers-'));
// Not a lab: observing it fails.
const lab: OpsLab = {
  dir: join(dir, 'nolab'),
  env: { XDG_STATE_HOME: join(dir, 'state') },
  stateDir: join(dir, 'state', 'kube-ha'),
};

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('lab test helpers', () => {
  it('settle reports a status it could not observe, and the timeout', async () => {
    const problems = await settle(lab, 3, 300);
    // status() observes in-process: its error is the lab context's.
    expect(problems[0]).toMatch(/^could not observe: no lab in /);
    expect(problems.at(-1)).toBe('not consistent within 300 ms');
  });

  it('journals fails on a journal it cannot read, and reads the others', () => {
    const d = join(lab.stateDir, 'operations', 'lab-x');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'op-test.json'), JSON.stringify(journalFor()));
    expect(journals(lab).map((j) => j.operationId)).toEqual(['op-test']);
    writeFileSync(join(d, 'op-cut.json'), '{"format":1');
    expect(() => journals(lab)).toThrow(/journal .*op-cut\.json cannot be read: not JSON/);
  });
});
