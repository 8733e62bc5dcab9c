// Who this process is, as /proc says it, so that a lock holder can be proven
// dead from another process (see provablyDead in src/domain/ops/lock.ts).
import { readFileSync, readlinkSync } from 'node:fs';
import type { ProcessIdentity } from '../domain/ops/lock.js';

/** Field 22 of /proc/<pid>/stat; null when the process does not exist (here). */
export function startTicksOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is parenthesised and may hold spaces: count after its last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

/** This host's boot and pid namespace; null off Linux (nothing can then be proven). */
export function hostIdentity(): { bootId: string; pidNamespace: string } | null {
  try {
    return {
      bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
      pidNamespace: readlinkSync('/proc/self/ns/pid'),
    };
  } catch {
    return null;
  }
}

export function selfIdentity(): ProcessIdentity | null {
  const host = hostIdentity();
  const startTicks = startTicksOf(process.pid);
  return host && startTicks ? { ...host, startTicks } : null;
}
