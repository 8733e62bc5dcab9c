// The cluster-wide operation lock: a key in etcd main created only if absent,
// attached to a lease that this process keeps alive. A console or script that
// dies stops the keepalives and its lock expires with the lease; a second one
// sees the holder and refuses.
//
// The lock is never silently lost: keepalives go through any healthy voter
// (one member frozen or partitioned does not cost the lock), and the lock's
// validity is tracked on this process's own clock from the send time of the
// last answered keepalive (LockValidity), not from etcd3's own bookkeeping,
// which notices a lost lease only after twice the TTL. The moment it lapses,
// `signal` aborts, so that long waits stop and no further change is made.
import type { Etcd3 } from 'etcd3';
import {
  decodeLock,
  encodeLock,
  LOCK_KEY,
  LOCK_TTL_SECONDS,
  type LockRecord,
  LockValidity,
  provablyDead,
} from '../domain/ops/lock.js';
import { errorMessage } from '../sources/etcd-client.js';
import type { EtcdOps, LiveMember } from './etcd-ops.js';
import { hostIdentity, selfIdentity, startTicksOf } from './process-identity.js';

export interface HeldLock {
  record: LockRecord;
  /** No keepalive was answered for the TTL less a margin, or etcd said the lease is gone. */
  lost(): boolean;
  /** Why it was lost, for the journal and the operator. */
  lostReason(): string | null;
  /** Aborted the moment the lock is known lost: waits and the executor listen to it. */
  readonly signal: AbortSignal;
  /** After a loss: takes the lock again under a new lease, unless someone else holds it now. */
  reacquire(): Promise<{ ok: true } | { ok: false; reason: string }>;
  release(): Promise<void>;
}

export type LockAttempt = { ok: true; lock: HeldLock } | { ok: false; holder: LockRecord };

export interface LockOptions {
  ttlSeconds?: number;
  /** Counted off the validity for clock drift and the time to notice (default: a fifth of the TTL). */
  marginMs?: number;
  /** Deadline of one keepalive through one member (default 2 s). */
  callTimeoutMs?: number;
  now?: () => number;
}

/** The current holder, or null. */
export async function readLock(
  etcd: EtcdOps,
  exclude?: (m: LiveMember) => boolean,
): Promise<LockRecord | null> {
  const snap = await etcd.snapshot(true);
  const { endpoint } = etcd.pickHealthy(snap, exclude);
  const v = await (await etcd.client(endpoint)).get(LOCK_KEY).string();
  return v === null ? null : decodeLock(v);
}

/** Voters that answered just now, the chosen one first: where keepalives may go. */
async function voterEndpoints(
  etcd: EtcdOps,
  exclude: (m: LiveMember) => boolean,
  first?: string,
): Promise<string[]> {
  const snap = await etcd.snapshot(true);
  const { endpoint } = etcd.pickHealthy(snap, exclude);
  const all = snap.members
    .filter((m) => !m.isLearner && !exclude(m))
    .map((m) => snap.statuses.get(m.id)?.endpoint)
    .filter((e): e is string => Boolean(e));
  const head = first && all.includes(first) ? first : endpoint;
  return [head, ...all.filter((e) => e !== head)];
}

/** One keepalive through one member: the lease's remaining TTL in seconds (<= 0: gone). */
async function keepAliveOnce(client: Etcd3, leaseId: string, timeoutMs: number): Promise<number> {
  const stream = await client.leaseClient.leaseKeepAlive({ deadline: Date.now() + timeoutMs });
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`deadline exceeded: no keepalive answer in ${timeoutMs} ms`)),
        timeoutMs,
      );
      stream.on('data', (res: { TTL: string }) => {
        clearTimeout(timer);
        resolve(Number(res.TTL));
      });
      stream.on('error', (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      });
      stream.write({ ID: leaseId });
    });
  } finally {
    stream.end();
  }
}

interface Grant {
  leaseId: string;
  sentAt: number;
  endpoint: string;
}

async function tryTake(
  etcd: EtcdOps,
  record: LockRecord,
  ttlSeconds: number,
  endpoint: string,
  now: () => number,
): Promise<
  { ok: true; grant: Grant; full: LockRecord } | { ok: false; holder: LockRecord; leaseId: string }
