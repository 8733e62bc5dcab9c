// instances.stop, instances.start and instances.reset: an instance's power,
// as GCE documents it (compute/docs/instances/instance-life-cycle,
// suspend-stop-reset-instances-overview, and the v1 reference's
// instances.stop/start/reset; the statuses below are the Instance.Status enum):
// - stop: RUNNING -> STOPPING -> TERMINATED. The guest gets an ACPI power off
//   (the lab: SIGTERM to its processes, onInstanceStopping). Disks stay
//   attached with their data, internal IPs (ephemeral or not) stay, an
//   ephemeral external IP is released (the access config stays, without a
//   natIP), a static one stays with the instance (its address stays IN_USE).
//   Stopping a TERMINATED instance succeeds and does nothing.
// - start: TERMINATED -> PROVISIONING -> STAGING -> RUNNING: the VM boots
//   again from its disks (onInstanceRunning) and an access config without a
//   natIP gets a new ephemeral one. Starting a RUNNING instance succeeds and
//   does nothing.
// - reset: a hard reset of a RUNNING instance (no guest shutdown: every
//   process is killed, onInstanceReset) that boots again from its disks; the
//   status stays RUNNING throughout. An instance that is not RUNNING cannot be
//   reset: 400 resourceNotReady, GCE's answer for a resource not in a state
//   that allows the method (reset "can't be called on an instance in the
//   TERMINATED state", cloudfoundry/bosh-google-cpi-release#165).
// Like every other mutation: a zonal operation, one at a time per instance
// (another one running is resourceNotReady), requestId honoured, faults.
import type { ActionSpec, ServiceContext } from '../context.js';
import { notReady, OperationFailure } from '../errors.js';
import { timestamp } from '../ids.js';
import type { Entry } from '../state.js';
import type { InstanceResource, InstanceStatus, OperationResource } from '../types.js';
import { allocateIP } from './addresses.js';
import type { Route } from './common.js';
import { bootWork, stopWork } from './instance-lifecycle.js';
import { instanceMethod } from './instance-method.js';
import { operate, placeIn } from './place.js';

/** An ephemeral external IP given at start: which access config of which NIC. */
interface GivenIP {
  nic: string;
  accessConfig: string;
  ip: string;
}

function setStatus(ctx: ServiceContext, key: string, status: InstanceStatus): void {
  const e = ctx.state.instances.get(key);
  if (!e) return;
  e.res.status = status;
  ctx.changed();
}

/** stop: gives back the ephemeral external IPs; the access configs stay, without natIP. */
function releaseEphemeralExternal(ctx: ServiceContext, e: Entry<InstanceResource>): void {
  const allocated = e.meta.allocatedIPs ?? [];
  for (const nic of e.res.networkInterfaces) {
    for (const ac of nic.accessConfigs ?? []) {
      if (!ac.natIP || !allocated.includes(ac.natIP)) continue;
      ctx.releaseIP(ac.natIP);
      e.meta.allocatedIPs = (e.meta.allocatedIPs ?? []).filter((ip) => ip !== ac.natIP);
      delete ac.natIP;
    }
  }
}

/** start: the IPs the request allocated, put on the access configs that have none (idempotent). */
function applyGivenIPs(e: Entry<InstanceResource>, given: GivenIP[]): void {
  for (const g of given) {
    const ac = e.res.networkInterfaces
      .find((n) => n.name === g.nic)
      ?.accessConfigs?.find((a) => a.name === g.accessConfig);
    if (!ac || ac.natIP) continue;
    ac.natIP = g.ip;
    e.meta.allocatedIPs = [...(e.meta.allocatedIPs ?? []), g.ip];
  }
}

function givenOf(data: Record<string, unknown> | undefined): GivenIP[] {
  return (data?.given as GivenIP[] | undefined) ?? [];
}

