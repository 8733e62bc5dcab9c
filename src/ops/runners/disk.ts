// The replica's etcd data disk: made like the source's, deleted.

import { lastSegment } from '../../domain/names.js';
import { compute, deleted, type RunnersFor } from './context.js';

export const DISK_RUNNERS: RunnersFor<'disk.create' | 'disk.delete'> = {
  'disk.create': {
    async run(step, ctx) {
      const c = compute(ctx);
      const a = step.args;
      if (await c.getDisk(a.zone, a.name)) return { note: 'already exists' };
      const like = await c.getDisk(a.like.zone, a.like.name);
      const type = lastSegment(like?.type ?? 'pd-ssd');
      const sizeGb = String(like?.sizeGb ?? '20');
      await c.insertDisk({ zone: a.zone, name: a.name, type, sizeGb });
      return like ? {} : { note: `${a.like.name} not found: pd-ssd 20 GB` };
    },
    async undo(step, ctx) {
      return deleted(await compute(ctx).deleteDisk(step.args.zone, step.args.name));
    },
    async absent(step, ctx) {
      return (await compute(ctx).getDisk(step.args.zone, step.args.name)) === null;
    },
  },

  'disk.delete': {
    async run(step, ctx) {
      return deleted(await compute(ctx).deleteDisk(step.args.zone, step.args.name), 'no such disk');
    },
  },
};
