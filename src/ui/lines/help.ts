// The `?` overlay: the key table itself, one line per binding.
import { bindingKeys, isActionCommand, KEY_BINDINGS, type KeyBinding } from '../keys/keyBindings.js';
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
  return lines;
}
