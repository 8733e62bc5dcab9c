// The cluster-wide operation lock: one key in etcd main, attached to a lease,
// so that a console or script that dies loses the lock when its lease expires.
// Its value says who holds it, for what, since when. Pure shapes and words.
import type { OpKind } from './request.js';

export const LOCK_KEY = '/kube-ha/operation-lock';
/** A dead holder's lock is gone after this long; a live one keeps it alive at a third of it. */
export const LOCK_TTL_SECONDS = 15;

export interface OperationHolder {
  user: string;
  host: string;
  pid: number;
  /** `kube-ha add`, `kube-ha console`... */
  tool: string;
}

export interface LockRecord {
  operationId: string;
  kind: OpKind;
  /** describeRequest / plan summary. */
  summary: string;
  holder: OperationHolder;
  /** ISO time the lock was taken. */
  since: string;
  /** The etcd lease (decimal) the key is attached to: a holder found dead on this host can be revoked. */
  leaseId?: string;
}

export function encodeLock(lock: LockRecord): string {
  return JSON.stringify(lock);
}

/** The lock's value, or a placeholder record when the value is not ours (it still blocks). */
export function decodeLock(text: string): LockRecord {
  try {
    const v = JSON.parse(text) as Partial<LockRecord>;
    if (typeof v.operationId === 'string' && v.holder && typeof v.since === 'string') return v as LockRecord;
  } catch {
    // fall through: an unreadable value still means someone holds the key
  }
  return {
    operationId: 'unknown',
    kind: 'add',
    summary: `unreadable lock value ${JSON.stringify(text.slice(0, 80))}`,
    holder: { user: '?', host: '?', pid: 0, tool: '?' },
    since: new Date(0).toISOString(),
  };
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s}s ago`;
  const m = Math.round(s / 60);
  return m < 90 ? `${m}m ago` : `${Math.round(m / 60)}h ago`;
}

/** `remove kubernetes-master-x7k by alice@bastion (kube-ha remove, pid 4242) since 12:01:02Z (2m ago)` */
export function describeLock(lock: LockRecord, now: Date = new Date()): string {
  const h = lock.holder;
  const since = Date.parse(lock.since);
  const when = Number.isFinite(since) ? `${lock.since} (${ago(now.getTime() - since)})` : lock.since;
  return `${lock.summary} by ${h.user}@${h.host} (${h.tool}, pid ${h.pid}) since ${when} [operation ${lock.operationId}]`;
}
