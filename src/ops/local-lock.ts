// The operation lock's last fallback, for `kube-ha reset | start` when neither
// etcd cluster has quorum (src/domain/ops/plan-remedy.ts, LockPlace): a file
// in the target's journal directory, created only if absent (O_EXCL), naming
// its holder. It keeps two kube-ha processes on this machine apart, and
// nothing else: the plan and the result say so. A holder proven dead (same
// boot and pid namespace, its process gone) does not keep it.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { decodeLock, encodeLock, type LockRecord, provablyDead } from '../domain/ops/lock.js';
import type { HeldLock, LockAttempt } from './lock.js';
import { hostIdentity, selfIdentity, startTicksOf } from './process-identity.js';

export const LOCAL_LOCK_FILE = 'operation.lock';

export function localLockPath(dir: string): string {
  return join(dir, LOCAL_LOCK_FILE);
}

/** The holder of the local lock, or null (a file that cannot be read still counts as held). */
export function readLocalLock(dir: string): LockRecord | null {
  let text: string;
  try {
    text = readFileSync(localLockPath(dir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return decodeLock('');
  }
  const holder = decodeLock(text);
  const here = hostIdentity();
  // A dead holder's file is no lock: the next acquire removes it.
  return here && provablyDead(holder.holder, here, startTicksOf) ? null : holder;
}

class LocalLock implements HeldLock {
  private readonly ac = new AbortController();
  constructor(
    public record: LockRecord,
    private readonly path: string,
    private readonly log: (line: string) => void,
  ) {}
  get signal(): AbortSignal {
    return this.ac.signal;
  }
  /** A file does not expire: it is held until released. */
  lost(): boolean {
    return false;
  }
  lostReason(): string | null {
    return null;
  }
  async reacquire(): Promise<{ ok: true }> {
    return { ok: true };
  }
  async release(): Promise<void> {
    try {
      // Only ours: never the file of a process that took it after a dead holder of ours.
      const now = decodeLock(readFileSync(this.path, 'utf8'));
      if (now.operationId === this.record.operationId && now.holder.pid === this.record.holder.pid) {
        rmSync(this.path, { force: true });
        this.log(`local lock ${this.path} released`);
      }
    } catch {
      // already gone
    }
  }
}

export function acquireLocalLock(dir: string, record: LockRecord, log: (line: string) => void): LockAttempt {
  const path = localLockPath(dir);
  const identity = selfIdentity();
  const mine: LockRecord = { ...record, holder: { ...record.holder, ...(identity ? { identity } : {}) } };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, `${encodeLock(mine)}\n`);
      } finally {
        closeSync(fd);
      }
      log(`local lock ${path} taken (no etcd cluster has quorum: other machines are not kept out)`);
      return { ok: true, lock: new LocalLock(mine, path, log) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readLocalLock(dir);
    if (holder) {
      log(
        `local lock ${path} → held by ${holder.holder.user}@${holder.holder.host} pid ${holder.holder.pid}`,
      );
      return { ok: false, holder };
    }
    log(`local lock ${path} → its holder is dead: removed`);
    rmSync(path, { force: true });
  }
  throw new Error(`cannot take the local lock ${path}`);
}
