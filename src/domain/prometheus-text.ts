// Prometheus' text exposition format (version 0.0.4), as etcd's /metrics
// serves it: `# HELP` / `# TYPE` comments, then one sample a line,
// `name{label="value",...} value [timestamp]`. Label values escape `\\`, `\"`
// and `\n`; values are Go floats (`NaN`, `+Inf`, `-Inf`, exponents). Pure; a
// line that does not parse is skipped and counted, never guessed at.
// (No npm package: the few on the registry pull in a client library or parse
// the whole OpenMetrics grammar; kube-ha reads five metric families.)

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedMetrics {
  samples: Sample[];
  /** Lines that were neither comments, blank, nor samples. */
  skipped: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

export function parseFloatValue(s: string): number | null {
  if (s === 'NaN') return Number.NaN;
  if (s === '+Inf' || s === 'Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return null;
  return Number(s);
}

/** `{a="x",b="y"}` from position 0 of `s`: the labels and the rest of the line, or null. */
function parseLabels(s: string): { labels: Record<string, string>; rest: string } | null {
  const labels: Record<string, string> = {};
  let i = 1; // past '{'
  for (;;) {
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] === '}') return { labels, rest: s.slice(i + 1) };
    const name = LABEL_NAME.exec(s.slice(i))?.[0];
    if (!name) return null;
    i += name.length;
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] !== '=') return null;
    i++;
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] !== '"') return null;
    i++;
    let value = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) return null;
      if (c === '"') break;
      if (c === '\\') {
        const n = s[i + 1];
        if (n === 'n') value += '\n';
        else if (n === '\\' || n === '"') value += n;
        else return null;
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    i++; // past the closing quote
    labels[name] = value;
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] === ',') i++;
    else if (s[i] !== '}') return null;
  }
}

/** One sample line, or null when it is not one. */
export function parseSampleLine(line: string): Sample | null {
  const name = NAME.exec(line)?.[0];
  if (!name) return null;
  let rest = line.slice(name.length);
  let labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    const l = parseLabels(rest);
    if (!l) return null;
    labels = l.labels;
    rest = l.rest;
  }
  if (!/^[ \t]/.test(rest)) return null;
  const fields = rest.trim().split(/[ \t]+/);
  if (fields.length < 1 || fields.length > 2) return null;
  const value = parseFloatValue(fields[0]!);
  if (value === null) return null;
  if (fields.length === 2 && !/^-?\d+$/.test(fields[1]!)) return null;
  return { name, labels, value };
}

/**
 * Every sample of `text`; with `only`, just the samples whose name starts
 * with one of these (the rest is not parsed: etcd serves ~1,500 lines, kube-ha
 * reads a dozen, once a second in the console).
 */
export function parsePrometheusText(text: string, only?: readonly string[]): ParsedMetrics {
  const samples: Sample[] = [];
  let skipped = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (only && !only.some((p) => line.startsWith(p))) continue;
    const s = parseSampleLine(line);
    if (s) samples.push(s);
    else skipped++;
  }
  return { samples, skipped };
}

/** The samples of one metric name. */
export function samplesNamed(m: ParsedMetrics, name: string): Sample[] {
  return m.samples.filter((s) => s.name === name);
}
