// The `filter` parameter of list and aggregatedList, in both dialects GCE
// accepts: the regular-expression one (`name eq "kubernetes-master(-.*)?"`,
// RE2 matched against the whole field) and AIP-160 (`name = "x"`, `!=`, `:`,
// `<`..., AND/OR/NOT with parentheses, where OR binds tighter than AND).
// The two cannot be mixed, as in GCE.
import { RE2JS } from 're2js';
import { invalidField } from './errors.js';

export type Predicate = (resource: unknown) => boolean;

function bad(filter: string, why = 'Invalid list filter expression.'): Error {
  return invalidField('filter', filter, why);
}

/** Every value at a dotted path, descending into arrays (`networkInterfaces.networkIP`). */
function valuesAt(resource: unknown, path: string[]): unknown[] {
  let current: unknown[] = [resource];
  for (const key of path) {
    const next: unknown[] = [];
    for (const v of current) {
      const items = Array.isArray(v) ? v : [v];
      for (const item of items) {
        if (typeof item === 'object' && item !== null && key in item)
          next.push((item as Record<string, unknown>)[key]);
      }
    }
    current = next;
  }
  return current.flatMap((v) => (Array.isArray(v) ? v : [v])).filter((v) => v !== undefined && v !== null);
}

function scalar(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

// ------------------------------------------------------------- regex dialect

// GCE accepts hyphens in field paths (label keys: `labels.kube-ha-role`).
const REGEX_TERM = /^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s+(eq|ne)\s+(.*?)\s*$/s;

function unquote(literal: string): string {
  const q = literal[0];
  if ((q === '"' || q === "'") && literal.length >= 2 && literal.endsWith(q)) {
    // Backslashes stay: they are the regex's own escapes. Only an escaped quote is unwrapped.
    return literal.slice(1, -1).replaceAll(`\\${q}`, q);
  }
  return literal;
}

function regexTerm(filter: string, text: string): Predicate {
  const m = REGEX_TERM.exec(text);
  if (!m) throw bad(filter);
  const [, field = '', op, literal = ''] = m;
  // RE2 as GCE runs it (re2js, a port of RE2): no lookaround or backreferences,
  // (?i) and \pL accepted, `.` not matching a newline, the whole field matched.
  let re: RE2JS;
  try {
    re = RE2JS.compile(unquote(literal));
  } catch {
    throw bad(filter, 'Invalid regular expression.');
  }
  const path = field.split('.');
  return (resource) => {
    const hit = valuesAt(resource, path).some((v) => {
      const s = scalar(v);
      return s !== null && re.matches(s);
    });
    return op === 'eq' ? hit : !hit;
  };
}

/** `(a eq x) (b ne y)` -> ['a eq x', 'b ne y']; null if not that shape. */
function splitGroups(filter: string): string[] | null {
  const groups: string[] = [];
  let i = 0;
  while (i < filter.length) {
    const c = filter[i];
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
      continue;
    }
    if (c !== '(') return null;
    let depth = 0;
    let quote: string | null = null;
    let j = i;
    for (; j < filter.length; j++) {
      const d = filter[j];
      if (quote) {
        if (d === '\\') j++;
        else if (d === quote) quote = null;
      } else if (d === '"' || d === "'") quote = d;
      else if (d === '(') depth++;
      else if (d === ')' && --depth === 0) break;
    }
    if (j >= filter.length) return null;
    groups.push(filter.slice(i + 1, j));
    i = j + 1;
  }
  return groups;
}

// ----------------------------------------------------------- AIP-160 dialect

type Token =
  | { t: 'lp' | 'rp' | 'and' | 'or' | 'not' }
  | { t: 'cmp'; field: string; op: string; value: string; quoted: boolean };

// A field path may hold hyphens (`labels.kube-ha-role = control-plane`), as GCE accepts.
const COMPARISON =
  /^([A-Za-z_][A-Za-z0-9_.-]*)\s*(!=|>=|<=|=|>|<|:)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s()]+)/s;

