// The cluster-wide operation lock: a key in etcd main created only if absent,
// attached to a lease that this process keeps alive. A console or script that
// dies stops the keepalives and its lock expires with the lease; a second one
// sees the holder and refuses.
import { hostname } from 'node:os';
import type { Lease } from 'etcd3';
import { decodeLock, encodeLock, LOCK_KEY, LOCK_TTL_SECONDS, type LockRecord } from '../domain/ops/lock.js';
import { errorMessage } from '../sources/etcd-client.js';
import type { EtcdOps, LiveMember } from './etcd-ops.js';

export interface HeldLock {
  record: LockRecord;
  /** The lease expired or was revoked: another operation may take the lock. */
  lost(): boolean;
  release(): Promise<void>;
}

export type LockAttempt = { ok: true; lock: HeldLock } | { ok: false; holder: LockRecord };

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
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

export async function acquireLock(
  etcd: EtcdOps,
  record: LockRecord,
  log: (line: string) => void,
  exclude?: (m: LiveMember) => boolean,
): Promise<LockAttempt> {
  const snap = await etcd.snapshot(true);
  // Never hold the lock through the member that is about to be removed.
  const { endpoint } = etcd.pickHealthy(snap, exclude);
  const client = await etcd.client(endpoint);
  for (let attempt = 0; attempt < 2; attempt++) {
    const lease: Lease = client.lease(LOCK_TTL_SECONDS);
    let lost = false;
    lease.on('lost', () => {
      lost = true;
    });
    const leaseId = await lease.grant();
    const full: LockRecord = { ...record, leaseId };
    const res = await client
      .if(LOCK_KEY, 'Create', '==', 0)
      .then(client.put(LOCK_KEY).value(encodeLock(full)).lease(leaseId))
      .else(client.get(LOCK_KEY))
      .commit();
    if (res.succeeded) {
      log(
        `etcd main put ${LOCK_KEY} if absent, lease ${leaseId} ttl ${LOCK_TTL_SECONDS}s → taken (via ${endpoint})`,
      );
      return {
        ok: true,
        lock: {
          record: full,
          lost: () => lost || lease.revoked(),
          release: async () => {
            try {
              await lease.revoke();
              log(`etcd main lease revoke ${leaseId} → lock ${LOCK_KEY} released`);
            } catch (err) {
              log(
                `etcd main lease revoke ${leaseId} → ${errorMessage(err)} (the lock expires in ${LOCK_TTL_SECONDS}s)`,
              );
            }
          },
        },
      };
    }
    await lease.revoke().catch(() => {});
    const kv = res.responses[0]?.response_range?.kvs[0];
    const holder = kv ? decodeLock(kv.value.toString()) : decodeLock('');
    log(
      `etcd main put ${LOCK_KEY} if absent → held by ${holder.holder.user}@${holder.holder.host} pid ${holder.holder.pid}`,
    );
    // A holder that died on this very host need not be waited out: its lease is revoked.
    const dead =
      holder.holder.host === hostname() && holder.holder.pid !== process.pid && !pidAlive(holder.holder.pid);
    if (attempt === 0 && dead && holder.leaseId) {
      try {
        await client.leaseClient.leaseRevoke({ ID: holder.leaseId });
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
