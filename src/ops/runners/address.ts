// The replica's reserved internal address (peers by IP), in the source's subnetwork.

import { compute, deleted, type RunnersFor } from './context.js';
import { nic0 } from './static-ip.js';

export const ADDRESS_RUNNERS: RunnersFor<'address.reserve-internal' | 'address.delete'> = {
  'address.reserve-internal': {
    async run(step, ctx) {
      const c = compute(ctx);
      const a = step.args;
      const existing = await c.getAddress(a.name);
      if (existing?.address) {
        ctx.facts.internalIP = existing.address;
        return { note: `already reserved: ${existing.address}` };
      }
      const src = ctx.plan.add?.source;
      const inst = src ? await c.getInstance(src.zone, src.name) : null;
      const subnetwork = inst ? nic0(inst)?.subnetwork : null;
      await c.insertInternalAddress({ region: a.region, name: a.name, subnetwork: subnetwork ?? null });
      const got = await c.getAddress(a.name);
      if (!got?.address) throw new Error(`internal address ${a.name} has no IP after its insert`);
      ctx.facts.internalIP = got.address;
      return { note: got.address };
    },
    async undo(step, ctx) {
      return deleted(await compute(ctx).deleteAddress(step.args.region, step.args.name));
    },
    async absent(step, ctx) {
      return (await compute(ctx).getAddress(step.args.name)) === null;
    },
  },

  'address.delete': {
    async run(step, ctx) {
      return deleted(await compute(ctx).deleteAddress(step.args.region, step.args.name), 'no such address');
    },
  },
};
