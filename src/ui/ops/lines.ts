// The operator-flow screens as fitted lines (pure): the zone picker, the plan
// with its checks, quorum before → after and warnings, the running operation
// (steps with elapsed time, the learner's catch-up, the call log), the
// outcome, and an unfinished operation found at start.

import { formatSeconds } from '../../domain/format.js';
import { describeLeftovers } from '../../domain/ops/journal.js';
import type { PlannedOperation } from '../../domain/ops/operation.js';
import { type RecoverDiagnosis, renderDiagnosis } from '../../domain/ops/recover.js';
import type { RemedyChoice } from '../../domain/ops/remedy-choice.js';
import { PLAN_WORDS, type PlanDocument, planDocument } from '../../domain/ops/render.js';
import type { OpResult } from '../../ops/events.js';
import { type OpsCommand, type OpsScreen, opsHint, opsScreenHints } from '../keys/opsKeys.js';
import { fitLine, type Line, pack, seg } from '../text.js';
import type { ColorRole, Theme } from '../theme.js';
import type { OpsRun, OpsStep, OpsStepStatus, ZoneChoice } from './opsStore.js';

/** A screen's key hints from the key table: `↑/k previous · ↓/j next · Enter plan · Esc cancel`. */
export function hintLine(screen: OpsScreen, theme: Theme, commands?: OpsCommand[]): Line {
  const g = theme.glyphs;
  const hints = commands ? commands.map((c) => opsHint(screen, c, g)) : opsScreenHints(screen, g);
  return hints.flatMap((h, i) => [...(i ? [seg(g.sep, { role: 'muted' })] : []), seg(h, { role: 'muted' })]);
}

export function fitted(lines: Line[], width: number, theme: Theme): Line[] {
  return lines.map((l) => fitLine(l, width, theme.glyphs.ellipsis));
}

export function zonePickerLines(zones: ZoneChoice[], index: number, theme: Theme, width: number): Line[] {
  const g = theme.glyphs;
  const fewest = Math.min(...zones.map((z) => z.replicas));
  const lines: Line[] = [
    [seg('Add a replica: ', { bold: true }), seg('choose its zone')],
    [],
    ...zones.map((z, i): Line => {
      const here = i === index;
      return [
        seg(here ? ` ${g.pointer} ` : '   ', { role: 'accent', bold: true }),
        seg(z.zone.padEnd(24), { bold: here, inverse: here }),
        seg(`  ${z.replicas} replica${z.replicas === 1 ? '' : 's'}`, { role: 'muted' }),
        seg(z.replicas === fewest ? '  (fewest)' : '', { role: 'muted' }),
      ];
    }),
    [],
    hintLine('zone', theme),
  ];
  return fitted(lines, width, theme);
}

/** V after quorum loss: kube-ha recover's diagnosis, as the CLI prints it, then what Enter does. */
export function quorumLines(d: RecoverDiagnosis, theme: Theme, width: number): Line[] {
  const first = d.remedies[0];
  const lines: Line[] = [
    [seg('Quorum lost: kube-ha recover', { bold: true, role: 'error' })],
    [],
    ...renderDiagnosis(d).map((text): Line => [seg(text)]),
    [],
    d.verdict === 'transient' && first
      ? [seg(`Enter plans: kube-ha ${first.kind} --replica ${first.replica}`, { role: 'accent', bold: true })]
      : d.verdict === 'wait'
        ? [seg('Not known yet: Esc, and V again once every VM status is known', { role: 'warn', bold: true })]
        : [
            seg('A rebuild from a survivor: kube-ha recover --from REPLICA (the CLI)', {
              role: 'warn',
              bold: true,
            }),
          ],
    [],
    hintLine('quorum', theme),
  ];
  return fitted(lines, width, theme);
}

