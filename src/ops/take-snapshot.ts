// A snapshot as both `kube-ha snapshot` and an operation's first step take it:
// from a healthy member (a follower when there is one: the leader's disk and
// network carry every write), verified, recorded beside the file, and the
// oldest ones in its directory pruned.
import { join } from 'node:path';
import type { RunnerEtcd } from './etcd-ops.js';
import { pruneSnapshots, type SnapshotRecord, writeSnapshotRecord } from './etcd-snapshot.js';

/** A large database over a slow link takes minutes; a stream that stalls is cut much sooner. */
const DEADLINE_MS = 15 * 60_000;
const IDLE_MS = 30_000;

export interface TakenSnapshot {
  record: SnapshotRecord;
  /** Older snapshots deleted (the newest five are kept). */
  pruned: string[];
}

/** Saves `<dir>/<file>` from `etcd`'s cluster; operationId: null for `kube-ha snapshot`. */
export async function takeSnapshot(
  etcd: RunnerEtcd,
  dir: string,
  file: string,
  o: { operationId: string | null; signal?: AbortSignal | undefined },
): Promise<TakenSnapshot> {
  const snap = await etcd.snapshot(true);
  let from: { endpoint: string };
  try {
    from = etcd.pickHealthy(snap, (m) => m.id === snap.leader);
  } catch {
    from = etcd.pickHealthy(snap);
  }
  const saved = await etcd.saveSnapshot(join(dir, file), from.endpoint, {
    deadlineMs: DEADLINE_MS,
    idleMs: IDLE_MS,
    signal: o.signal,
  });
  const record = writeSnapshotRecord(saved, {
    cluster: etcd.cluster,
    from: from.endpoint,
    operationId: o.operationId,
  });
  return { record, pruned: pruneSnapshots(dir) };
}
