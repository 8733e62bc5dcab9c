// An operation found unfinished at start, as fitted lines (pure): its steps as
// the journal left them, and what U (resume) or B (roll back) would run, step
// by step, with the prompt for the operation id.
import { type Journal, type Recovery, resumeRecovery, rollbackRecovery } from '../../domain/ops/journal.js';
import { opsHint, opsKeys } from '../keys/opsKeys.js';
import { type Line, seg } from '../text.js';
import type { ColorRole, Theme } from '../theme.js';
import { fitted, STEP_ROLE, stepMark } from './lines.js';
import type { OpsStepStatus } from './opsStore.js';

export function unfinishedLines(j: Journal, theme: Theme, width: number, rows: number): Line[] {
  const g = theme.glyphs;
  const lines: Line[] = [
    [
      seg(`${g.warn} An operation did not finish: `, { role: 'warn', bold: true }),
      seg(j.plan.summary, { bold: true }),
    ],
    [
      seg(
        `  operation ${j.operationId} · state ${j.state} · started ${j.startedAt} by ${j.holder.user}@${j.holder.host} (${j.holder.tool})`,
        {
          role: 'muted',
        },
      ),
    ],
  ];
  if (j.error) lines.push([seg(`  error: ${j.error}`, { role: 'error' })]);
  lines.push([]);
  j.plan.steps.forEach((s, i) => {
    const rec = j.steps[i];
    const status = (rec?.status ?? 'pending') as OpsStepStatus;
    lines.push([
      seg(` ${stepMark(status, theme)} `, { role: STEP_ROLE[status] }),
      seg(`${String(i + 1).padStart(2)}. ${s.title}`),
      seg(`  ${status}`, { role: STEP_ROLE[status] }),
    ]);
  });
  const tail: Line[] = [
    [],
    [
      seg(opsHint('unfinished', 'resume', g), { bold: true, role: 'accent' }),
      seg(`: ${resumeRecovery(j).note}`),
    ],
    [
      seg(opsHint('unfinished', 'rollback', g), { bold: true, role: 'accent' }),
      seg(`: ${rollbackRecovery(j).note}`),
    ],
    [
      seg(opsHint('unfinished', 'cancel', g), { bold: true, role: 'accent' }),
      seg(' (kube-ha operation resume|rollback later)', { role: 'muted' }),
    ],
  ];
  const room = Math.max(0, rows - tail.length);
  return fitted([...lines.slice(0, room), ...tail], width, theme);
}

function stepLine(n: number, title: string, role: ColorRole | undefined): Line {
  return [seg(`  ${String(n).padStart(2)}. `, { role: 'muted' }), seg(title, { role })];
}

/** The recovery's steps, as the executor will take them: forward ones in order, then the undos. */
export function recoverySteps(j: Journal, r: Recovery): Line[] {
  const index = new Map(j.plan.steps.map((s, i) => [s.id, i]));
  const lines: Line[] = [];
  if (r.forward.length) {
    lines.push([seg(`Runs forward (${r.forward.length}), in order:`, { bold: true })]);
    for (const id of r.forward) {
      const i = index.get(id) ?? -1;
      lines.push(stepLine(i + 1, j.plan.steps[i]?.title ?? id, undefined));
    }
  }
  if (r.undo.length) {
    lines.push([seg(`Undoes (${r.undo.length}), in this order:`, { bold: true })]);
    for (const id of r.undo) {
      const i = index.get(id) ?? -1;
      const s = j.plan.steps[i];
      lines.push(stepLine(i + 1, s ? `undo: ${s.undo ?? s.title}` : id, 'warn'));
    }
  }
  if (!lines.length) lines.push([seg('Nothing left to run or undo.', { role: 'muted' })]);
  return lines;
}

/**
 * U / B on an unfinished operation: what the resume or rollback will do (the
 * journal's recovery, step by step) and the prompt for the operation id.
 */
export function recoveryLines(
  j: Journal,
  mode: 'resume' | 'rollback',
  typed: string,
  error: string | null,
  token: string,
  theme: Theme,
  width: number,
  rows: number,
): Line[] {
  const g = theme.glyphs;
  const head: Line[] = [
    [
      seg(mode === 'resume' ? 'Resume: ' : 'Roll back: ', { bold: true }),
      seg(j.plan.summary, { bold: true }),
      seg(`   [operation ${j.operationId}, ${j.state}]`, { role: 'muted' }),
    ],
    [],
  ];
  let body: Line[];
  try {
    const r = mode === 'resume' ? resumeRecovery(j) : rollbackRecovery(j);
    body = [[seg(r.note)], ...recoverySteps(j, r)];
    if (r.pastPointOfNoReturn) {
      body.push([
        seg(`${g.warn} past the point of no return: the cluster cannot return to where it started`, {
          role: 'warn',
          bold: true,
        }),
      ]);
    }
  } catch (e) {
    body = [[seg(`${g.error} ${e instanceof Error ? e.message : String(e)}`, { role: 'error' })]];
  }
  const prompt: Line[] = [
    [],
    [
      seg(`${g.warn} type `, { role: 'error', bold: true }),
      seg(token, { role: 'error', bold: true, inverse: true }),
      seg(
        ` to ${mode === 'resume' ? 'resume' : 'roll back'}, or ${opsKeys('recover', 'back', g)} to go back: `,
        {
          role: 'error',
          bold: true,
        },
      ),
      seg(typed),
      seg(g.cursor, { role: 'accent' }),
    ],
    ...(error ? [[seg(`${g.error} ${error}`, { role: 'error' })] as Line] : []),
  ];
  const room = Math.max(0, rows - head.length - prompt.length);
  const shown =
    room <= 0
      ? []
      : body.length > room
        ? [
            ...body.slice(0, room - 1),
            [seg(`  ${g.ellipsis} ${body.length - room + 1} more lines`, { role: 'muted' })] as Line,
          ]
        : body;
  return fitted([...head, ...shown, ...prompt], width, theme);
}