/** R on a sick replica: the lighter rung first, with why, and the replace as the further option. */
export function remedyLines(replica: string, choice: RemedyChoice, theme: Theme, width: number): Line[] {
  const what =
    choice.kind === 'start'
      ? `start its VM (instances.start): it boots from its disks, with its etcd members`
      : `reset its VM (instances.reset): a hard reboot; its disks and etcd members stay`;
  const lines: Line[] = [
    [seg(`Repair ${replica}: `, { bold: true }), seg(choice.why, { role: 'warn' })],
    [],
    [
      seg(` ${theme.glyphs.pointer} `, { role: 'accent', bold: true }),
      seg(`${choice.kind}: `, { bold: true }),
      seg(what),
    ],
    [
      seg('   replace: ', { role: 'muted' }),
      seg('a new VM and member, the old disk deleted once verified: if it stays unhealthy', {
        role: 'muted',
      }),
    ],
    [],
    hintLine('remedy', theme),
  ];
  return fitted(lines, width, theme);
}

/**
 * The plan screen above the confirmation prompt: the plan document the CLI
 * prints (src/domain/ops/render.ts), drawn as fitted lines. Passing checks
 * fold into one line and steps are cut when the rows do not suffice.
 */
export function planLines(p: PlannedOperation, theme: Theme, width: number, rows: number): Line[] {
  const g = theme.glyphs;
  const W = PLAN_WORDS;
  const d = planDocument(p);
  const arrows = (text: string) => text.replaceAll('→', g.arrow);
  const head: Line[] = [
    d.heading.plan
      ? [
          seg('Plan: ', { bold: true }),
          seg(d.heading.summary, { bold: true }),
          seg(`   [operation ${d.heading.operationId}]`, { role: 'muted' }),
        ]
      : [seg(`Request: ${d.heading.request} `, { bold: true }), seg(W.noPlan, { role: 'error' })],
  ];
  const checkLine = (c: PlanDocument['checks'][number]): Line => [
    seg(`  ${c.ok ? g.ok : g.error} `, { role: c.ok ? 'ok' : 'error' }),
    seg(c.name, { bold: !c.ok }),
    seg(`  ${c.reason}`, { role: c.ok ? 'muted' : 'error' }),
  ];
  const passed = d.checks.filter((c) => c.ok);
  const checksFull: Line[] = [[seg(W.checks, { bold: true })], ...d.checks.map(checkLine)];
  const checksShort: Line[] = [
    [seg(W.checks, { bold: true })],
    ...(passed.length
      ? [[seg(`  ${g.ok} `, { role: 'ok' }), seg(`${passed.length} passed`, { role: 'muted' })] as Line]
      : []),
    ...d.checks.filter((c) => !c.ok).map(checkLine),
  ];
  const quorum: Line[] = d.quorum.length
    ? [[seg(arrows(W.quorum), { bold: true })], ...d.quorum.map((q): Line => [seg(`  ${arrows(q)}`)])]
    : [];
  const warnings: Line[] = d.warnings.length
    ? [
        [seg(W.warnings, { bold: true, role: 'warn' })],
        ...d.warnings.map((w): Line => [seg(`  ${g.warn} ${w}`, { role: 'warn', bold: true })]),
      ]
    : [];
  const refusals: Line[] = d.refusals.length
    ? [
        [seg(W.refused, { bold: true, role: 'error' })],
        ...d.refusals.map((r): Line => [seg(`  ${g.error} ${r}`, { role: 'error' })]),
      ]
    : [];
  // The point of no return says why when the line has room, as the CLI does.
  const stepLines: Line[] = d.steps.map((s) =>
    pack(
      [
        { segs: [seg(`  ${String(s.n).padStart(2)}. `, { role: 'muted' }), seg(s.title)] },
        {
          segs: s.pointOfNoReturn
            ? [seg(`  [${W.pointOfNoReturn}: ${W.pointOfNoReturnWhy}]`, { role: 'warn' })]
            : [],
          short: [seg(`  [${W.pointOfNoReturn}]`, { role: 'warn' })],
        },
      ],
      width,
      g.ellipsis,
    ),
  );
  const gap: Line[] = [[]];
  const build = (checks: Line[], steps: Line[]) => [
    ...head,
    ...gap,
    ...checks,
    ...(quorum.length ? [...gap, ...quorum] : []),
    ...(warnings.length ? [...gap, ...warnings] : []),
    ...(steps.length ? [...gap, [seg(W.steps(stepLines.length), { bold: true })], ...steps] : []),
    ...(refusals.length ? [...gap, ...refusals] : []),
  ];
  let lines = build(checksFull, stepLines);
  if (lines.length > rows) lines = build(checksShort, stepLines);
  if (lines.length > rows && stepLines.length) {
    const room = Math.max(1, stepLines.length - (lines.length - rows) - 1);
    lines = build(checksShort, [
      ...stepLines.slice(0, room),
      [seg(`  ${g.ellipsis} ${stepLines.length - room} more steps`, { role: 'muted' })],
    ]);
  }
  return fitted(lines.slice(0, Math.max(0, rows)), width, theme);
}