> {
  const client = await etcd.client(endpoint);
  const sentAt = now();
  const { ID: leaseId } = await client.leaseClient.leaseGrant({ TTL: ttlSeconds, ID: 0 });
  const full: LockRecord = { ...record, leaseId };
  const res = await client
    .if(LOCK_KEY, 'Create', '==', 0)
    .then(client.put(LOCK_KEY).value(encodeLock(full)).lease(leaseId))
    .else(client.get(LOCK_KEY))
    .commit();
  if (res.succeeded) return { ok: true, grant: { leaseId, sentAt, endpoint }, full };
  await client.leaseClient.leaseRevoke({ ID: leaseId }).catch(() => {});
  const kv = res.responses[0]?.response_range?.kvs[0];
  return { ok: false, holder: kv ? decodeLock(kv.value.toString()) : decodeLock(''), leaseId };
}

export async function acquireLock(
  etcd: EtcdOps,
  record: LockRecord,
  log: (line: string) => void,
  exclude: (m: LiveMember) => boolean = () => false,
  opts: LockOptions = {},
): Promise<LockAttempt> {
  const ttlSeconds = opts.ttlSeconds ?? LOCK_TTL_SECONDS;
  const now = opts.now ?? Date.now;
  const identity = selfIdentity();
  const mine: LockRecord = { ...record, holder: { ...record.holder, ...(identity ? { identity } : {}) } };
  // Never hold the lock through the member that is about to be removed.
  let endpoints = await voterEndpoints(etcd, exclude);
  const endpoint = endpoints[0]!;
  for (let attempt = 0; attempt < 2; attempt++) {
    const got = await tryTake(etcd, mine, ttlSeconds, endpoint, now);
    if (got.ok) {
      log(
        `etcd main put ${LOCK_KEY} if absent, lease ${got.grant.leaseId} ttl ${ttlSeconds}s → taken (via ${endpoint})`,
      );
      endpoints = [endpoint, ...endpoints.filter((e) => e !== endpoint)];
      return { ok: true, lock: new KeptLock(etcd, got.full, got.grant, endpoints, exclude, log, opts) };
    }
    const holder = got.holder;
    log(
      `etcd main put ${LOCK_KEY} if absent → held by ${holder.holder.user}@${holder.holder.host} pid ${holder.holder.pid}`,
    );
    // A holder proven dead (same boot and pid namespace, its process gone) need not be waited out.
    const here = hostIdentity();
    if (attempt === 0 && here && holder.leaseId && provablyDead(holder.holder, here, startTicksOf)) {
      try {
        await (await etcd.client(endpoint)).leaseClient.leaseRevoke({ ID: holder.leaseId });
        log(`etcd main lease revoke ${holder.leaseId} → lock of dead pid ${holder.holder.pid} released`);
        continue;
      } catch (err) {
        log(`etcd main lease revoke ${holder.leaseId} → ${errorMessage(err)}`);
      }
    }
    return { ok: false, holder };
  }
  throw new Error('unreachable');
}

class KeptLock implements HeldLock {
  private validity: LockValidity;
  private grant: Grant;
  private reason: string | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private busy = false;
  private released = false;
  private readonly ttlMs: number;
  private readonly marginMs: number;
  private readonly callTimeoutMs: number;
  private readonly now: () => number;
  /** Fresh per lease: a new signal after a re-acquire. */
  private controller: AbortController;

  constructor(
    private readonly etcd: EtcdOps,
    public record: LockRecord,
    grant: Grant,
    private endpoints: string[],
    private readonly exclude: (m: LiveMember) => boolean,
    private readonly log: (line: string) => void,
    opts: LockOptions,
  ) {
    this.ttlMs = (opts.ttlSeconds ?? LOCK_TTL_SECONDS) * 1000;
    this.marginMs = opts.marginMs ?? this.ttlMs / 5;
    this.callTimeoutMs = opts.callTimeoutMs ?? 2000;
    this.now = opts.now ?? Date.now;
    this.grant = grant;
    this.validity = new LockValidity(this.ttlMs, this.marginMs, grant.sentAt);
    this.controller = new AbortController();
    this.schedule();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  lost(): boolean {
    if (!this.reason && this.validity.lost(this.now())) this.markLost(this.lapseReason());
    return this.reason !== null;
  }

  lostReason(): string | null {
    this.lost();
    return this.reason;
  }

  private lapseReason(): string {
    return `no keepalive of lease ${this.grant.leaseId} was answered by any etcd main voter for ${((this.ttlMs - this.marginMs) / 1000).toFixed(1)} s: the lock may have expired`;
  }

  private markLost(reason: string): void {
    if (this.reason) return;
    this.reason = reason;
    this.log(`etcd main lock ${LOCK_KEY} lost: ${reason}`);
    this.stopTimers();
    this.controller.abort(new Error(`the operation lock was lost: ${reason}`));
  }

  private stopTimers(): void {
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.watchdog) clearTimeout(this.watchdog);
    this.tickTimer = null;
    this.watchdog = null;
  }

