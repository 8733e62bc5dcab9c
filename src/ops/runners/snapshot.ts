// The snapshot every operation takes before it changes anything: etcd main's
// data from a healthy member (a follower when there is one, to spare the
// leader), saved in the state dir and verified, its path and revision kept in
// the journal's facts and shown in the result.
import { join } from 'node:path';
import { pruneSnapshots, writeSnapshotRecord } from '../etcd-snapshot.js';
import type { RunnersFor } from './context.js';

/** A large database over a slow link takes minutes; a stream that stalls is cut much sooner. */
const SNAPSHOT_DEADLINE_MS = 15 * 60_000;
const SNAPSHOT_IDLE_MS = 30_000;

export const SNAPSHOT_RUNNERS: RunnersFor<'etcd.snapshot'> = {
  'etcd.snapshot': {
    async run(step, ctx) {
      const dir = ctx.snapshotDir;
      if (!dir) return { skipped: true, note: 'no state dir for snapshots: skipped' };
      const cluster = step.args.cluster;
      const etcd = ctx.etcd[cluster];
      const snap = await etcd.snapshot(true);
      // A follower when there is one: the leader's disk and network carry every write.
      let from: { endpoint: string };
      try {
        from = etcd.pickHealthy(snap, (m) => m.id === snap.leader);
      } catch {
        from = etcd.pickHealthy(snap);
      }
      const path = join(dir, `${ctx.plan.operationId}-${cluster}.db`);
      const saved = await etcd.saveSnapshot(path, from.endpoint, {
        deadlineMs: SNAPSHOT_DEADLINE_MS,
        idleMs: SNAPSHOT_IDLE_MS,
        signal: ctx.signal,
      });
      writeSnapshotRecord(saved, { cluster, from: from.endpoint, operationId: ctx.plan.operationId });
      ctx.facts[`snapshot.${cluster}`] = saved.path;
      ctx.facts[`snapshot.${cluster}.revision`] = saved.revision;
      const pruned = pruneSnapshots(dir);
      const mb = (saved.bytes / 1024 / 1024).toFixed(1);
      return {
        note: `saved ${saved.path} (revision ${saved.revision}, ${mb} MB, sha256 ok; restore with etcdutl snapshot restore)${pruned.length ? `; ${pruned.length} older snapshot(s) deleted` : ''}`,
      };
    },
  },
};
