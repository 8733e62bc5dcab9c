// instances: get, list, aggregatedList, insert (instance-insert.ts), delete,
// stop, start, reset (instance-power.ts), setMetadata (fingerprint-checked),
// setLabels, addAccessConfig, deleteAccessConfig.
import { type Json, labelsAt, stringAt } from '../body.js';
import type { ActionSpec, ServiceContext } from '../context.js';
import { ApiError, conditionNotMet, invalid, invalidField, requiredField } from '../errors.js';
import { fingerprintOf, newId } from '../ids.js';
import { regionOfZone } from '../names.js';
import type { ActionRecord, Entry } from '../state.js';
import type { AccessConfigResource, InstanceResource, MetadataItem } from '../types.js';
import { allocateIP, claimAddress, releaseStaticAddress } from './addresses.js';
import { insertRoute, readRoutes } from './collection-routes.js';
import type { ApiRequest, Route } from './common.js';
import { createInstance, readAccessConfig, readMetadataItems, readTagItems } from './instance-insert.js';
import { instanceLifecycleActions, stopWork } from './instance-lifecycle.js';
import { instanceChange, instanceMethod } from './instance-method.js';
import { instancePowerActions, instancePowerRoutes } from './instance-power.js';
import { operate } from './place.js';

function nicOf(e: Entry<InstanceResource>, req: ApiRequest) {
  const name = req.query.get('networkInterface');
  if (!name) throw requiredField('networkInterface');
  const nic = e.res.networkInterfaces.find((n) => n.name === name);
  if (!nic) throw invalidField('networkInterface', name, `No network interface named '${name}'.`);
  return nic;
}

function entryOf(ctx: ServiceContext, a: ActionRecord): Entry<InstanceResource> | undefined {
  const e = ctx.state.instances.get(a.key);
  // GCE: the instance fingerprint changes after every request that modifies the instance.
  if (e) e.res.fingerprint = fingerprintOf([e.res.fingerprint, a.type, newId()]);
  return e;
}

/** Where each fingerprint-checked method reads its fingerprint, and GCE's 412 message when it is stale. */
const FINGERPRINTED = {
  setMetadata: {
    key: 'fingerprint',
    field: 'metadata.fingerprint',
    stale: 'Supplied fingerprint does not match current metadata fingerprint.',
  },
  setLabels: {
    key: 'labelFingerprint',
    field: 'labelFingerprint',
    stale: 'Labels fingerprint either invalid or resource labels have changed',
  },
  setTags: {
    key: 'fingerprint',
    field: 'tags.fingerprint',
    stale: 'Supplied fingerprint does not match current tags fingerprint.',
  },
};

/** GCE: a missing or stale fingerprint is 412 conditionNotMet. */
function checkFingerprint(body: Json, method: keyof typeof FINGERPRINTED, current: string): void {
  const f = FINGERPRINTED[method];
  if (stringAt(body, f.key, f.field) !== current) throw conditionNotMet(f.stale);
}

/** A new fingerprint on every write: a writer holding the old one must re-read. */
function freshFingerprint(value: unknown): string {
  return fingerprintOf([value, newId()]);
}

/** A change of the instance, applied once its operation is DONE (after a restart too). */
function changeAction(
  apply: (ctx: ServiceContext, e: Entry<InstanceResource>, data: Record<string, unknown>) => void,
  rollback: ActionSpec['rollback'] = () => {},
): ActionSpec {
  return {
    onRestart: 'commit',
    commit: (ctx, a) => {
      const e = entryOf(ctx, a);
      if (e) apply(ctx, e, a.data ?? {});
    },
    rollback,
  };
}

