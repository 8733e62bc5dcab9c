// Lines of styled segments, fitted to a width before Ink sees them: the layout
// knows every line's height and width, so nothing wraps and nothing overflows.
import stringWidth from 'string-width';
import { oneLine } from '../domain/format.js';
import type { ColorRole } from './theme.js';

export interface Segment {
  text: string;
  role?: ColorRole;
  bold?: boolean;
  inverse?: boolean;
  dim?: boolean;
}

export type Line = Segment[];

/** A segment with control characters and newlines removed. */
export function seg(text: string, style: Omit<Segment, 'text'> = {}): Segment {
  return { text: oneLineKeepSpaces(text), ...style };
}

function oneLineKeepSpaces(text: string): string {
  // Leading/trailing spaces are layout here; only line breaks and controls go.
  return /[\u0000-\u001f\u007f-\u009f]/.test(text) ? oneLine(text) : text;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Terminal columns of a string: names and errors from the cluster may hold
 * wide (CJK, emoji) or combining characters, which string-width counts as
 * the terminal does. Most text is plain ASCII, counted without it.
 */
export function textWidth(s: string): number {
  return PRINTABLE_ASCII.test(s) ? s.length : stringWidth(s);
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export function lineWidth(line: Line): number {
  return line.reduce((n, s) => n + textWidth(s.text), 0);
}

/** Cuts a line to `width` columns, ending in `ellipsis` when anything was cut. */
export function fitLine(line: Line, width: number, ellipsis: string): Line {
  if (width <= 0) return [];
  if (lineWidth(line) <= width) return line;
  const e = textWidth(ellipsis) <= width ? ellipsis : '';
  const room = width - textWidth(e);
  const out: Line = [];
  let used = 0;
  for (const s of line) {
    const w = textWidth(s.text);
    if (used + w <= room) {
      out.push(s);
      used += w;
      continue;
    }
    // Cut between characters as drawn, never inside one: a wide one that does not fit whole goes.
    let text = '';
    for (const { segment } of graphemes.segment(s.text)) {
      const cw = textWidth(segment);
      if (used + cw > room) break;
      text += segment;
      used += cw;
    }
    out.push({ ...s, text: text + e });
    break;
  }
  return out;
}

/** A piece of a line and how much it matters: 0 must stay, higher is dropped first. */
export interface Part {
  segs: Segment[];
  drop?: number;
  /** A shorter form tried before anything is dropped. */
  short?: Segment[];
}

/**
 * Builds a line from parts: when it is too wide, first use the short forms,
 * then drop optional parts (highest `drop` first, the later one among
 * equals), then cut what must stay.
 */
export function pack(parts: Part[], width: number, ellipsis: string): Line {
  const kept = parts.filter((p) => p.segs.length > 0).map((p) => ({ ...p }));
  const total = () => kept.reduce((n, p) => n + lineWidth(p.segs), 0);
  for (const p of kept) {
    if (total() <= width) break;
    if (p.short) {
      p.segs = p.short;
      p.short = undefined;
    }
  }
  while (total() > width) {
    let victim = -1;
    for (let i = 0; i < kept.length; i++) {
      const d = kept[i]?.drop ?? 0;
      if (d > 0 && (victim < 0 || d >= (kept[victim]?.drop ?? 0))) victim = i;
    }
    if (victim < 0) break;
    kept.splice(victim, 1);
  }
  return fitLine(
    kept.flatMap((p) => p.segs),
    width,
    ellipsis,
  );
}

/** Left part cut to leave room for the right part, which is kept whole when it fits. */
export function spread(left: Line, right: Line, width: number, ellipsis: string): Line {
  const rw = lineWidth(right);
  if (rw + 1 > width) return fitLine(left, width, ellipsis);
  const l = fitLine(left, width - rw - 1, ellipsis);
  const gap = width - lineWidth(l) - rw;
  return [...l, { text: ' '.repeat(gap) }, ...right];
}
