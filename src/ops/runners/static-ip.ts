// The replica's external IP: the static IP moved onto a sole replica and off
// it again when a load balancer takes over; the NIC helpers the instance and
// address runners share.

import { compute, type RunContext, type RunnersFor } from './context.js';

export interface Nic {
  name?: string | null;
  subnetwork?: string | null;
  networkIP?: string | null;
  accessConfigs?: { name?: string | null; natIP?: string | null; type?: string | null }[] | null;
}

export function nic0(inst: { networkInterfaces?: Nic[] | null }): Nic | null {
  return inst.networkInterfaces?.[0] ?? null;
}

export async function staticIP(ctx: RunContext, address: string): Promise<string> {
  const a = await compute(ctx).getAddress(address);
  if (!a?.address) throw new Error(`static address ${address} does not exist in ${compute(ctx).region}`);
  ctx.facts.staticIP = a.address;
  return a.address;
}

/** Swaps the replica's external access config for one with `natIP` (null: ephemeral). */
export async function setExternalIP(
  ctx: RunContext,
  zone: string,
  name: string,
  natIP: string | null,
): Promise<void> {
  const c = compute(ctx);
  const inst = await c.getInstance(zone, name);
  if (!inst) throw new Error(`VM ${name} does not exist in ${zone}`);
  const nic = nic0(inst);
  const nicName = nic?.name ?? 'nic0';
  const current = nic?.accessConfigs?.[0];
  const acName = current?.name ?? 'External NAT';
  if (current) {
    await c.deleteAccessConfig(zone, name, nicName, acName);
  }
  await c.addAccessConfig(zone, name, nicName, { name: acName, natIP });
}

export function holds(inst: { networkInterfaces?: Nic[] | null } | null, ip: string): boolean {
  return Boolean(inst && nic0(inst)?.accessConfigs?.some((a) => a.natIP === ip));
}

export const STATIC_IP_RUNNERS: RunnersFor<'lb.detach-static-ip' | 'lb.attach-static-ip'> = {
  'lb.detach-static-ip': {
    async run(step, ctx) {
      const { replica, address } = step.args;
      const ip = await staticIP(ctx, address);
      const inst = await compute(ctx).getInstance(replica.zone, replica.name);
      if (!holds(inst, ip)) return { note: `${replica.name} does not hold ${ip}` };
      await setExternalIP(ctx, replica.zone, replica.name, null);
      return { note: `${ip} released by ${replica.name}` };
    },
    async undo(step, ctx) {
      const { replica, address } = step.args;
      const ip = await staticIP(ctx, address);
      const inst = await compute(ctx).getInstance(replica.zone, replica.name);
      if (!inst) throw new Error(`VM ${replica.name} is gone: ${ip} cannot go back to it`);
      if (holds(inst, ip)) return { note: `${replica.name} already holds ${ip}` };
      await setExternalIP(ctx, replica.zone, replica.name, ip);
      return { note: `${ip} back on ${replica.name}` };
    },
  },

  'lb.attach-static-ip': {
    async run(step, ctx) {
      const { replica, address } = step.args;
      const ip = await staticIP(ctx, address);
      const inst = await compute(ctx).getInstance(replica.zone, replica.name);
      if (!inst) throw new Error(`VM ${replica.name} does not exist`);
      if (holds(inst, ip)) return { note: `${replica.name} already holds ${ip}` };
      await setExternalIP(ctx, replica.zone, replica.name, ip);
      return { note: `${ip} on ${replica.name}` };
    },
  },
};
