// Runs the matrix cells of some operations on one shared lab, prints the table
// and appends it to the report file (FAULTS_REPORT, default in the temp dir).
// FAULTS_MATCH narrows the cells to those whose description contains it, to
// rerun one cell: FAULTS_MATCH='kill -9 after add.promote.main → rollback';
// FAULTS_OPS='add 1→2,remove 2→1' runs only those operations.
import { appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import {
  type CellResult,
  cellsFor,
  describeFault,
  MatrixLab,
  OPS,
  type OpName,
  planOf,
  renderTable,
  runCell,
} from './matrix.js';

export const REPORT = process.env.FAULTS_REPORT ?? join(tmpdir(), 'kube-ha-faults.md');

export async function runMatrix(topology: 'one' | 'three', ops: OpName[]): Promise<CellResult[]> {
  const lab = new MatrixLab(topology);
  const results: CellResult[] = [];
  const match = process.env.FAULTS_MATCH;
  // FAULTS_SKIP_PASSED=LOG: skip the cells an earlier run's output (LOG) shows as passed, to finish a cut run.
  const skip = new Set(
    process.env.FAULTS_SKIP_PASSED
      ? readFileSync(process.env.FAULTS_SKIP_PASSED, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('✓ '))
          .map((l) => l.slice(2, l.indexOf(': exits')))
      : [],
  );
  try {
    const only = process.env.FAULTS_OPS?.split(',').map((x) => x.trim());
    for (const op of ops) {
      if (only && !only.includes(op)) continue;
      await lab.resize(OPS[op].start);
      const cells = cellsFor(op, await planOf(lab, op)).filter(
        (c) =>
          (!match || `${c.op} ${describeFault(c.fault)}`.includes(match)) &&
          !skip.has(`${c.op} / ${describeFault(c.fault)}`),
      );
      for (const cell of cells) {
        const r = await runCell(lab, cell);
        results.push(r);
        const bad = Object.entries(r.invariants).filter(([, p]) => p.length);
        process.stdout.write(
          `${bad.length ? '✗' : '✓'} ${cell.op} / ${describeFault(cell.fault)}: exits ${r.exits.join(' → ')}, ${(r.ms / 1000).toFixed(0)} s${bad.length ? ` — ${bad.map(([k, p]) => `${k}: ${p.join('; ')}`).join(' / ')}` : ''}\n`,
        );
      }
    }
  } finally {
    await lab.down();
  }
  const table = renderTable(results);
  appendFileSync(REPORT, `\n## ${topology}-replica lab: ${ops.join(', ')}\n\n${table}\n`);
  process.stdout.write(`${table}\n(report: ${REPORT})\n`);
  const failed = results.filter((r) => Object.values(r.invariants).some((p) => p.length));
  expect(failed.map((r) => `${r.cell.op} / ${describeFault(r.cell.fault)}`)).toEqual([]);
  return results;
}
