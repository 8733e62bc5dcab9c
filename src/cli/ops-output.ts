// An operation's output on the CLI: progress for people on stderr as it runs,
// the result at the end, or one JSON document on stdout with --json.
import { formatBytes, formatSeconds } from '../domain/format.js';
import { describeLeftovers } from '../domain/ops/journal.js';
import type { PlannedOperation } from '../domain/ops/operation.js';
import { defragSizes } from '../domain/ops/plan-defrag.js';
import type { OpEvent, OpResult } from '../ops/events.js';

/** Progress for people on stderr: steps with elapsed time, the call log, catch-up at most once a second. */
export function progressPrinter(err: NodeJS.WritableStream): (e: OpEvent) => void {
  let total = 0;
  let lastProgress = 0;
  return (e) => {
    switch (e.type) {
      case 'operation-start':
        err.write(`${e.mode === 'run' ? 'running' : e.mode}: ${e.summary} [operation ${e.operationId}]\n`);
        break;
      case 'step-start':
        total = Math.max(total, e.index + 1);
        err.write(
          `${e.mode === 'undo' ? '↶' : '▶'} ${String(e.index + 1).padStart(2)}. ${e.mode === 'undo' ? 'undo: ' : ''}${e.step.title}\n`,
        );
        break;
      case 'step-end': {
        const mark =
          e.status === 'failed' || e.status === 'undo-failed' ? '✗' : e.status === 'skipped' ? '–' : '✓';
        const tail = e.error ? `: ${e.error}` : e.note ? `: ${e.note}` : '';
        err.write(
          `${mark} ${String(e.index + 1).padStart(2)}. ${e.status} in ${formatSeconds(e.elapsedMs)}${tail}\n`,
        );
        break;
      }
      case 'call':
        err.write(`      $ ${e.line}\n`);
        break;
      case 'progress':
        if (e.at - lastProgress >= 1000) {
          lastProgress = e.at;
          err.write(`      … ${e.message}\n`);
        }
        break;
      case 'note':
        err.write(`  note: ${e.message}\n`);
        break;
      case 'operation-end':
        break;
    }
  };
}

export function renderResult(r: OpResult): string {
  const lines: string[] = [];
  const took = formatSeconds(r.elapsedMs);
  if (r.outcome === 'done') {
    lines.push(
      `done: ${r.summary} in ${took}${r.cancelled ? ' (cancel came past the point of no return)' : ''}`,
    );
    for (const x of r.reasons) lines.push(`  note: ${x}`);
  } else if (r.outcome === 'refused') {
    lines.push('refused, nothing was changed:');
    for (const x of r.reasons) lines.push(`  ✗ ${x}`);
  } else if (r.outcome === 'rolled-back' && r.journal?.plan.remedy) {
    // Nothing of a reset or start can be undone: say what happened, and the next rung.
    const name = r.journal.plan.remedy.replica;
    lines.push(
      `${r.cancelled ? 'cancelled' : 'failed'} (${took}): ${r.summary}; nothing to roll back (a reset or start cannot be undone, and need not be)`,
    );
    for (const x of r.reasons) lines.push(`  ${x}`);
    lines.push(`  if ${name} stays unhealthy: kube-ha replace --replica ${name}`);
  } else if (r.outcome === 'rolled-back') {
    lines.push(`${r.cancelled ? 'cancelled' : 'failed'} and rolled back (${took}): ${r.summary}`);
    for (const x of r.reasons) lines.push(`  ${x}`);
  } else {
    lines.push(`FAILED and not rolled back (${took}): ${r.summary}`);
    for (const x of r.reasons) lines.push(`  ${x}`);
    lines.push('left over:');
    for (const l of describeLeftovers(r.leftovers)) lines.push(`  ${l}`);
    lines.push('finish with: kube-ha operation resume (or rollback), with the same target flags');
  }
  // A defrag's point: each member's database before and after.
  const sizes = defragSizes(r.journal?.facts ?? {});
  if (sizes.length && r.outcome !== 'refused') {
    lines.push('database size before → after:');
    for (const s of sizes)
      lines.push(
        `  etcd ${s.cluster.padEnd(6)} ${s.replica}: ${formatBytes(s.before)} → ${formatBytes(s.after)}`,
      );
  }
  // The copy taken before anything changed: what a restore would start from.
  const snapshot = r.journal?.facts['snapshot.main'];
  if (snapshot && r.outcome !== 'refused')
    lines.push(
      `etcd main before the change: ${snapshot} (revision ${r.journal?.facts['snapshot.main.revision'] ?? '?'})`,
    );
  if (r.timings.length && r.outcome !== 'refused') {
    const slow = [...r.timings].sort((a, b) => b.ms - a.ms).slice(0, 5);
    lines.push(
      `slowest steps: ${slow.map((t) => `${t.id}${t.mode === 'undo' ? ' (undo)' : ''} ${formatSeconds(t.ms)}`).join(', ')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function jsonOut(out: NodeJS.WritableStream, doc: unknown): void {
  out.write(`${JSON.stringify(doc, null, 2)}\n`);
}

export function plannedForJson(p: PlannedOperation) {
  return {
    ok: p.ok,
    refusals: p.refusals,
    checks: p.checks,
    advisories: p.advisories,
    preview: p.preview,
    plan: p.plan,
  };
}