export const instancePowerActions: Record<string, ActionSpec> = {
  'instances.stop': {
    // The VMs went with the lab's process: what remains is to record it.
    onRestart: 'commit',
    commit: (ctx, a) => {
      const e = ctx.state.instances.get(a.key);
      if (!e || a.data?.noop) return;
      e.res.status = 'TERMINATED';
      e.res.lastStopTimestamp = timestamp(ctx.now());
      releaseEphemeralExternal(ctx, e);
    },
    // Only an injected fault fails a stop, before it began: nothing to undo.
    rollback: () => {},
  },
  'instances.start': {
    // Finished after a restart: the lab then boots every RUNNING instance.
    onRestart: 'commit',
    commit: (ctx, a) => {
      const e = ctx.state.instances.get(a.key);
      if (!e || a.data?.noop) return;
      applyGivenIPs(e, givenOf(a.data));
      e.res.status = 'RUNNING';
      e.res.lastStartTimestamp = timestamp(ctx.now());
    },
    // A failed boot (or an injected fault) leaves the instance TERMINATED, without the IPs it was given.
    rollback: (ctx, a) => {
      const e = ctx.state.instances.get(a.key);
      if (a.data?.noop) return;
      for (const g of givenOf(a.data)) {
        ctx.releaseIP(g.ip);
        if (!e) continue;
        for (const nic of e.res.networkInterfaces)
          for (const ac of nic.accessConfigs ?? []) if (ac.natIP === g.ip) delete ac.natIP;
        e.meta.allocatedIPs = (e.meta.allocatedIPs ?? []).filter((ip) => ip !== g.ip);
      }
      if (e) e.res.status = 'TERMINATED';
    },
  },
  'instances.reset': {
    // The VMs went with the lab's process; the next start boots the RUNNING ones again, as a reset would.
    onRestart: 'commit',
    commit: () => {},
    rollback: () => {},
  },
};

/** Runs while the start operation is RUNNING: PROVISIONING (new IPs) -> STAGING -> the boot; RUNNING is the commit's. */
async function startWork(ctx: ServiceContext, key: string, given: GivenIP[]): Promise<void> {
  const e = ctx.state.instances.get(key);
  if (!e) throw new OperationFailure('RESOURCE_NOT_FOUND', 'The instance disappeared while starting.', 404);
  applyGivenIPs(e, given);
  setStatus(ctx, key, 'PROVISIONING');
  await bootWork(ctx, key);
}

/** Runs while the reset operation is RUNNING: every process killed, the VM booted again; RUNNING throughout. */
async function resetWork(ctx: ServiceContext, key: string): Promise<void> {
  const inst = ctx.state.instances.get(key)?.res;
  if (!inst)
    throw new OperationFailure('RESOURCE_NOT_FOUND', 'The instance disappeared while resetting.', 404);
  await Promise.all([
    ctx.guard(ctx.hooks.onInstanceReset(structuredClone(inst))),
    ctx.sleep(ctx.timing.operationStepMs),
  ]);
}

export interface StopOptions {
  /** The operation's operationType: `stop` for the API method; a lab event names its own. */
  operationType?: string;
  /** Who the operation says asked (GCE: `system` for its own events). */
  user?: string;
}

/**
 * Starts a stop of the instance at `key`, as instances.stop does; `lab stop`
 * (an instance TERMINATED by GCE itself) comes here too.
 */
export function beginStop(
  ctx: ServiceContext,
  zone: string,
  key: string,
  e: Entry<InstanceResource>,
  opts: StopOptions = {},
): OperationResource {
  const at = placeIn(ctx, 'instances', zone);
  ctx.checkNotBusy(e, at.item(e.res.name));
  const noop = e.res.status === 'TERMINATED';
  return operate(ctx, at, 'instances.stop', key, e.res, {
    operationType: opts.operationType ?? 'stop',
    user: opts.user,
    data: noop ? { noop } : {},
    // The guest's shutdown (the lab: its processes get SIGTERM), then TERMINATED.
    ...(noop ? {} : { work: () => stopWork(ctx, key) }),
  });
}

export const instancePowerRoutes: Route[] = [
  instanceMethod('stop', (ctx, t) => beginStop(ctx, t.at.location, t.key, t.e), { readsBody: false }),
  instanceMethod(
    'start',
    (ctx, t) => {
      ctx.checkNotBusy(t.e, t.path);
      const noop = t.e.res.status === 'RUNNING';
      // The new ephemeral external IPs, taken now so that a lack of them fails the request, not the boot.
      const given: GivenIP[] = [];
      if (!noop) {
        for (const nic of t.e.res.networkInterfaces)
          for (const ac of nic.accessConfigs ?? [])
            if (!ac.natIP)
              given.push({
                nic: nic.name,
                accessConfig: ac.name,
                ip: allocateIP(ctx, 'external', { zone: t.at.location }),
              });
      }
      return operate(ctx, t.at, 'instances.start', t.key, t.e.res, {
        data: noop ? { noop } : { given },
        ...(noop ? {} : { work: () => startWork(ctx, t.key, given) }),
      });
    },
    { readsBody: false },
  ),
  instanceMethod(
    'reset',
    (ctx, t) => {
      ctx.checkNotBusy(t.e, t.path);
      if (t.e.res.status !== 'RUNNING') throw notReady(t.path);
      return operate(ctx, t.at, 'instances.reset', t.key, t.e.res, { work: () => resetWork(ctx, t.key) });
    },
    { readsBody: false },
  ),
];
