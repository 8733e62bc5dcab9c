// Warnings, most severe first. Short of room, the panel counts what it hides.

import { sortWarnings } from '../../domain/format.js';
import type { Warning } from '../../domain/types.js';
import { type Line, pack, seg } from '../text.js';
import type { ViewContext } from './context.js';

/** Rows the panel wants: a title and one per warning, or one "no warnings" line. */
export function warningsWanted(warnings: readonly Warning[]): number {
  return warnings.length === 0 ? 1 : warnings.length + 1;
}

function warningLine(w: Warning, ctx: ViewContext, width: number): Line {
  const { glyphs: g } = ctx.theme;
  const error = w.severity === 'error';
  return pack(
    [
      {
        segs: [
          seg(`${error ? g.error : g.warn} `, { role: error ? 'error' : 'warn' }),
          seg(error ? 'ERROR ' : 'WARN  ', { role: error ? 'error' : 'warn', bold: true }),
          seg(w.message),
        ],
      },
      { segs: [seg(` [${w.code}]`, { role: 'muted' })], drop: 1 },
    ],
    width,
    g.ellipsis,
  );
}

export function warningLines(
  ctx: ViewContext,
  warnings: readonly Warning[],
  width: number,
  maxRows: number,
): Line[] {
  const { glyphs: g } = ctx.theme;
  if (maxRows <= 0) return [];
  if (warnings.length === 0)
    return [pack([{ segs: [seg(`${g.ok} no warnings`, { role: 'ok' })] }], width, g.ellipsis)];
  const sorted = sortWarnings(warnings);
  const errors = sorted.filter((w) => w.severity === 'error').length;
  const counts = [
    errors ? `${errors} error${errors === 1 ? '' : 's'}` : '',
    warnings.length - errors
      ? `${warnings.length - errors} warning${warnings.length - errors === 1 ? '' : 's'}`
      : '',
  ]
    .filter(Boolean)
    .join(', ');
  const title = pack(
    [{ segs: [seg('Warnings', { bold: true }), seg(` (${counts})`, { role: errors ? 'error' : 'warn' })] }],
    width,
    g.ellipsis,
  );
  if (maxRows === 1) {
    const first = sorted[0];
    return [pack([{ segs: title }, { segs: first ? [seg(`: ${first.message}`)] : [] }], width, g.ellipsis)];
  }
  if (sorted.length + 1 <= maxRows) return [title, ...sorted.map((w) => warningLine(w, ctx, width))];
  const shown = sorted.slice(0, maxRows - 2);
  const hidden = sorted.length - shown.length;
  return [
    title,
    ...shown.map((w) => warningLine(w, ctx, width)),
    pack(
      [{ segs: [seg(`  ${g.ellipsis} ${hidden} more (e exports all)`, { role: 'muted' })] }],
      width,
      g.ellipsis,
    ),
  ];
}
