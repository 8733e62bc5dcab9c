// Public images: a small catalog (cos-cloud, debian-cloud) answering
// images.get, images.getFromFamily and images.list in those projects, and the
// resolution of a disk's `sourceImage` (an image or a family, partial or full
// URL) to a concrete image, as instances.insert and disks.insert do in GCE.
// The catalog lives in the compute state, so that the lab can delete an image
// (a source VM's image that "no longer exists") and a restart remembers it.
import type { ServiceContext } from '../context.js';
import { invalidField, notFound } from '../errors.js';
import { stableId, timestamp } from '../ids.js';
import { listResponse, parseListQuery } from '../listing.js';
import { API_BASE, checkPathName } from '../names.js';
import type { Entry } from '../state.js';
import type { ImageResource } from '../types.js';
import { param, type Route } from './common.js';

const COS_LICENSE = 'projects/cos-cloud/global/licenses/cos';
const DEBIAN_LICENSE = 'projects/debian-cloud/global/licenses/debian-12-bookworm';

/** project, name, family, created (UTC date), licence. */
const DEFAULT_IMAGES: [string, string, string, string, string][] = [
  ['cos-cloud', 'cos-121-18867-90-4', 'cos-121-lts', '2025-05-20', COS_LICENSE],
  ['cos-cloud', 'cos-121-18867-199-28', 'cos-121-lts', '2025-09-16', COS_LICENSE],
  ['cos-cloud', 'cos-stable-125-19216-0-94', 'cos-stable', '2025-08-26', COS_LICENSE],
  ['cos-cloud', 'cos-stable-125-19216-104-25', 'cos-stable', '2025-10-28', COS_LICENSE],
  ['debian-cloud', 'debian-12-bookworm-v20250610', 'debian-12', '2025-06-10', DEBIAN_LICENSE],
  ['debian-cloud', 'debian-12-bookworm-v20250910', 'debian-12', '2025-09-10', DEBIAN_LICENSE],
];

export function imageUrl(project: string, name: string): string {
  return `${API_BASE}projects/${project}/global/images/${name}`;
}

/** The catalog a new lab starts with. */
export function defaultImages(): [string, Entry<ImageResource>][] {
  return DEFAULT_IMAGES.map(([project, name, family, day, license]) => {
    const res: ImageResource = {
      kind: 'compute#image',
      id: stableId(`image/${project}/${name}`),
      creationTimestamp: timestamp(Date.parse(`${day}T12:00:00Z`)),
      name,
      description: `${family} image ${name}`,
      sourceType: 'RAW',
      status: 'READY',
      archiveSizeBytes: '1073741824',
      diskSizeGb: '10',
      licenses: [API_BASE + license],
      family,
      selfLink: imageUrl(project, name),
      labelFingerprint: '42WmSpB8rSM=',
      guestOsFeatures: [{ type: 'VIRTIO_SCSI_MULTIQUEUE' }, { type: 'UEFI_COMPATIBLE' }, { type: 'GVNIC' }],
      storageLocations: ['us', 'eu', 'asia'],
      architecture: 'X86_64',
    };
    return [`${project}/${name}`, { res, meta: {} }];
  });
}

function byName(ctx: ServiceContext, project: string, name: string): Entry<ImageResource> | undefined {
  return ctx.state.images.get(`${project}/${name}`);
}

/** GCE's getFromFamily: the newest image of the family that is not deprecated. */
function newestOfFamily(
  ctx: ServiceContext,
  project: string,
  family: string,
): Entry<ImageResource> | undefined {
  return ctx.state.images
    .entries()
    .filter(([k, e]) => k.startsWith(`${project}/`) && e.res.family === family && !e.res.deprecated?.state)
    .map(([, e]) => e)
    .sort((a, b) => b.res.creationTimestamp.localeCompare(a.res.creationTimestamp))[0];
}

/** An image of `project` by name, or the newest of a family; GCE's 404 names what was asked. */
function findImage(ctx: ServiceContext, project: string, name: string, family: boolean): ImageResource {
  const found = family ? newestOfFamily(ctx, project, name) : byName(ctx, project, name);
  if (!found) throw notFound(`projects/${project}/global/images/${family ? 'family/' : ''}${name}`);
  return structuredClone(found.res);
}

const IMAGE_REF =
  /^(?:https:\/\/(?:www|compute)\.googleapis\.com\/compute\/v1\/)?(?:projects\/([^/]+)\/)?global\/images\/(?:(family)\/)?([^/]+)$/;

/**
 * A `sourceImage` as GCE reads it: `projects/P/global/images/NAME`,
 * `projects/P/global/images/family/F`, or either as a full URL (`global/...`
 * is the caller's project). A malformed reference is a 400 on `field`; an
 * image or family that does not exist is GCE's 404 at request time.
 */
export function resolveSourceImage(ctx: ServiceContext, ref: string, field: string): ImageResource {
  const m = IMAGE_REF.exec(ref);
  if (!m) throw invalidField(field, ref, 'The URL is malformed.');
  return findImage(ctx, m[1] ?? ctx.project, m[3] ?? '', m[2] !== undefined);
}

/** Removes an image from the catalog (the lab's control API); false if it was not there. */
export function deleteImage(ctx: ServiceContext, project: string, image: string): boolean {
  const key = `${project}/${image}`;
  if (!ctx.state.images.get(key)) return false;
  ctx.state.images.delete(key);
  ctx.changed();
  return true;
}

/** images.get or images.getFromFamily, in the project of the path. */
function imageRoute(family: boolean): Route {
  const key = family ? 'family' : 'name';
  return {
    method: 'GET',
    pattern: `global/images/${family ? 'family/' : ''}:${key}`,
    api: family ? 'images.getFromFamily' : 'images.get',
    anyProject: true,
    handler: (ctx, req) => {
      const project = param(req, 'project');
      const name = param(req, key);
      if (!family) checkPathName(name);
      return { body: findImage(ctx, project, name, family) };
    },
  };
}

export const imageRoutes: Route[] = [
  imageRoute(true),
  imageRoute(false),
  {
    method: 'GET',
    pattern: 'global/images',
    api: 'images.list',
    anyProject: true,
    handler: (ctx, req) => {
      const project = param(req, 'project');
      const items = ctx.state.images
        .entries()
        .filter(([k]) => k.startsWith(`${project}/`))
        .map(([, e]) => structuredClone(e.res));
      const path = `projects/${project}/global/images`;
      return {
        body: listResponse('compute#imageList', path, API_BASE + path, items, parseListQuery(req.query)),
      };
    },
  },
];
