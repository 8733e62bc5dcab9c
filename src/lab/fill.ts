// Fills an etcd cluster until it raises NOSPACE, to rehearse the alarm (issue
// 15): junk values under /lab-filler/, written over a few keys so that the
// old revisions are what fills the quota, as a chatty writer's history does.
// Compacting to the current revision and defragmenting then gives the space
// back, which is etcd's remedy. Bounded by bytes and a deadline.
import type { Etcd3 } from 'etcd3';
import { errorMessage } from '../net/etcd-client.js';

export const FILLER_PREFIX = '/lab-filler/';
/** Keys written over in turn. */
const FILLER_KEYS = 8;

export interface FillOptions {
  /** Stop after this many bytes written (the quota's worth is enough: its history is what fills it). */
  maxBytes: number;
  deadlineMs: number;
  /** Size of each value; under etcd's 1.5 MiB request limit. */
  valueBytes?: number;
}

export interface FillResult {
  writes: number;
  bytes: number;
  /** The put that etcd refused with "database space exceeded", when it came. */
  noSpace: string | null;
  /** Why the fill stopped without NOSPACE (bytes or deadline reached, another error). */
  stoppedBy: string | null;
}

/** etcd's answer to a write over quota ("etcdserver: mvcc: database space exceeded"). */
export function isNoSpace(err: unknown): boolean {
  return /database space exceeded|NOSPACE/i.test(errorMessage(err));
}

/** Writes until etcd refuses a write for NOSPACE, `maxBytes` are written, or the deadline passes. */
export async function fillUntilNoSpace(client: Etcd3, o: FillOptions): Promise<FillResult> {
  const valueBytes = o.valueBytes ?? 64 * 1024;
  // Random bytes in base64: the backend does not compress, but random keeps it honest.
  const { randomBytes } = await import('node:crypto');
  const value = randomBytes(Math.ceil((valueBytes * 3) / 4))
    .toString('base64')
    .slice(0, valueBytes);
  const until = Date.now() + o.deadlineMs;
  let writes = 0;
  let bytes = 0;
  while (true) {
    if (bytes >= o.maxBytes) return { writes, bytes, noSpace: null, stoppedBy: `${bytes} bytes written` };
    if (Date.now() >= until)
      return { writes, bytes, noSpace: null, stoppedBy: `deadline (${o.deadlineMs} ms) passed` };
    try {
      await client.put(`${FILLER_PREFIX}${writes % FILLER_KEYS}`).value(value);
    } catch (err) {
      if (isNoSpace(err)) return { writes, bytes, noSpace: errorMessage(err), stoppedBy: null };
      return { writes, bytes, noSpace: null, stoppedBy: errorMessage(err) };
    }
    writes++;
    bytes += valueBytes;
  }
}
