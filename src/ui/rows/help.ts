// The `?` overlay: the key table itself, one line per binding; then the
// operation screens' table, one line per screen.
import { bindingKeys, isActionCommand, KEY_BINDINGS, type KeyBinding } from '../keys/keyBindings.js';
import { OPS_KEY_TABLE, opsScreenHints } from '../keys/opsKeys.js';
import { type Line, pack, seg, textWidth } from '../text.js';
import type { ViewContext } from './context.js';

export function helpDescription(b: KeyBinding, readOnly: boolean): string {
  return isActionCommand(b.command) && readOnly ? `${b.description} (needs --write)` : b.description;
}

export function helpLines(ctx: ViewContext, width: number): Line[] {
  const { glyphs: g } = ctx.theme;
  const readOnly = ctx.mode === 'read-only';
  const keyCol = Math.max(...KEY_BINDINGS.map((b) => textWidth(bindingKeys(b, g)))) + 2;
  const lines: Line[] = [
    pack(
      [
        { segs: [seg('Keys', { bold: true })] },
        {
          segs: [seg(`  (Esc or ? closes; ${readOnly ? 'read-only' : 'write mode'})`, { role: 'muted' })],
          drop: 1,
        },
      ],
      width,
      g.ellipsis,
    ),
  ];
  for (const b of KEY_BINDINGS) {
    const keys = bindingKeys(b, g);
    lines.push(
      pack(
        [
          {
            segs: [
              seg(`  ${keys.padEnd(keyCol)}`, { bold: true, role: 'accent' }),
              seg(helpDescription(b, readOnly), {
                role: isActionCommand(b.command) && readOnly ? 'muted' : undefined,
              }),
            ],
          },
        ],
        width,
        g.ellipsis,
      ),
    );
  }
  lines.push([], ...opsHelpLines(ctx, width));
  return lines;
}

/** The operation screens' keys (opsKeys.ts), a line per screen: `zone picker   ↑/k previous · ...`. */
export function opsHelpLines(ctx: ViewContext, width: number): Line[] {
  const { glyphs: g } = ctx.theme;
  const readOnly = ctx.mode === 'read-only';
  const titleCol = Math.max(...OPS_KEY_TABLE.map((t) => textWidth(t.title))) + 2;
  const lines: Line[] = [
    pack(
      [
        { segs: [seg('Operation screens', { bold: true })] },
        {
          segs: [seg(`  (a / d / R${readOnly ? ', with --write' : ''})`, { role: 'muted' })],
          drop: 1,
        },
      ],
      width,
      g.ellipsis,
    ),
  ];
  for (const t of OPS_KEY_TABLE) {
    lines.push(
      pack(
        [
          {
            segs: [
              seg(`  ${t.title.padEnd(titleCol)}`, { bold: true, role: readOnly ? 'muted' : 'accent' }),
              seg(opsScreenHints(t.screen, g).join(g.sep), { role: readOnly ? 'muted' : undefined }),
            ],
          },
        ],
        width,
        g.ellipsis,
      ),
    );
  }
  return lines;
}
