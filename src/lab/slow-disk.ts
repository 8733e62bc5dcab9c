// A slow disk under one lab etcd member, for rehearsing what etcd's hardware
// guidance warns of (WAL fsync p99 over 10 ms, backend commit p99 over 25 ms):
// strace attached to the member, delaying each fsync/fdatasync on entry by the
// given time (strace's syscall fault injection, `-e inject=…:delay_enter=`).
// etcd then measures the slow syncs itself, in its own metrics. Needs strace
// and ptrace rights over the member (root on these machines); on a real VM the
// same symptom comes from a throttled or contended persistent disk.
import { type ChildProcess, spawn } from 'node:child_process';
import type { EtcdClusterName } from '../domain/types.js';

/** Attached by then, or it failed (no strace, no ptrace rights). */
const ATTACH_MS = 1500;

export class SlowDisks {
  private readonly tracers = new Map<string, ChildProcess>();

  private key(vm: string, cluster: EtcdClusterName): string {
    return `${vm}/${cluster}`;
  }

  /** Delays every sync of `pid` by `delayMs` (replacing an earlier delay); 0 ends it. */
  async set(vm: string, cluster: EtcdClusterName, pid: number, delayMs: number): Promise<void> {
    this.clear(vm, cluster);
    if (delayMs <= 0) return;
    const child = spawn(
      'strace',
      [
        '-f',
        '-qq',
        '-e',
        'trace=fsync,fdatasync',
        '-e',
        `inject=fsync,fdatasync:delay_enter=${Math.round(delayMs * 1000)}`,
        '-e',
        'signal=none',
        '-o',
        '/dev/null',
        '-p',
        String(pid),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const failed = await new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), ATTACH_MS);
      child.once('error', (err) => {
        clearTimeout(timer);
        resolve(
          (err as NodeJS.ErrnoException).code === 'ENOENT'
            ? 'strace is not installed (apt-get install strace)'
            : err.message,
        );
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(`strace exited (${code}): ${stderr.trim() || 'no reason given'}`);
      });
    });
    if (failed) throw new Error(`cannot slow ${vm}'s etcd ${cluster} disk: ${failed}`);
    this.tracers.set(this.key(vm, cluster), child);
    // The member exiting (crash, restart) ends strace too: forget it then.
    child.once('exit', () => {
      if (this.tracers.get(this.key(vm, cluster)) === child) this.tracers.delete(this.key(vm, cluster));
    });
  }

  /** The delays now in place: `vm/cluster` keys. */
  active(): string[] {
    return [...this.tracers.keys()];
  }

  /** Ends the delay of one member, or of every member of a VM (strace detaches on SIGINT). */
  clear(vm: string, cluster?: EtcdClusterName): void {
    for (const [k, child] of this.tracers) {
      if (k === this.key(vm, cluster ?? 'main') || (!cluster && k.startsWith(`${vm}/`))) {
        child.kill('SIGINT');
        this.tracers.delete(k);
      }
    }
  }

  clearAll(): void {
    for (const child of this.tracers.values()) child.kill('SIGINT');
    this.tracers.clear();
  }
}
