// disks: insert, get, list, aggregatedList, delete (refused while attached).
// Instance inserts also create disks here (initializeParams).

import { intAt, labelsAt, stringAt } from '../body.js';
import type { ActionSpec, ServiceContext } from '../context.js';
import { invalidField } from '../errors.js';
import { fingerprintOf } from '../ids.js';
import { expectRef } from '../names.js';
import type { Entry } from '../state.js';
import type { DiskResource, ImageResource } from '../types.js';
import { collectionActions, deleteRoute, insertRoute, readRoutes } from './collection-routes.js';
import type { Route } from './common.js';
import { resolveSourceImage } from './images.js';
import { checkNameFree, resourceHead } from './place.js';

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
    ...resourceHead(ctx, 'disks', name, o.description),
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

export const diskActions: Record<string, ActionSpec> = collectionActions('disks', {
  created: (_ctx, e) => {
    e.res.status = 'READY';
  },
  undelete: (e) => {
    e.res.status = 'READY';
  },
});

export const diskRoutes: Route[] = [
  insertRoute('disks', (ctx, at, body, name) => {
    const zone = at.location;
    const imageRef = stringAt(body, 'sourceImage', 'resource.sourceImage');
    const image = imageRef ? resolveSourceImage(ctx, imageRef, 'resource.sourceImage') : undefined;
    const sizeGb = intAt(body, 'sizeGb', 'resource.sizeGb', 1, 65536) ?? Number(image?.diskSizeGb ?? 10);
    if (image) checkImageSize(image, sizeGb, 'resource.sizeGb');
    const typeUrl = diskTypeUrl(ctx, zone, stringAt(body, 'type', 'resource.type'), 'resource.type');
    const description = stringAt(body, 'description', 'resource.description');
    const labels = labelsAt(body, 'labels', 'resource.labels');
    checkNameFree(ctx, at, name);
    return newDisk(ctx, zone, name, {
      sizeGb,
      typeUrl,
      ...(image ? { image } : {}),
      ...(description ? { description } : {}),
      ...(labels ? { labels } : {}),
    });
  }),
  ...readRoutes('disks'),
  deleteRoute('disks', {
    usedBy: (_ctx, e) => e.res.users?.[0],
    deleting: (e) => {
      e.res.status = 'DELETING';
    },
  }),
];