export const STEP_ROLE: Record<OpsStepStatus, ColorRole | undefined> = {
  pending: 'muted',
  running: 'accent',
  done: 'ok',
  skipped: 'muted',
  failed: 'error',
  undoing: 'warn',
  undone: 'warn',
  'undo-failed': 'error',
};

export function stepMark(status: OpsStepStatus, theme: Theme): string {
  const a = theme.ascii;
  switch (status) {
    case 'pending':
      return a ? '.' : '·';
    case 'running':
      return a ? '>' : '▶';
    case 'done':
      return theme.glyphs.ok;
    case 'skipped':
      return a ? '-' : '–';
    case 'failed':
    case 'undo-failed':
      return theme.glyphs.error;
    case 'undoing':
    case 'undone':
      return a ? '<' : '↶';
  }
}

function stepElapsed(s: OpsStep, now: number): string {
  if (s.startedAt !== null) return formatSeconds(now - s.startedAt);
  if (s.elapsedMs !== null) return formatSeconds(s.elapsedMs);
  return '';
}

/** `[██████░░░░] 1234 / 2000` */
export function progressBar(current: number, target: number, width: number, theme: Theme): string {
  const frac = target > 0 ? Math.min(1, Math.max(0, current / target)) : 0;
  const filled = Math.round(frac * width);
  const [on, off] = theme.ascii ? ['#', '-'] : ['█', '░'];
  return `[${on.repeat(filled)}${off.repeat(width - filled)}]`;
}

function progressLine(run: OpsRun, theme: Theme, width: number): Line | null {
  const p = run.progress;
  if (!p) return null;
  if (p.current === null || p.target === null) return [seg('       '), seg(p.message, { role: 'muted' })];
  const barWidth = Math.max(10, Math.min(40, width - 50));
  return [
    seg('       '),
    seg(progressBar(p.current, p.target, barWidth, theme), { role: 'accent' }),
    seg(` applied ${p.current} / leader ${p.target}`),
    seg(`  ${p.message}`, { role: 'muted' }),
  ];
}