const changeActions: Record<string, ActionSpec> = {
  'instances.setMetadata': changeAction((_ctx, e, data) => {
    const items = (data.items as MetadataItem[] | undefined) ?? [];
    e.res.metadata = {
      kind: 'compute#metadata',
      fingerprint: String(data.fingerprint),
      ...(items.length > 0 ? { items } : {}),
    };
  }),
  'instances.setLabels': changeAction((_ctx, e, data) => {
    const labels = data.labels as Record<string, string> | undefined;
    if (labels) e.res.labels = labels;
    else delete e.res.labels;
    e.res.labelFingerprint = String(data.labelFingerprint);
  }),
  'instances.setTags': changeAction((_ctx, e, data) => {
    const items = (data.items as string[] | undefined) ?? [];
    e.res.tags = { ...(items.length > 0 ? { items } : {}), fingerprint: String(data.fingerprint) };
  }),
  'instances.addAccessConfig': changeAction(
    (_ctx, e, data) => {
      const nic = e.res.networkInterfaces.find((n) => n.name === data.nic);
      if (!nic) return;
      nic.accessConfigs = [...(nic.accessConfigs ?? []), data.accessConfig as AccessConfigResource];
      nic.fingerprint = fingerprintOf([nic.networkIP, nic.accessConfigs, newId()]);
      if (data.allocated) e.meta.allocatedIPs = [...(e.meta.allocatedIPs ?? []), String(data.allocated)];
    },
    (ctx, a) => {
      const ac = a.data?.accessConfig as AccessConfigResource | undefined;
      if (a.data?.allocated) ctx.releaseIP(String(a.data.allocated));
      else if (ac?.natIP) releaseStaticAddress(ctx, ac.natIP, entryOf(ctx, a)?.res.selfLink ?? '');
    },
  ),
  'instances.deleteAccessConfig': changeAction((ctx, e, data) => {
    const nic = e.res.networkInterfaces.find((n) => n.name === data.nic);
    if (!nic) return;
    const ac = nic.accessConfigs?.find((x) => x.name === data.name);
    if (!ac) return;
    const rest = (nic.accessConfigs ?? []).filter((x) => x !== ac);
    if (rest.length > 0) nic.accessConfigs = rest;
    else delete nic.accessConfigs;
    nic.fingerprint = fingerprintOf([nic.networkIP, rest, newId()]);
    const natIP = ac.natIP;
    // A stopped instance's ephemeral config has no address left to give back.
    if (!natIP) return;
    if (e.meta.allocatedIPs?.includes(natIP)) {
      ctx.releaseIP(natIP);
      e.meta.allocatedIPs = e.meta.allocatedIPs.filter((ip) => ip !== natIP);
    } else releaseStaticAddress(ctx, natIP, e.res.selfLink);
  }),
};

export const instanceActions: Record<string, ActionSpec> = {
  ...instanceLifecycleActions,
  ...instancePowerActions,
  ...changeActions,
};

export const instanceRoutes: Route[] = [
  insertRoute('instances', createInstance),
  ...readRoutes('instances'),
  ...instancePowerRoutes,
  instanceMethod(
    'delete',
    (ctx, t) => {
      ctx.checkNotBusy(t.e, t.path);
      if (t.e.res.deletionProtection) {
        throw new ApiError(
          400,
          'resourceInUseByAnotherResource',
          "Invalid resource usage: 'Resource cannot be deleted if it's protected against deletion.'.",
        );
      }
      return operate(ctx, t.at, 'instances.delete', t.key, t.e.res, {
        data: { prevStatus: t.e.res.status },
        work: () => stopWork(ctx, t.key),
      });
    },
    { readsBody: false },
  ),
  instanceChange('setMetadata', (_ctx, t, _req, body) => {
    checkFingerprint(body, 'setMetadata', t.e.res.metadata.fingerprint);
    const items = readMetadataItems(body, 'metadata');
    return { items, fingerprint: freshFingerprint(items) };
  }),
  instanceChange('setLabels', (_ctx, t, _req, body) => {
    checkFingerprint(body, 'setLabels', t.e.res.labelFingerprint);
    const labels = labelsAt(body, 'labels', 'labels');
    return { labels, labelFingerprint: freshFingerprint(labels ?? {}) };
  }),
  instanceChange('setTags', (_ctx, t, _req, body) => {
    checkFingerprint(body, 'setTags', t.e.res.tags.fingerprint);
    const items = readTagItems(body, 'tags');
    return { items, fingerprint: freshFingerprint(items) };
  }),
  instanceChange('addAccessConfig', (ctx, t, req, body) => {
    const nic = nicOf(t.e, req);
    if ((nic.accessConfigs ?? []).length > 0) throw invalid('At most one access config currently supported.');
    const plan = readAccessConfig(ctx, regionOfZone(t.at.location), body, 'resource');
    const allocated = plan.natIP ? undefined : allocateIP(ctx, 'external', { zone: t.at.location });
    const natIP = plan.natIP ?? allocated ?? '';
    if (plan.address) claimAddress(plan.address, t.e.res.selfLink);
    const accessConfig: AccessConfigResource = {
      kind: 'compute#accessConfig',
      type: plan.type,
      name: plan.name,
      natIP,
      networkTier: plan.networkTier,
    };
    return { nic: nic.name, accessConfig, ...(allocated ? { allocated } : {}) };
  }),
  instanceChange(
    'deleteAccessConfig',
    (_ctx, t, req) => {
      const name = req.query.get('accessConfig');
      if (!name) throw requiredField('accessConfig');
      const nic = nicOf(t.e, req);
      if (!nic.accessConfigs?.some((a) => a.name === name)) {
        throw invalidField(
          'accessConfig',
          name,
          `No access config named '${name}' on network interface '${nic.name}'.`,
        );
      }
      return { nic: nic.name, name };
    },
    { readsBody: false },
  ),
];
