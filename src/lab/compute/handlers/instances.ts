// instances: get, list, aggregatedList, insert (instance-insert.ts), delete,
// stop, start, reset (instance-power.ts), setMetadata (fingerprint-checked),
// setLabels, addAccessConfig, deleteAccessConfig.
import { bodyObject, labelsAt, stringAt } from '../body.js';
import type { ActionSpec, ServiceContext } from '../context.js';
import { ApiError, conditionNotMet, invalid, invalidField, requiredField } from '../errors.js';
import { fingerprintOf, newId } from '../ids.js';
import { regionOfZone } from '../names.js';
import type { ActionRecord, Entry } from '../state.js';
import type { AccessConfigResource, InstanceResource, MetadataItem } from '../types.js';
import { allocateIP, claimAddress, releaseStaticAddress } from './addresses.js';
import { insertRoute, readRoutes } from './collection-routes.js';
import { type ApiRequest, idempotent, type Route } from './common.js';
import { createInstance, readAccessConfig, readMetadataItems, readTagItems } from './instance-insert.js';
import { instanceLifecycleActions, stopWork } from './instance-lifecycle.js';
import { instancePowerActions, instancePowerRoutes } from './instance-power.js';
import { operate, requested } from './place.js';

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

type Target = ReturnType<typeof requested<'instances'>>;

/** Starts `api` on the instance the request names, with what `prepare` checked as the action's data. */
function modify(
  ctx: ServiceContext,
  req: ApiRequest,
  api: string,
  prepare: (t: Target) => Record<string, unknown>,
) {
  const t = requested(ctx, req, 'instances');
  ctx.checkNotBusy(t.e, t.path);
  return operate(ctx, t.at, api, t.key, t.e.res, { data: prepare(t) });
}

