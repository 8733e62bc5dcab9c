// Structural equality for poll results: JSON-like data (plain objects,
// arrays, primitives). Keys named in `ignore` are skipped at any depth, for
// fields that change on every poll without meaning anything (fetch time,
// latency).

export function structurallyEqual(a: unknown, b: unknown, ignore: ReadonlySet<string> = NO_KEYS): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!structurallyEqual(a[i], b[i], ignore)) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  // An absent key and a key holding undefined mean the same thing here.
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) {
    if (ignore.has(k)) continue;
    if (!structurallyEqual(ao[k], bo[k], ignore)) return false;
  }
  return true;
}

const NO_KEYS: ReadonlySet<string> = new Set();

/** Fields of an observation that differ between two polls of an unchanged system. */
export const VOLATILE_OBSERVATION_KEYS: ReadonlySet<string> = new Set(['fetchedAt', 'latencyMs']);

/** The status's own timestamp is not a change in what it describes. */
export const VOLATILE_STATUS_KEYS: ReadonlySet<string> = new Set(['observedAt']);

/**
 * Counters that move on a healthy idle cluster (leader leases renew every
 * couple of seconds, so the raft index and DB size creep). A poll where only
 * these moved is shown at most every COUNTER_REFRESH_MS: redrawing the whole
 * screen each second for them cost several % of a core on an idle console,
 * and every 5 s still ~0.4 % (npm run bench console). Anything else (health,
 * leader, term, learners, membership) is shown at once.
 */
export const COUNTER_OBSERVATION_KEYS: ReadonlySet<string> = new Set([
  ...VOLATILE_OBSERVATION_KEYS,
  'raftIndex',
  'raftAppliedIndex',
  'dbSizeBytes',
  'dbSizeInUseBytes',
]);

export const COUNTER_REFRESH_MS = 10_000;
