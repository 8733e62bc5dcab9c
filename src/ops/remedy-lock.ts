// Where a reset or start takes the operation lock when etcd main cannot hold
// it (src/domain/ops/plan-remedy.ts, LockPlace): the same lease-held key in
// etcd events, or a local file when neither cluster has quorum.
import type { LockRecord } from '../domain/ops/lock.js';
import type { Plan } from '../domain/ops/plan.js';
import type { EtcdOps, LiveMember } from './etcd-ops.js';
import { acquireLocalLock } from './local-lock.js';
import { acquireLock, type LockAttempt } from './lock.js';

export type LockTaker = (
  record: LockRecord,
  log: (line: string) => void,
  exclude: (m: LiveMember) => boolean,
) => Promise<LockAttempt>;

/** The fallback taker of a remedy's plan; null: the usual lock in etcd main. */
export function remedyLockTaker(plan: Plan, events: EtcdOps, journalDir: string): LockTaker | null {
  const place = plan.remedy?.lockPlace;
  if (place === 'events')
    return (record, log, exclude) =>
      acquireLock(events, record, (line) => log(line.replace(/^etcd main/, 'etcd events')), exclude);
  if (place === 'local') return async (record, log) => acquireLocalLock(journalDir, record, log);
  return null;
}
