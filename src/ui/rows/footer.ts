// The bottom line: the filter prompt, else the latest message, else key hints
// taken from the key table.
import type { StatusMessage } from '../../store/types.js';
import { isActionCommand, KEY_BINDINGS, keyLabel } from '../keys/keyBindings.js';
import { type Line, type Part, pack, seg } from '../text.js';
import type { ColorRole } from '../theme.js';
import type { ViewContext } from './context.js';

export interface FooterState {
  filter: string;
  filterEditing: boolean;
  message: StatusMessage | null;
  visible: number;
  total: number;
}

const HINT_DROP: Record<string, number> = {
  help: 0,
  quit: 0,
  pause: 1,
  add: 1,
  delete: 1,
  replace: 1,
  refresh: 2,
  export: 2,
  filter: 3,
  detail: 4,
};

const LEVEL_ROLE: Record<StatusMessage['level'], ColorRole> = {
  info: 'info',
  warning: 'warn',
  error: 'error',
};

export function footerLine(ctx: ViewContext, f: FooterState, width: number): Line {
  const { glyphs: g } = ctx.theme;
  if (f.filterEditing) {
    return pack(
      [
        {
          segs: [seg('/', { role: 'accent', bold: true }), seg(f.filter), seg(g.cursor, { role: 'accent' })],
        },
        { segs: [seg(`  ${f.visible}/${f.total} shown`, { role: 'muted' })], drop: 2 },
        {
          segs: [
            seg('  Enter keep', { role: 'muted' }),
            seg(g.sep, { role: 'muted' }),
            seg('Esc clear', { role: 'muted' }),
          ],
          drop: 1,
        },
      ],
      width,
      g.ellipsis,
    );
  }
  if (f.message) {
    const m = f.message;
    const mark = m.level === 'error' ? g.error : m.level === 'warning' ? g.warn : g.info;
    return pack(
      [
        {
          segs: [seg(`${mark} `, { role: LEVEL_ROLE[m.level] }), seg(m.text, { role: LEVEL_ROLE[m.level] })],
        },
      ],
      width,
      g.ellipsis,
    );
  }
  const parts: Part[] = [];
  if (f.filter) {
    parts.push({
      segs: [seg(`filter "${f.filter}" ${f.visible}/${f.total}`, { role: 'accent', bold: true }), seg('  ')],
    });
  }
  const readOnly = ctx.mode === 'read-only';
  let actionsShown = false;
  for (const b of KEY_BINDINGS) {
    if (!b.hint || !b.keys[0]) continue;
    const key = keyLabel(b.keys[0], g);
    if (isActionCommand(b.command) && readOnly) {
      if (actionsShown) continue;
      actionsShown = true;
      const keys = KEY_BINDINGS.filter((x) => isActionCommand(x.command))
        .map((x) => (x.keys[0] ? keyLabel(x.keys[0], g) : ''))
        .join('/');
      parts.push({
        segs: [seg(`${keys} `, { bold: true, role: 'muted' }), seg('need --write  ', { role: 'muted' })],
        drop: 1,
      });
      continue;
    }
    const hint = b.command === 'pause' && ctx.paused ? 'resume' : b.hint;
    parts.push({
      segs: [
        seg(`${key} `, { bold: true, role: 'accent' }),
        seg(`${hint}  `, { role: b.command === 'pause' && ctx.paused ? 'warn' : 'muted' }),
      ],
      drop: HINT_DROP[b.command] ?? 2,
    });
  }
  return pack(parts, width, g.ellipsis);
}
