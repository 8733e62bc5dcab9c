// The `fields` system parameter: a partial response holding only the selected
// fields, as Google APIs answer `fields=items(name,status),nextPageToken` or
// `fields=name,networkInterfaces/networkIP`. A selection that does not parse
// is a 400. (Unlike GCE, a well-formed selection naming an unknown field is
// not refused: it selects nothing.)
import { ApiError } from './errors.js';

interface Selection {
  /** Field name -> sub-selection (null: the whole value). */
  fields: Map<string, Selection | null>;
}

function badSelection(text: string): ApiError {
  return new ApiError(400, 'invalidParameter', `Invalid field selection ${text}`);
}

function merge(into: Selection, name: string, sub: Selection | null): void {
  const had = into.fields.get(name);
  if (had === undefined) into.fields.set(name, sub);
  else if (had === null || sub === null) into.fields.set(name, null);
  else for (const [k, v] of sub.fields) merge(had, k, v);
}

/** Parses a selection; throws GCE's 400 if it is malformed. */
export function parseFields(text: string): Selection {
  let pos = 0;
  const parseList = (depth: number): Selection => {
    const sel: Selection = { fields: new Map() };
    for (;;) {
      const m = /^\s*([A-Za-z_*][A-Za-z0-9_]*(?:\/[A-Za-z_*][A-Za-z0-9_]*)*)\s*/.exec(text.slice(pos));
      if (!m?.[1]) throw badSelection(text);
      pos += m[0].length;
      const path = m[1].split('/');
      let sub: Selection | null = null;
      if (text[pos] === '(') {
        pos++;
        sub = parseList(depth + 1);
        if (text[pos] !== ')') throw badSelection(text);
        pos++;
      }
      // `a/b(c)` is `a(b(c))`.
      for (let i = path.length - 1; i > 0; i--) {
        const wrap: Selection = { fields: new Map() };
        wrap.fields.set(path[i] ?? '', sub);
        sub = wrap;
      }
      merge(sel, path[0] ?? '', sub);
      while (text[pos] === ' ') pos++;
      if (text[pos] === ',') {
        pos++;
        continue;
      }
      if (depth === 0 && pos !== text.length) throw badSelection(text);
      return sel;
    }
  };
  return parseList(0);
}

/** The value with only the selected fields; arrays are projected element by element. */
export function project(value: unknown, sel: Selection): unknown {
  if (Array.isArray(value)) return value.map((v) => project(v, sel));
  if (typeof value !== 'object' || value === null) return value;
  const src = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [name, sub] of sel.fields) {
    const keys = name === '*' ? Object.keys(src) : [name];
    for (const k of keys) {
      if (!(k in src)) continue;
      out[k] = sub ? project(src[k], sub) : src[k];
    }
  }
  return out;
}
