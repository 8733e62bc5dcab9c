// An instance's life: PROVISIONING -> STAGING -> (the lab boots the VM) ->
// RUNNING, and STOPPING -> (the lab stops it) -> gone, giving back ephemeral
// IPs, static addresses (RESERVED again) and disks (deleted if autoDelete).
import { type ActionSpec, ClosedError, type ServiceContext } from '../context.js';
import { OperationFailure } from '../errors.js';
import { timestamp } from '../ids.js';
import { lastSegment } from '../names.js';
import type { InstanceResource, InstanceStatus } from '../types.js';
import { releaseStaticAddress } from './addresses.js';
import { removeFrom } from './common.js';

function setStatus(ctx: ServiceContext, key: string, status: InstanceStatus): InstanceResource | null {
  const e = ctx.state.instances.get(key);
  if (!e) return null;
  e.res.status = status;
  ctx.changed();
  return e.res;
}

function markCreatedDisksReady(ctx: ServiceContext, key: string): void {
  for (const dk of ctx.state.instances.get(key)?.meta.createdDisks ?? []) {
    const d = ctx.state.disks.get(dk);
    if (!d) continue;
    delete d.meta.pending;
    d.res.status = 'READY';
  }
}

/** Runs while the insert operation is RUNNING; RUNNING itself is set by the commit. */
export async function bootWork(ctx: ServiceContext, key: string): Promise<void> {
  const half = Math.round(ctx.timing.instanceBootMs / 2);
  await ctx.sleep(half);
  markCreatedDisksReady(ctx, key);
  setStatus(ctx, key, 'STAGING');
  await ctx.sleep(ctx.timing.instanceBootMs - half);
  const inst = ctx.state.instances.get(key)?.res;
  if (!inst) throw new OperationFailure('RESOURCE_NOT_FOUND', 'The instance disappeared while booting.', 404);
  // The hook sees RUNNING, the status the VM will have once it answers.
  const view = structuredClone({ ...inst, status: 'RUNNING' as const });
  try {
    await ctx.guard(ctx.hooks.onInstanceRunning(view));
  } catch (err) {
    if (err instanceof ClosedError || ctx.closed) throw err;
    // A half-booted VM must not outlive its failed insert.
    await ctx.guard(ctx.hooks.onInstanceStopping(view)).catch(() => {});
    const code = (err as { code?: unknown })?.code;
    throw new OperationFailure(
      typeof code === 'string' && /^[A-Z][A-Z_]+$/.test(code) ? code : 'INTERNAL_ERROR',
      `Instance '${inst.name}' failed to start: ${err instanceof Error ? err.message : String(err)}`,
      500,
    );
  }
}

/** Runs while the delete operation is RUNNING: STOPPING for at least instanceStopMs and until the VM stopped. */
export async function stopWork(ctx: ServiceContext, key: string): Promise<void> {
  const inst = setStatus(ctx, key, 'STOPPING');
  if (!inst) return;
  const view = structuredClone(inst);
  // Deletion is forceful in GCE: a failing stop hook does not keep the instance.
  const stopped = ctx.guard(ctx.hooks.onInstanceStopping(view)).catch((err) => {
    if (err instanceof ClosedError) throw err;
  });
  await Promise.all([stopped, ctx.sleep(ctx.timing.instanceStopMs)]);
  setStatus(ctx, key, 'TERMINATED');
}

/**
 * Removes the instance and gives back what it held. `delete` deletes its
 * autoDelete disks; `rollback` (a failed insert) deletes the disks the insert
 * created and detaches the others.
 */
export function teardownInstance(ctx: ServiceContext, key: string, mode: 'delete' | 'rollback'): void {
  const e = ctx.state.instances.get(key);
  if (!e) return;
  const url = e.res.selfLink;
  const zone = key.slice(0, key.indexOf('/'));
  const allocated = e.meta.allocatedIPs ?? [];
  for (const ip of allocated) ctx.releaseIP(ip);
  for (const nic of e.res.networkInterfaces) {
    // GCE: a reserved internal address goes back to RESERVED, with no users, once its instance is gone.
    if (!allocated.includes(nic.networkIP)) releaseStaticAddress(ctx, nic.networkIP, url);
    for (const ac of nic.accessConfigs ?? [])
      if (ac.natIP && !allocated.includes(ac.natIP)) releaseStaticAddress(ctx, ac.natIP, url);
  }
  for (const d of e.res.disks) {
    const dk = `${zone}/${lastSegment(d.source)}`;
    const disk = ctx.state.disks.get(dk);
    if (!disk) continue;
    const users = removeFrom(disk.res.users, url);
    if (users) disk.res.users = users;
    else delete disk.res.users;
    if (disk.meta.attachModes) delete disk.meta.attachModes[url];
    const remove = mode === 'delete' ? d.autoDelete : (e.meta.createdDisks ?? []).includes(dk);
    if (remove && !users) ctx.state.disks.delete(dk);
    else {
      disk.res.lastDetachTimestamp = timestamp(ctx.now());
      // A disk the failed insert created but another instance now uses stays, READY.
      if (disk.meta.pending) {
        delete disk.meta.pending;
        disk.res.status = 'READY';
      }
    }
  }
  ctx.state.instances.delete(key);
}

export const instanceLifecycleActions: Record<string, ActionSpec> = {
  'instances.insert': {
    onRestart: 'rollback',
    commit: (ctx, a) => {
      const e = ctx.state.instances.get(a.key);
      if (!e) return;
      markCreatedDisksReady(ctx, a.key);
      delete e.meta.pending;
      e.res.status = 'RUNNING';
      e.res.lastStartTimestamp = timestamp(ctx.now());
    },
    rollback: (ctx, a) => teardownInstance(ctx, a.key, 'rollback'),
  },
  'instances.delete': {
    onRestart: 'commit',
    commit: (ctx, a) => teardownInstance(ctx, a.key, 'delete'),
    rollback: (ctx, a) => {
      const e = ctx.state.instances.get(a.key);
      if (e) e.res.status = (a.data?.prevStatus as InstanceStatus | undefined) ?? 'RUNNING';
    },
  },
};