function tokenize(filter: string): Token[] {
  const out: Token[] = [];
  let rest = filter;
  for (;;) {
    rest = rest.replace(/^\s+/, '');
    if (rest === '') return out;
    if (rest[0] === '(') {
      out.push({ t: 'lp' });
      rest = rest.slice(1);
      continue;
    }
    if (rest[0] === ')') {
      out.push({ t: 'rp' });
      rest = rest.slice(1);
      continue;
    }
    const word = /^(AND|OR|NOT)(?=[\s(]|$)/.exec(rest);
    if (word) {
      out.push({ t: word[1] === 'AND' ? 'and' : word[1] === 'OR' ? 'or' : 'not' });
      rest = rest.slice(word[0].length);
      continue;
    }
    if (rest[0] === '-') {
      out.push({ t: 'not' });
      rest = rest.slice(1);
      continue;
    }
    const m = COMPARISON.exec(rest);
    if (!m) throw bad(filter);
    const raw = m[3] ?? '';
    const quoted = raw.startsWith('"') || raw.startsWith("'");
    const value = quoted ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    out.push({ t: 'cmp', field: m[1] ?? '', op: m[2] ?? '', value, quoted });
    rest = rest.slice(m[0].length);
  }
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`, 's');
}

function comparison(field: string, op: string, value: string, quoted: boolean): Predicate {
  const path = field.split('.');
  if (op === ':' && value === '*' && !quoted) return (r) => valuesAt(r, path).length > 0;
  const equal = (s: string) => (value.includes('*') ? wildcard(value).test(s) : s === value);
  const order = (s: string): number => {
    const a = Number(s);
    const b = Number(value);
    if (s.trim() !== '' && value.trim() !== '' && !Number.isNaN(a) && !Number.isNaN(b)) return a - b;
    return s < value ? -1 : s > value ? 1 : 0;
  };
  return (r) => {
    const values = valuesAt(r, path)
      .map(scalar)
      .filter((s): s is string => s !== null);
    switch (op) {
      case '=':
      case ':':
        return values.some(equal);
      case '!=':
        return !values.some(equal);
      case '>':
        return values.some((s) => order(s) > 0);
      case '<':
        return values.some((s) => order(s) < 0);
      case '>=':
        return values.some((s) => order(s) >= 0);
      default:
        return values.some((s) => order(s) <= 0);
    }
  };
}

function parseAip(filter: string): Predicate {
  const tokens = tokenize(filter);
  let pos = 0;
  const peek = () => tokens[pos];

  // conjunction := disjunction ( [AND] disjunction )*
  const conjunction = (): Predicate => {
    const parts = [disjunction()];
    for (;;) {
      const t = peek();
      if (!t || t.t === 'rp') break;
      if (t.t === 'and') pos++;
      parts.push(disjunction());
    }
    return (r) => parts.every((p) => p(r));
  };
  // disjunction := unary ( OR unary )*
  const disjunction = (): Predicate => {
    const parts = [unary()];
    while (peek()?.t === 'or') {
      pos++;
      parts.push(unary());
    }
    return (r) => parts.some((p) => p(r));
  };
  const unary = (): Predicate => {
    if (peek()?.t === 'not') {
      pos++;
      const inner = unary();
      return (r) => !inner(r);
    }
    return primary();
  };
  const primary = (): Predicate => {
    const t = tokens[pos++];
    if (!t) throw bad(filter);
    if (t.t === 'lp') {
      const inner = conjunction();
      if (tokens[pos++]?.t !== 'rp') throw bad(filter);
      return inner;
    }
    if (t.t !== 'cmp') throw bad(filter);
    return comparison(t.field, t.op, t.value, t.quoted);
  };

  const p = conjunction();
  if (pos !== tokens.length) throw bad(filter);
  return p;
}

/** Parses a filter; an empty one matches everything. Throws a 400 ApiError if invalid. */
export function parseFilter(filter: string | null | undefined): Predicate {
  const text = (filter ?? '').trim();
  if (text === '') return () => true;
  const hasRegexOp = /\s(eq|ne)\s/.test(text);
  const groups = splitGroups(text);
  if (hasRegexOp) {
    if (groups) {
      const terms = groups.map((g) => regexTerm(text, g));
      return (r) => terms.every((t) => t(r));
    }
    // A single unparenthesised term: the literal is everything after the operator.
    if (/[()]/.test(text.split(/\s(?:eq|ne)\s/)[0] ?? '')) throw bad(text);
    return regexTerm(text, text);
  }
  return parseAip(text);
}
