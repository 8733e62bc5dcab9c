// A fast subset of the fault matrix (npm run faults has every cell), on one
// shared one-replica lab: a kill followed by a rollback, and a kill past a
// remove's point of no return followed by a resume. (Rate limits ridden out:
// test/ops/compute-retry.test.ts and test/lab/compute/throttling.test.ts, and
// every cell of the full matrix.) Each cell checks the matrix's invariants: quorum and voters' VMs at
// every moment, consistency and the documented exit codes at the end.
import { afterAll, describe, expect, it } from 'vitest';
import { type Cell, describeFault, MatrixLab, runCell } from './matrix.js';

const lab = new MatrixLab('one');
afterAll(() => lab.down());

const CELLS: Cell[] = [
  { op: 'add 1→2', fault: { kind: 'kill', after: 'add.learner.events', recovery: 'rollback' } },
  { op: 'remove 2→1', fault: { kind: 'kill', after: 'remove.member.main', recovery: 'resume' } },
];

describe('fault matrix, fast subset', { timeout: 300_000 }, () => {
  it.each(
    CELLS.map((c) => [`${c.op} / ${describeFault(c.fault)}`, c] as const),
  )('%s', async (_name, cell) => {
    const r = await runCell(lab, cell);
    expect(r.invariants).toEqual({ quorum: [], 'vm-voter': [], consistent: [], exit: [] });
    // The monitor really watched: a cell with no observation proves nothing.
    expect(Object.keys(r.minSlack).sort()).toEqual(['events', 'main']);
  });
});
