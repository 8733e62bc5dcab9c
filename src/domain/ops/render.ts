// The plan as text, the same for the CLI (and --dry-run) and the console's
// confirmation screen: checks, quorum before -> after, warnings, then steps.
import { describeLeftovers, type Journal, leftovers } from './journal.js';
import type { PlannedOperation } from './operation.js';
import { describePreview } from './quorum-preview.js';

export interface RenderOptions {
  ascii?: boolean;
  /** Show the gcloud / etcdctl equivalent of each step. */
  manual?: boolean;
}

export function renderPlanned(p: PlannedOperation, opts: RenderOptions = {}): string {
  const ok = opts.ascii ? 'ok ' : '✓';
  const bad = opts.ascii ? 'NO ' : '✗';
  const warn = opts.ascii ? '!' : '⚠';
  const lines: string[] = [];
  const plan = p.plan;
  lines.push(
    plan ? `Plan: ${plan.summary}   [operation ${plan.operationId}]` : `Request: ${p.request.kind} (no plan)`,
  );
  lines.push('', 'Preflight checks:');
  const width = Math.max(...p.checks.map((c) => c.name.length));
  for (const c of p.checks) lines.push(`  ${c.ok ? ok : bad} ${c.name.padEnd(width)}  ${c.reason}`);
  if (p.preview) {
    lines.push('', 'Quorum before → after:');
    lines.push(`  ${describePreview(p.preview, 'main')}`);
    lines.push(`  ${describePreview(p.preview, 'events')}`);
  }
  if (p.advisories.length) {
    lines.push('', 'Warnings:');
    for (const a of p.advisories) lines.push(`  ${warn} ${a.message}`);
  }
  if (plan) {
    lines.push('', `Steps (${plan.steps.length}):`);
    const pnr = plan.steps.findIndex((s) => !s.reversible);
    plan.steps.forEach((s, i) => {
      const n = String(i + 1).padStart(2);
      const mark = i === pnr ? '  [point of no return: a failure from here on finishes the removal]' : '';
      lines.push(`  ${n}. ${s.title}${mark}`);
      lines.push(`      changes: ${s.changes}`);
      if (s.undo) lines.push(`      undo:    ${s.undo}`);
      if (opts.manual) lines.push(`      by hand: ${s.manual}`);
    });
  }
  if (!p.ok) {
    lines.push('', 'Refused, nothing was changed:');
    for (const r of p.refusals) lines.push(`  ${bad} ${r}`);
  }
  return `${lines.join('\n')}\n`;
}

export function renderJournal(j: Journal): string {
  const lines = [
    `Operation ${j.operationId}: ${j.plan.summary}`,
    `  state: ${j.state} (started ${j.startedAt} by ${j.holder.user}@${j.holder.host}, ${j.holder.tool})`,
  ];
  if (j.error) lines.push(`  error: ${j.error}`);
  j.plan.steps.forEach((s, i) => {
    const rec = j.steps[i];
    const note = rec?.error ? ` (${rec.error})` : rec?.note ? ` (${rec.note})` : '';
    lines.push(`  ${String(i + 1).padStart(2)}. [${(rec?.status ?? '?').padEnd(11)}] ${s.title}${note}`);
  });
  if (j.state === 'failed') {
    lines.push('  left over:');
    for (const l of describeLeftovers(leftovers(j))) lines.push(`    ${l}`);
  }
  return `${lines.join('\n')}\n`;
}
