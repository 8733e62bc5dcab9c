// Line fitting by terminal columns: wide and combining characters count as
// the terminal draws them, and a cut never splits one.
import { describe, expect, it } from 'vitest';
import { fitLine, type Line, lineWidth, seg, textWidth } from '../../src/ui/text.js';

const lineText = (l: Line) => l.map((s) => s.text).join('');

describe('text width', () => {
  it('counts wide characters as two columns and combining marks as none', () => {
    expect(textWidth('kubernetes-master')).toBe(17);
    expect(textWidth('主节点')).toBe(6);
    expect(textWidth('e\u0301tcd')).toBe(4);
    expect(textWidth('★ ▸ …')).toBe(5);
  });

  it('cuts to the width in columns, a wide character going whole', () => {
    const line = [seg('node '), seg('主节点')];
    expect(lineWidth(line)).toBe(11);
    const cut = fitLine(line, 9, '…');
    expect(lineText(cut)).toBe('node 主…');
    expect(lineWidth(cut)).toBe(8);
    expect(lineText(fitLine([seg('e\u0301e\u0301e\u0301e\u0301')], 3, '…'))).toBe('e\u0301e\u0301…');
  });
});
