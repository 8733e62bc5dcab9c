// The operation lock of a defrag. The lock is a lease and a key in etcd main,
// and etcd main in NOSPACE refuses both (a lease grant is refused like a put,
// until the alarm is disarmed). While the alarm stands no other operation can
// take main's lock either, so a defrag then takes the same lock in etcd
// events instead: a second defrag sees it there. A holder already in main
// (taken before the alarm) is respected.
import type { LockRecord } from '../domain/ops/lock.js';
import { errorMessage } from '../sources/etcd-client.js';
import type { EtcdOps, LiveMember } from './etcd-ops.js';
import { acquireLock, type LockAttempt, readLock } from './lock.js';

const NOSPACE = /database space exceeded|NOSPACE/i;

export async function acquireDefragLock(
  etcd: { main: EtcdOps; events: EtcdOps },
  record: LockRecord,
  log: (line: string) => void,
  exclude: (m: LiveMember) => boolean,
): Promise<LockAttempt> {
  try {
    return await acquireLock(etcd.main, record, log, exclude);
  } catch (err) {
    const msg = errorMessage(err);
    if (!NOSPACE.test(msg)) throw err;
    const holder = await readLock(etcd.main);
    if (holder) return { ok: false, holder };
    log(
      `etcd main refuses writes (${msg}): the operation lock is taken in etcd events until main is disarmed`,
    );
    try {
      // The lock's own lines say `etcd main`: here it is held in events.
      return await acquireLock(etcd.events, record, (l) => log(l.replace(/^etcd main /, 'etcd events ')));
    } catch (e) {
      throw new Error(
        `etcd main refuses writes (NOSPACE) and etcd events would not take the lock either (${errorMessage(e)}): defragment events by hand first`,
      );
    }
  }
}
