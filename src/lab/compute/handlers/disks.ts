// disks: insert, get, list, aggregatedList, delete (refused while attached).
// Instance inserts also create disks here (initializeParams).

import { bodyObject, intAt, labelsAt, stringAt } from '../body.js';
import type { ActionSpec, ServiceContext } from '../context.js';
import { alreadyExists, inUse, invalidField } from '../errors.js';
import { fingerprintOf, newId, timestamp } from '../ids.js';
import { checkName, expectRef, pathOf } from '../names.js';
import type { ActionRecord, Entry } from '../state.js';
import type { DiskResource, ImageResource } from '../types.js';
import {
  idempotent,
  lookup,
  nameParam,
  nameTaken,
  type Route,
  startOperation,
  zoneParam,
  zoneScope,
} from './common.js';
import { resolveSourceImage } from './images.js';
import { readRoutes } from './read-routes.js';

export const DISK_TYPES = ['pd-standard', 'pd-balanced', 'pd-ssd', 'pd-extreme', 'hyperdisk-balanced'];

/**
 * Reads a disk type reference: `[projects/P/]zones/Z/diskTypes/T` or a full
 * URL, in the disk's zone. GCE refuses a bare type name (`pd-ssd`) in both
 * disks.insert `type` and instances.insert `initializeParams.diskType`.
 */
export function diskTypeUrl(
  ctx: ServiceContext,
  zone: string,
  ref: string | undefined,
  field: string,
): string {
  const type = ref ?? 'pd-standard';
  let name = type;
  if (ref !== undefined) {
    if (/^[a-z0-9-]+$/.test(type)) throw invalidField(field, type, 'The URL is malformed.');
    const p = expectRef(type, field, ctx.links, 'zones', 'diskTypes');
    if (p.location !== zone) throw invalidField(field, type, `Disk type must be in zone '${zone}'.`);
    name = p.name;
  }
  if (!DISK_TYPES.includes(name))
    throw invalidField(field, type, `Disk type '${name}' does not exist in zone '${zone}'.`);
  return ctx.links.url(ctx.links.zonal(zone, 'diskTypes', name));
}

/** GCE: a disk cannot be smaller than its image. */
export function checkImageSize(image: ImageResource, sizeGb: number, field: string): void {
  if (sizeGb < Number(image.diskSizeGb)) {
    throw invalidField(
      field,
      String(sizeGb),
      `Requested disk size cannot be smaller than the image size (${image.diskSizeGb} GB)`,
    );
  }
}

/** A new disk record, CREATING until its (or its instance's) operation commits. */
export function newDisk(
  ctx: ServiceContext,
  zone: string,
  name: string,
  o: {
    sizeGb: number;
    typeUrl: string;
    image?: ImageResource;
    description?: string;
    labels?: Record<string, string>;
  },
): Entry<DiskResource> {
  const l = ctx.links;
  const res: DiskResource = {
    kind: 'compute#disk',
    id: newId(),
    creationTimestamp: timestamp(ctx.now()),
    name,
    ...(o.description ? { description: o.description } : {}),
    sizeGb: String(o.sizeGb),
    zone: l.url(l.zonePath(zone)),
    status: 'CREATING',
    selfLink: l.url(l.zonal(zone, 'disks', name)),
    type: o.typeUrl,
    // GCE records the concrete image (a family resolved) and its id on the disk.
    ...(o.image
      ? {
          sourceImage: o.image.selfLink,
          sourceImageId: o.image.id,
          licenses: o.image.licenses,
          architecture: o.image.architecture,
        }
      : {}),
    ...(o.labels ? { labels: o.labels } : {}),
    labelFingerprint: fingerprintOf(o.labels ?? {}),
    physicalBlockSizeBytes: '4096',
  };
  return { res, meta: { pending: true, createdAtMs: ctx.now() } };
}

function diskEntry(ctx: ServiceContext, a: ActionRecord): Entry<DiskResource> | undefined {
  return ctx.state.disks.get(a.key);
}

export const diskActions: Record<string, ActionSpec> = {
  'disks.insert': {
    onRestart: 'rollback',
    commit: (ctx, a) => {
      const e = diskEntry(ctx, a);
      if (!e) return;
      delete e.meta.pending;
      e.res.status = 'READY';
    },
    rollback: (ctx, a) => ctx.state.disks.delete(a.key),
  },
  'disks.delete': {
    onRestart: 'commit',
    commit: (ctx, a) => ctx.state.disks.delete(a.key),
    rollback: (ctx, a) => {
      const e = diskEntry(ctx, a);
      if (e) e.res.status = 'READY';
    },
  },
};

export const diskRoutes: Route[] = [
  {
    method: 'POST',
    pattern: 'zones/:zone/disks',
    api: 'disks.insert',
    mutation: true,
    handler: (ctx, req) => {
      const zone = zoneParam(ctx, req);
      const body = bodyObject(req.body);
      return idempotent(ctx, req, () => {
        const name = checkName(body.name, 'resource.name');
        const path = ctx.links.zonal(zone, 'disks', name);
        const imageRef = stringAt(body, 'sourceImage', 'resource.sourceImage');
        const image = imageRef ? resolveSourceImage(ctx, imageRef, 'resource.sourceImage') : undefined;
        const sizeGb = intAt(body, 'sizeGb', 'resource.sizeGb', 1, 65536) ?? Number(image?.diskSizeGb ?? 10);
        if (image) checkImageSize(image, sizeGb, 'resource.sizeGb');
        const typeUrl = diskTypeUrl(ctx, zone, stringAt(body, 'type', 'resource.type'), 'resource.type');
        const description = stringAt(body, 'description', 'resource.description');
        const labels = labelsAt(body, 'labels', 'resource.labels');
        if (nameTaken(ctx, 'disks', `${zone}/${name}`)) throw alreadyExists(path);
        const entry = newDisk(ctx, zone, name, {
          sizeGb,
          typeUrl,
          ...(image ? { image } : {}),
          ...(description ? { description } : {}),
          ...(labels ? { labels } : {}),
        });
        ctx.state.disks.set(`${zone}/${name}`, entry);
        return startOperation(
          ctx,
          'disks.insert',
          { zone, name },
          {
            scope: zoneScope(zone),
            operationType: 'insert',
            targetLink: entry.res.selfLink,
            targetId: entry.res.id,
            action: { type: 'disks.insert', key: `${zone}/${name}` },
          },
        );
      });
    },
  },
  ...readRoutes({ table: 'disks', kind: 'compute#disk', scope: 'zone' }),
  {
    method: 'DELETE',
    pattern: 'zones/:zone/disks/:name',
    api: 'disks.delete',
    mutation: true,
    handler: (ctx, req) => {
      const zone = zoneParam(ctx, req);
      const name = nameParam(req);
      return idempotent(ctx, req, () => {
        const path = ctx.links.zonal(zone, 'disks', name);
        const [key, e] = lookup<DiskResource>(ctx, 'disks', `${zone}/`, name, path);
        ctx.checkNotBusy(e, path);
        const user = e.res.users?.[0];
        if (user) throw inUse('disk', ctx.links.zonal(zone, 'disks', e.res.name), pathOf(user));
        e.res.status = 'DELETING';
        return startOperation(
          ctx,
          'disks.delete',
          { zone, name: e.res.name },
          {
            scope: zoneScope(zone),
            operationType: 'delete',
            targetLink: e.res.selfLink,
            targetId: e.res.id,
            action: { type: 'disks.delete', key },
          },
        );
      });
    },
  },
];
