// The session's events, newest first, as many as there is room for.
import { clockTime } from '../../domain/format.js';
import type { Timeline } from '../../store/ring.js';
import type { TimelineEvent } from '../../store/types.js';
import { type Line, pack, type Segment, seg } from '../text.js';
import type { ColorRole } from '../theme.js';
import type { ViewContext } from './context.js';

const ROLE: Record<TimelineEvent['severity'], ColorRole> = { info: 'info', warning: 'warn', error: 'error' };

/** `12:04:31 ▲ message`: when, how bad, what. */
function eventSegs(ctx: ViewContext, e: TimelineEvent): Segment[] {
  const { glyphs: g } = ctx.theme;
  const mark = e.severity === 'error' ? g.error : e.severity === 'warning' ? g.warn : g.info;
  return [
    seg(`${clockTime(e.at)} `, { role: 'muted' }),
    seg(`${mark} `, { role: ROLE[e.severity] }),
    seg(e.message, { role: e.severity === 'info' ? undefined : ROLE[e.severity] }),
  ];
}

/** One line for a small terminal: the newest event, after how many there are. */
function compactLine(ctx: ViewContext, events: Timeline, width: number): Line {
  const { glyphs: g } = ctx.theme;
  const e = events.latest(1)[0];
  const label = { segs: [seg('Events', { bold: true })] };
  if (!e) return pack([label, { segs: [seg(' nothing yet', { role: 'muted' })] }], width, g.ellipsis);
  return pack(
    [
      label,
      { segs: [seg(` (${events.total})`, { role: 'muted' })], drop: 1 },
      { segs: [seg(' '), ...eventSegs(ctx, e)] },
    ],
    width,
    g.ellipsis,
  );
}

export function timelineLines(ctx: ViewContext, events: Timeline, width: number, maxRows: number): Line[] {
  const { glyphs: g } = ctx.theme;
  if (maxRows <= 0) return [];
  if (maxRows === 1) return [compactLine(ctx, events, width)];
  const title = pack(
    [
      { segs: [seg('Events', { bold: true })] },
      {
        segs: [
          seg(
            ` (${events.total} this session${events.dropped ? `, the newest ${events.length} kept` : ''}, newest first)`,
            { role: 'muted' },
          ),
        ],
        drop: 1,
      },
    ],
    width,
    g.ellipsis,
  );
  if (events.length === 0) return [title, [seg('  nothing yet', { role: 'muted' })]];
  const shown = events.latest(maxRows - 1).reverse();
  return [title, ...shown.map((e) => pack([{ segs: eventSegs(ctx, e) }], width, g.ellipsis))];
}