/** Steps, catch-up and call log of the running (or ended) operation, fitted to `rows`. */
export function operationLines(
  run: OpsRun,
  now: number,
  theme: Theme,
  width: number,
  rows: number,
  askingCancel = false,
): Line[] {
  const end = run.endedAt ?? now;
  const verb = run.mode === 'run' ? 'Running' : run.mode === 'resume' ? 'Resuming' : 'Rolling back';
  const head: Line[] = [
    [
      seg(`${run.endedAt ? 'Operation' : verb}: `, { bold: true }),
      seg(run.summary, { bold: true }),
      seg(`   ${formatSeconds(end - run.startedAt)}`, { role: 'muted' }),
      seg(`   [operation ${run.operationId}]`, { role: 'muted' }),
    ],
  ];
  const steps: Line[] = [];
  run.steps.forEach((s, i) => {
    const detail = s.error ? `: ${s.error}` : s.note ? `: ${s.note}` : '';
    steps.push([
      seg(` ${stepMark(s.status, theme)} `, { role: STEP_ROLE[s.status], bold: true }),
      seg(`${String(i + 1).padStart(2)}. `, { role: 'muted' }),
      seg(s.title, { bold: s.status === 'running' || s.status === 'undoing' }),
      seg(`  ${s.status}`, { role: STEP_ROLE[s.status] }),
      seg(stepElapsed(s, now) ? ` ${stepElapsed(s, now)}` : ''),
      seg(detail, { role: s.error ? 'error' : 'muted' }),
    ]);
    if (run.progress?.stepId === s.id) {
      const p = progressLine(run, theme, width);
      if (p) steps.push(p);
    }
  });
  const notes: Line[] = run.notes.slice(-2).map((n) => [seg(`  note: ${n}`, { role: 'warn' })]);
  const hint: Line[] = run.endedAt
    ? []
    : [
        run.cancelling
          ? [seg('cancelling: rolling back after the current step...', { role: 'warn', bold: true })]
          : askingCancel
            ? cancelQuestion(theme)
            : [seg(opsHint('running', 'ask-cancel', theme.glyphs), { bold: true, role: 'accent' })],
      ];
  const fixed = head.length + 1 + steps.length + notes.length + 2 + hint.length;
  const logRows = Math.max(1, rows - fixed);
  const calls = run.calls.slice(-logRows);
  const log: Line[] = [
    [seg('Calls ', { bold: true }), seg(`(${run.calls.length}, newest last)`, { role: 'muted' })],
    ...(calls.length
      ? calls.map((c): Line => [seg(`  $ ${c}`, { role: 'muted' })])
      : [[seg('  (none yet)', { role: 'muted' })]]),
  ];
  const lines = [...head, [], ...steps, ...notes, [], ...log, ...hint];
  // Too few rows: keep the head, the steps around the current one, and the hint.
  if (lines.length > rows) {
    const tail = [...hint];
    const keep = Math.max(0, rows - head.length - tail.length);
    const body = [...steps, ...notes, ...log];
    const current = run.steps.findIndex((s) => s.status === 'running' || s.status === 'undoing');
    const from = Math.max(0, Math.min(current < 0 ? 0 : current - 1, body.length - keep));
    return fitted([...head, ...body.slice(from, from + keep), ...tail].slice(0, rows), width, theme);
  }
  return fitted(lines, width, theme);
}

/** `▲ cancel and roll back what was done? y/N (y cancel and roll back · any key keep it running)` */
function cancelQuestion(theme: Theme): Line {
  const g = theme.glyphs;
  return [
    seg(`${g.warn} cancel and roll back what was done? y/N `, { role: 'error', bold: true }),
    seg(`(${opsHint('cancel-run', 'abort', g)}${g.sep}${opsHint('cancel-run', 'keep', g)})`, {
      role: 'muted',
    }),
  ];
}

export function outcomeLines(r: OpResult, theme: Theme, width: number): Line[] {
  const g = theme.glyphs;
  const lines: Line[] = [];
  const took = formatSeconds(r.elapsedMs);
  if (r.outcome === 'done') {
    lines.push([seg(`${g.ok} done: `, { role: 'ok', bold: true }), seg(`${r.summary} in ${took}`)]);
    for (const x of r.reasons) lines.push([seg(`  note: ${x}`, { role: 'muted' })]);
  } else if (r.outcome === 'refused') {
    lines.push([seg(`${g.error} refused, nothing was changed:`, { role: 'error', bold: true })]);
    for (const x of r.reasons) lines.push([seg(`  ${x}`, { role: 'error' })]);
  } else if (r.outcome === 'rolled-back') {
    lines.push([
      seg(`${g.warn} ${r.cancelled ? 'cancelled' : 'failed'} and rolled back`, { role: 'warn', bold: true }),
      seg(` (${took}): ${r.summary}`),
    ]);
    for (const x of r.reasons) lines.push([seg(`  ${x}`, { role: 'warn' })]);
  } else {
    lines.push([
      seg(`${g.error} FAILED and not rolled back`, { role: 'error', bold: true }),
      seg(` (${took}): ${r.summary}`),
    ]);
    for (const x of r.reasons) lines.push([seg(`  ${x}`, { role: 'error' })]);
    lines.push([seg('left over:', { bold: true })]);
    for (const l of describeLeftovers(r.leftovers).flatMap((x) => x.split('\n'))) lines.push([seg(`  ${l}`)]);
    lines.push([
      seg('finish with: kube-ha operation resume (or rollback), with the same target flags', {
        role: 'muted',
      }),
    ]);
  }
  lines.push(hintLine('outcome', theme));
  return fitted(lines, width, theme);
}
