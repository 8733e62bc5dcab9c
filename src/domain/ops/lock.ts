// The cluster-wide operation lock: one key in etcd main, attached to a lease,
// so that a console or script that dies loses the lock when its lease expires.
// Its value says who holds it, for what, since when. Pure shapes and words.
import type { OpKind } from './request.js';

export const LOCK_KEY = '/kube-ha/operation-lock';
/** Unfinished operations' journals, one key each, beside the lock and outside kube-apiserver's /registry. */
export const JOURNAL_PREFIX = '/kube-ha/operations/';
/** A dead holder's lock is gone after this long; a live one keeps it alive at a third of it. */
export const LOCK_TTL_SECONDS = 15;

export interface OperationHolder {
  user: string;
  host: string;
  pid: number;
  /** `kube-ha add`, `kube-ha console`... */
  tool: string;
  /**
   * What makes "this holder is dead" provable from another process: the
   * kernel's boot id, the pid namespace and the process's start time (clock
   * ticks since boot). Absent in locks taken by older versions.
   */
  identity?: ProcessIdentity;
}

export interface ProcessIdentity {
  bootId: string;
  /** `pid:[4026531836]`, as /proc/<pid>/ns/pid links. */
  pidNamespace: string;
  /** /proc/<pid>/stat field 22. */
  startTicks: string;
}

export interface LockRecord {
  operationId: string;
  /** recover: kube-ha recover's rebuild (a local lock only: no cluster has quorum). */
  kind: OpKind | 'recover';
  /** describeRequest / plan summary. */
  summary: string;
  holder: OperationHolder;
  /** ISO time the lock was taken. */
  since: string;
  /** The etcd lease (decimal) the key is attached to: a holder found dead on this host can be revoked. */
  leaseId?: string;
}

/**
 * The holder is provably dead: same kernel boot, same pid namespace (so its pid
 * means the same process here), and that pid is gone or now belongs to a
 * process started at another time. A hostname match alone proves nothing: a
 * container with its own pid namespace shares the host's name and boot id and
 * sees none of the host's pids.
 */
export function provablyDead(
  holder: OperationHolder,
  here: { bootId: string; pidNamespace: string },
  startTicksOf: (pid: number) => string | null,
): boolean {
  const id = holder.identity;
  if (!id || id.bootId !== here.bootId || id.pidNamespace !== here.pidNamespace) return false;
  const now = startTicksOf(holder.pid);
  return now === null || now !== id.startTicks;
}

/**
 * The lock's validity on this process's own clock. The server's lease runs
 * out TTL after it last heard a keepalive; the keepalive was *sent* before it
 * was heard, so counting from the send time is safe whatever the network
 * delay. A margin covers clock rate drift and the time to notice.
 */
export class LockValidity {
  private validUntil: number;
  private expired = false;

  constructor(
    private readonly ttlMs: number,
    private readonly marginMs: number,
    grantSentAt: number,
  ) {
    this.validUntil = grantSentAt + ttlMs - marginMs;
  }

  /** A keepalive sent at `sentAt` was answered with the lease's remaining TTL (seconds; <= 0: gone). */
  answered(sentAt: number, ttlSeconds: number): void {
    if (ttlSeconds <= 0) {
      this.expired = true;
      return;
    }
    this.validUntil = Math.max(
      this.validUntil,
      sentAt + Math.min(this.ttlMs, ttlSeconds * 1000) - this.marginMs,
    );
  }

  /** The server said the lease is gone (revoked or expired). */
  gone(): void {
    this.expired = true;
  }

  lost(now: number): boolean {
    return this.expired || now >= this.validUntil;
  }

  /** How long it stays valid without another answered keepalive. */
  leftMs(now: number): number {
    return this.expired ? 0 : Math.max(0, this.validUntil - now);
  }
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
