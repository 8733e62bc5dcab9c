// The snapshot every operation takes before it changes anything: etcd main's
// data from a healthy member (a follower when there is one, to spare the
// leader), saved in the state dir and verified, its path and revision kept in
// the journal's facts and shown in the result.
import { takeSnapshot } from '../take-snapshot.js';
import type { RunnersFor } from './context.js';

export const SNAPSHOT_RUNNERS: RunnersFor<'etcd.snapshot'> = {
  'etcd.snapshot': {
    async run(step, ctx) {
      const dir = ctx.snapshotDir;
      if (!dir) return { skipped: true, note: 'no state dir for snapshots: skipped' };
      const cluster = step.args.cluster;
      const { record: saved, pruned } = await takeSnapshot(
        ctx.etcd[cluster],
        dir,
        `${ctx.plan.operationId}-${cluster}.db`,
        {
          operationId: ctx.plan.operationId,
          signal: ctx.signal,
        },
      );
      ctx.facts[`snapshot.${cluster}`] = saved.file;
      ctx.facts[`snapshot.${cluster}.revision`] = saved.revision;
      const mb = (saved.bytes / 1024 / 1024).toFixed(1);
      return {
        note: `saved ${saved.file} (revision ${saved.revision}, ${mb} MB, sha256 ok; restore with etcdutl snapshot restore)${pruned.length ? `; ${pruned.length} older snapshot(s) deleted` : ''}`,
      };
    },
  },
};
