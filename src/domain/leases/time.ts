// RFC 3339 <-> (seconds, nanos), the way Kubernetes stores metav1.Time and
// metav1.MicroTime. Only years 0000-9999 are representable in RFC 3339 (and
// in Kubernetes' JSON), so anything outside is rejected rather than mangled.

export interface Timestamp {
  /** Seconds since the Unix epoch (a safe integer within the RFC 3339 range). */
  seconds: number;
  /** 0..999,999,999 */
  nanos: number;
}

export const MIN_SECONDS = -62167219200; // 0000-01-01T00:00:00Z
export const MAX_SECONDS = 253402300799; // 9999-12-31T23:59:59Z

export function validTimestamp(ts: Timestamp): boolean {
  return (
    Number.isSafeInteger(ts.seconds) &&
    ts.seconds >= MIN_SECONDS &&
    ts.seconds <= MAX_SECONDS &&
    Number.isInteger(ts.nanos) &&
    ts.nanos >= 0 &&
    ts.nanos <= 999_999_999
  );
}

/**
 * 'micro' always writes six fraction digits (MicroTime, as Kubernetes prints
 * it); 'auto' writes none for whole seconds (metav1.Time) and otherwise the
 * stored digits without trailing zeros.
 */
export function formatTimestamp(ts: Timestamp, precision: 'micro' | 'auto'): string | null {
  if (!validTimestamp(ts)) return null;
  const base = new Date(ts.seconds * 1000).toISOString().slice(0, 19);
  if (precision === 'micro') {
    return `${base}.${String(Math.floor(ts.nanos / 1000)).padStart(6, '0')}Z`;
  }
  if (ts.nanos === 0) return `${base}Z`;
  return `${base}.${String(ts.nanos).padStart(9, '0').replace(/0+$/, '')}Z`;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Strict RFC 3339 (no leap seconds, up to nanosecond fractions); null when it is not one. */
export function parseRfc3339(s: string): Timestamp | null {
  const m = RFC3339.exec(s);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  // Day 0 of the next month is the last day of this one.
  const lastDay = new Date(Date.UTC(2000, month, 0)).getUTCDate();
  const leap = month === 2 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0));
  if (day < 1 || day > (leap ? lastDay - 1 : lastDay)) return null;
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  let seconds = d.getTime() / 1000;
  if (m[9] !== undefined) {
    const offset = Number(m[10]) * 3600 + Number(m[11]) * 60;
    if (Number(m[10]) > 23 || Number(m[11]) > 59) return null;
    seconds -= m[9] === '+' ? offset : -offset;
  }
  const nanos = m[7] === undefined ? 0 : Number(m[7].padEnd(9, '0'));
  const ts = { seconds, nanos };
  return validTimestamp(ts) ? ts : null;
}

/** Milliseconds since the epoch, for comparisons against a local clock. */
export function rfc3339ToMs(s: string): number | null {
  const ts = parseRfc3339(s);
  return ts === null ? null : ts.seconds * 1000 + Math.floor(ts.nanos / 1e6);
}

/** A local clock reading as a MicroTime string (Kubernetes keeps microseconds). */
export function msToMicroTime(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const micros = Math.floor((ms - seconds * 1000) * 1000);
  return formatTimestamp({ seconds, nanos: micros * 1000 }, 'micro') ?? '1970-01-01T00:00:00.000000Z';
}

/** A local clock reading as a metav1.Time string (whole seconds). */
export function msToTime(ms: number): string {
  return formatTimestamp({ seconds: Math.floor(ms / 1000), nanos: 0 }, 'auto') ?? '1970-01-01T00:00:00Z';
}
