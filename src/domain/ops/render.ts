// The plan as one document (pure): what will happen, the checks with their
// reasons, quorum before → after, warnings, the steps, refusals. The CLI (and
// --dry-run) prints it as text here; the console draws the same document as
// fitted lines (src/ui/ops/lines.ts), so both say the same.
import { describeLeftovers, type Journal, leftovers } from './journal.js';
import type { PlannedOperation } from './operation.js';
import { describePreview } from './quorum-preview.js';

export interface PlanDocStep {
  /** 1-based, as printed. */
  n: number;
  title: string;
  /** The first step that cannot be undone: a failure from here on finishes the operation. */
  pointOfNoReturn: boolean;
  changes: string;
  undo: string | null;
  /** The gcloud / etcdctl equivalent. */
  manual: string;
}

export interface PlanDocument {
  heading: { plan: true; summary: string; operationId: string } | { plan: false; request: string };
  checks: { ok: boolean; name: string; reason: string }[];
  /** One line per cluster, `etcd main: voters 3 → 4 · ...`; empty without a preview. */
  quorum: string[];
  warnings: string[];
  steps: PlanDocStep[];
  /** Why it may not run; empty when it may. */
  refusals: string[];
}

/** The document's headings and marks, the same words on every surface. */
export const PLAN_WORDS = {
  noPlan: '(no plan)',
  checks: 'Preflight checks:',
  quorum: 'Quorum before → after:',
  warnings: 'Warnings:',
  steps: (n: number) => `Steps (${n}):`,
  refused: 'Refused, nothing was changed:',
  pointOfNoReturn: 'point of no return',
  pointOfNoReturnWhy: 'a failure from here on finishes the removal',
} as const;

export function planDocument(p: PlannedOperation): PlanDocument {
  const plan = p.plan;
  const pnr = plan ? plan.steps.findIndex((s) => !s.reversible) : -1;
  return {
    heading: plan
      ? { plan: true, summary: plan.summary, operationId: plan.operationId }
      : { plan: false, request: p.request.kind },
    checks: p.checks.map((c) => ({ ok: c.ok, name: c.name, reason: c.reason })),
    quorum: p.preview ? [describePreview(p.preview, 'main'), describePreview(p.preview, 'events')] : [],
    warnings: p.advisories.map((a) => a.message),
    steps: (plan?.steps ?? []).map((s, i) => ({
      n: i + 1,
      title: s.title,
      pointOfNoReturn: i === pnr,
      changes: s.changes,
      undo: s.undo,
      manual: s.manual,
    })),
    refusals: p.ok ? [] : p.refusals,
  };
}

export interface RenderOptions {
  ascii?: boolean;
  /** Show the gcloud / etcdctl equivalent of each step. */
  manual?: boolean;
}

export function renderPlanned(p: PlannedOperation, opts: RenderOptions = {}): string {
  const ok = opts.ascii ? 'ok ' : '✓';
  const bad = opts.ascii ? 'NO ' : '✗';
  const warn = opts.ascii ? '!' : '⚠';
  const W = PLAN_WORDS;
  const d = planDocument(p);
  const lines: string[] = [];
  lines.push(
    d.heading.plan
      ? `Plan: ${d.heading.summary}   [operation ${d.heading.operationId}]`
      : `Request: ${d.heading.request} ${W.noPlan}`,
  );
  lines.push('', W.checks);
  const width = Math.max(...d.checks.map((c) => c.name.length));
  for (const c of d.checks) lines.push(`  ${c.ok ? ok : bad} ${c.name.padEnd(width)}  ${c.reason}`);
  if (d.quorum.length) lines.push('', W.quorum, ...d.quorum.map((q) => `  ${q}`));
  if (d.warnings.length) lines.push('', W.warnings, ...d.warnings.map((w) => `  ${warn} ${w}`));
  if (d.heading.plan) {
    lines.push('', W.steps(d.steps.length));
    for (const s of d.steps) {
      const mark = s.pointOfNoReturn ? `  [${W.pointOfNoReturn}: ${W.pointOfNoReturnWhy}]` : '';
      lines.push(`  ${String(s.n).padStart(2)}. ${s.title}${mark}`);
      lines.push(`      changes: ${s.changes}`);
      if (s.undo) lines.push(`      undo:    ${s.undo}`);
      if (opts.manual) lines.push(`      by hand: ${s.manual}`);
    }
  }
  if (d.refusals.length) lines.push('', W.refused, ...d.refusals.map((r) => `  ${bad} ${r}`));
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