const changeActions: Record<string, ActionSpec> = {
  'instances.setMetadata': {
    onRestart: 'commit',
    commit: (ctx, a) => {
      const e = entryOf(ctx, a);
      if (!e) return;
      const items = (a.data?.items as MetadataItem[] | undefined) ?? [];
      e.res.metadata = {
        kind: 'compute#metadata',
        fingerprint: String(a.data?.fingerprint),
        ...(items.length > 0 ? { items } : {}),
      };
    },
    rollback: () => {},
  },
  'instances.setLabels': {
    onRestart: 'commit',
    commit: (ctx, a) => {
      const e = entryOf(ctx, a);
      if (!e) return;
      const labels = a.data?.labels as Record<string, string> | undefined;
      if (labels) e.res.labels = labels;
      else delete e.res.labels;
      e.res.labelFingerprint = String(a.data?.labelFingerprint);
    },
    rollback: () => {},
  },
  'instances.setTags': {
    onRestart: 'commit',
    commit: (ctx, a) => {
      const e = entryOf(ctx, a);
      if (!e) return;
      const items = (a.data?.items as string[] | undefined) ?? [];
      e.res.tags = { ...(items.length > 0 ? { items } : {}), fingerprint: String(a.data?.fingerprint) };
    },
    rollback: () => {},
  },
  'instances.addAccessConfig': {
    onRestart: 'commit',
    commit: (ctx, a) => {
      const e = entryOf(ctx, a);
      const nic = e?.res.networkInterfaces.find((n) => n.name === a.data?.nic);
      if (!e || !nic) return;
      nic.accessConfigs = [...(nic.accessConfigs ?? []), a.data?.accessConfig as AccessConfigResource];
      nic.fingerprint = fingerprintOf([nic.networkIP, nic.accessConfigs, newId()]);
      if (a.data?.allocated) e.meta.allocatedIPs = [...(e.meta.allocatedIPs ?? []), String(a.data.allocated)];
    },
    rollback: (ctx, a) => {
      const ac = a.data?.accessConfig as AccessConfigResource | undefined;
      if (a.data?.allocated) ctx.releaseIP(String(a.data.allocated));
      else if (ac?.natIP) releaseStaticAddress(ctx, ac.natIP, entryOf(ctx, a)?.res.selfLink ?? '');
    },
  },
  'instances.deleteAccessConfig': {
    onRestart: 'commit',
    commit: (ctx, a) => {
      const e = entryOf(ctx, a);
      const nic = e?.res.networkInterfaces.find((n) => n.name === a.data?.nic);
      if (!e || !nic) return;
      const ac = nic.accessConfigs?.find((x) => x.name === a.data?.name);
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
    },
    rollback: () => {},
  },
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
  {
    method: 'DELETE',
    pattern: 'zones/:zone/instances/:name',
    api: 'instances.delete',
    mutation: true,
    handler: (ctx, req) =>
      idempotent(ctx, req, () => {
        const t = requested(ctx, req, 'instances');
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
      }),
  },
  {
    method: 'POST',
    pattern: 'zones/:zone/instances/:name/setMetadata',
    api: 'instances.setMetadata',
    mutation: true,
    handler: (ctx, req) => {
      const body = bodyObject(req.body);
      return idempotent(ctx, req, () =>
        modify(ctx, req, 'instances.setMetadata', (t) => {
          const fp = stringAt(body, 'fingerprint', 'metadata.fingerprint');
          if (fp !== t.e.res.metadata.fingerprint) {
            throw conditionNotMet('Supplied fingerprint does not match current metadata fingerprint.');
          }
          const items = readMetadataItems(body, 'metadata');
          // A new fingerprint on every write: a writer holding the old one must re-read.
          return { items, fingerprint: fingerprintOf([items, newId()]) };
        }),
      );
    },
  },
  {
    method: 'POST',
    pattern: 'zones/:zone/instances/:name/setLabels',
    api: 'instances.setLabels',
    mutation: true,
    handler: (ctx, req) => {
      const body = bodyObject(req.body);
      return idempotent(ctx, req, () =>
        modify(ctx, req, 'instances.setLabels', (t) => {
          const fp = stringAt(body, 'labelFingerprint', 'labelFingerprint');
          if (fp !== t.e.res.labelFingerprint) {
            throw conditionNotMet('Labels fingerprint either invalid or resource labels have changed');
          }
          const labels = labelsAt(body, 'labels', 'labels');
          return { labels, labelFingerprint: fingerprintOf([labels ?? {}, newId()]) };
        }),
      );
    },
  },
  {
    method: 'POST',
    pattern: 'zones/:zone/instances/:name/setTags',
    api: 'instances.setTags',
    mutation: true,
    handler: (ctx, req) => {
      const body = bodyObject(req.body);
      return idempotent(ctx, req, () =>
        modify(ctx, req, 'instances.setTags', (t) => {
          // GCE: a missing or stale tags fingerprint is 412 conditionNotMet.
          const fp = stringAt(body, 'fingerprint', 'tags.fingerprint');
          if (fp !== t.e.res.tags.fingerprint) {
            throw conditionNotMet('Supplied fingerprint does not match current tags fingerprint.');
          }
          const items = readTagItems(body, 'tags');
          return { items, fingerprint: fingerprintOf([items, newId()]) };
        }),
      );
    },
  },
  {
    method: 'POST',
    pattern: 'zones/:zone/instances/:name/addAccessConfig',
    api: 'instances.addAccessConfig',
    mutation: true,
    handler: (ctx, req) => {
      const body = bodyObject(req.body);
      return idempotent(ctx, req, () =>
        modify(ctx, req, 'instances.addAccessConfig', (t) => {
          const nic = nicOf(t.e, req);
          if ((nic.accessConfigs ?? []).length > 0)
            throw invalid('At most one access config currently supported.');
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
      );
    },
  },
  {
    method: 'POST',
    pattern: 'zones/:zone/instances/:name/deleteAccessConfig',
    api: 'instances.deleteAccessConfig',
    mutation: true,
    handler: (ctx, req) =>
      idempotent(ctx, req, () =>
        modify(ctx, req, 'instances.deleteAccessConfig', (t) => {
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
        }),
      ),
  },
];