  /** Keepalive at a third of the TTL; a watchdog fires the moment validity runs out. */
  private schedule(): void {
    if (this.released || this.reason) return;
    this.tickTimer = setTimeout(() => void this.tick(), this.ttlMs / 3);
    this.tickTimer.unref();
    this.arm();
  }

  private arm(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.lost(), this.validity.leftMs(this.now()) + 1);
    this.watchdog.unref();
  }

  private async tick(): Promise<void> {
    if (this.busy || this.released || this.reason) return;
    this.busy = true;
    try {
      await this.keepAlive();
    } finally {
      this.busy = false;
      if (!this.lost()) this.schedule();
    }
  }

  /** Through the last member that answered, then every other voter; then a fresh look at the members. */
  private async keepAlive(): Promise<void> {
    const sentAt = this.now();
    const errors: string[] = [];
    for (let round = 0; round < 2; round++) {
      for (const e of this.endpoints) {
        if (this.validity.lost(this.now())) return;
        try {
          const ttl = await keepAliveOnce(await this.etcd.client(e), this.grant.leaseId, this.callTimeoutMs);
          if (ttl <= 0) {
            this.validity.gone();
            this.markLost(`etcd says lease ${this.grant.leaseId} is gone (expired or revoked)`);
            return;
          }
          this.validity.answered(sentAt, ttl);
          if (e !== this.endpoints[0]) {
            this.log(
              `etcd main lease keepalive ${this.grant.leaseId} → moved to ${e} (${errors.join('; ')})`,
            );
            this.endpoints = [e, ...this.endpoints.filter((x) => x !== e)];
          }
          this.arm();
          return;
        } catch (err) {
          errors.push(`${e}: ${errorMessage(err)}`);
        }
      }
      if (round === 0) {
        try {
          this.endpoints = await voterEndpoints(this.etcd, this.exclude);
        } catch (err) {
          errors.push(errorMessage(err));
          break;
        }
      }
    }
    this.log(`etcd main lease keepalive ${this.grant.leaseId} → no voter answered (${errors.join('; ')})`);
  }

  async reacquire(): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (!this.lost()) return { ok: true };
    try {
      const endpoints = await voterEndpoints(this.etcd, this.exclude);
      const got = await tryTake(this.etcd, this.record, this.ttlMs / 1000, endpoints[0]!, this.now);
      if (!got.ok) {
        // Our key under our lease: etcd never let it expire (only our clock gave up on it). Keep it.
        const ours =
          got.holder.operationId === this.record.operationId && got.holder.leaseId === this.grant.leaseId;
        if (ours) {
          const sentAt = this.now();
          const ttl = await keepAliveOnce(
            await this.etcd.client(endpoints[0]!),
            this.grant.leaseId,
            this.callTimeoutMs,
          );
          if (ttl > 0) {
            this.log(`etcd main lease keepalive ${this.grant.leaseId} → still ours (ttl ${ttl}s)`);
            this.renew({ ...this.grant, sentAt }, this.record, endpoints);
            return { ok: true };
          }
          return { ok: false, reason: `lease ${this.grant.leaseId} expired; its key is not yet gone` };
        }
        return {
          ok: false,
          reason: `another operation holds the lock now: ${got.holder.summary} (${got.holder.holder.user}@${got.holder.holder.host})`,
        };
      }
      this.log(
        `etcd main put ${LOCK_KEY} if absent, lease ${got.grant.leaseId} → taken again (via ${endpoints[0]})`,
      );
      this.renew(got.grant, got.full, endpoints);
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: `cannot take the lock again: ${errorMessage(err)}` };
    }
  }

  private renew(grant: Grant, record: LockRecord, endpoints: string[]): void {
    this.grant = grant;
    this.record = record;
    this.endpoints = endpoints;
    this.validity = new LockValidity(this.ttlMs, this.marginMs, grant.sentAt);
    this.reason = null;
    this.controller = new AbortController();
    this.schedule();
  }

  async release(): Promise<void> {
    this.released = true;
    this.stopTimers();
    const leaseId = this.grant.leaseId;
    for (const e of this.endpoints) {
      try {
        await (await this.etcd.client(e)).leaseClient.leaseRevoke({ ID: leaseId });
        this.log(`etcd main lease revoke ${leaseId} → lock ${LOCK_KEY} released`);
        return;
      } catch (err) {
        this.log(`etcd main lease revoke ${leaseId} via ${e} → ${errorMessage(err)}`);
      }
    }
    this.log(`etcd main lease ${leaseId} not revoked: the lock expires within ${this.ttlMs / 1000}s`);
  }
}
