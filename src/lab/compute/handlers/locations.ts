// zones.get/list and regions.get/list over the lab's fixed catalogue.
import type { ServiceContext } from '../context.js';
import { notFound } from '../errors.js';
import { stableId, timestamp } from '../ids.js';
import { listResponse, parseListQuery } from '../listing.js';
import { regionOfZone } from '../names.js';
import type { RegionResource, ZoneResource } from '../types.js';
import { param, type Route } from './common.js';

// A fixed date: GCE's zones are old and do not change between calls.
const CREATED = timestamp(Date.UTC(2014, 0, 1));

/** The fields a zone and a region start with: a stable id, the fixed date, UP. */
function locationHead<K extends 'zone' | 'region'>(kind: K, name: string) {
  return {
    kind: `compute#${kind}` as const,
    id: stableId(`${kind}/${name}`),
    creationTimestamp: CREATED,
    name,
    description: name,
    status: 'UP' as const,
  };
}

function zoneResource(ctx: ServiceContext, zone: string): ZoneResource {
  const l = ctx.links;
  return {
    ...locationHead('zone', zone),
    region: l.url(l.regionPath(regionOfZone(zone))),
    selfLink: l.url(l.zonePath(zone)),
    availableCpuPlatforms: ['Intel Broadwell', 'Intel Cascade Lake', 'AMD Milan'],
    supportsPzs: false,
  };
}

/** vCPUs of a machine type name the lab knows (e2-standard-4: 4; e2-micro..medium: 2; custom-N-M: N). */
function cpusOf(machineTypeUrl: string): number {
  const name = machineTypeUrl.slice(machineTypeUrl.lastIndexOf('/') + 1);
  const m = /-([0-9]+)$/.exec(name.replace(/^custom-([0-9]+)-[0-9]+$/, 'custom-$1'));
  return m ? Number(m[1]) : 2;
}

const QUOTA_LIMITS: Record<string, number> = {
  CPUS: 72,
  INSTANCES: 1000,
  DISKS_TOTAL_GB: 40960,
  SSD_TOTAL_GB: 10240,
  IN_USE_ADDRESSES: 16,
  STATIC_ADDRESSES: 16,
  INTERNAL_ADDRESSES: 200,
  TARGET_POOLS: 50,
  FORWARDING_RULES: 30,
};

/** GCE's regions.get lists the region's quotas with their usage; the lab counts it from its state. */
function quotasOf(ctx: ServiceContext, region: string): { metric: string; limit: number; usage: number }[] {
  const st = ctx.state;
  const inRegion = (zoneOrRegionUrl: string) =>
    zoneOrRegionUrl.endsWith(`/regions/${region}`) || zoneOrRegionUrl.includes(`/zones/${region}-`);
  const usage: Record<string, number> = Object.fromEntries(Object.keys(QUOTA_LIMITS).map((k) => [k, 0]));
  const add = (k: string, n: number) => {
    usage[k] = (usage[k] ?? 0) + n;
  };
  for (const [, e] of st.instances.entries()) {
    if (!inRegion(e.res.zone)) continue;
    add('INSTANCES', 1);
    add('CPUS', cpusOf(e.res.machineType));
    for (const n of e.res.networkInterfaces) add('IN_USE_ADDRESSES', (n.accessConfigs ?? []).length);
  }
  for (const [, e] of st.disks.entries()) {
    if (!inRegion(e.res.zone)) continue;
    add(e.res.type.endsWith('/pd-standard') ? 'DISKS_TOTAL_GB' : 'SSD_TOTAL_GB', Number(e.res.sizeGb));
  }
  for (const [, e] of st.addresses.entries()) {
    if (!inRegion(e.res.region)) continue;
    add(e.res.addressType === 'INTERNAL' ? 'INTERNAL_ADDRESSES' : 'STATIC_ADDRESSES', 1);
  }
  for (const [, e] of st.targetPools.entries()) if (inRegion(e.res.region)) add('TARGET_POOLS', 1);
  for (const [, e] of st.forwardingRules.entries()) if (inRegion(e.res.region)) add('FORWARDING_RULES', 1);
  return Object.entries(QUOTA_LIMITS).map(([metric, limit]) => ({
    metric,
    limit,
    usage: usage[metric] ?? 0,
  }));
}

function regionResource(ctx: ServiceContext, region: string): RegionResource {
  const l = ctx.links;
  return {
    ...locationHead('region', region),
    zones: ctx.locations.zonesOf(region).map((z) => l.url(l.zonePath(z))),
    quotas: quotasOf(ctx, region),
    selfLink: l.url(l.regionPath(region)),
    supportsPzs: false,
  };
}

/**
 * list and get of a fixed catalogue, `zones` or `regions`: `resource` builds
 * one entry; a name not in the catalogue is GCE's 404 on `projects/P/<collection>/NAME`.
 */
function catalogueRoutes(
  collection: 'zones' | 'regions',
  names: (ctx: ServiceContext) => readonly string[],
  resource: (ctx: ServiceContext, name: string) => ZoneResource | RegionResource,
): Route[] {
  const one = collection === 'zones' ? 'zone' : 'region';
  return [
    {
      method: 'GET',
      pattern: collection,
      api: `${collection}.list`,
      handler: (ctx, req) => {
        const path = `${ctx.links.projectPath()}/${collection}`;
        const items = names(ctx).map((n) => resource(ctx, n));
        const q = parseListQuery(req.query);
        return { body: listResponse(`compute#${one}List`, path, ctx.links.url(path), items, q) };
      },
    },
    {
      method: 'GET',
      pattern: `${collection}/:${one}`,
      api: `${collection}.get`,
      handler: (ctx, req) => {
        const name = param(req, one);
        if (!names(ctx).includes(name)) throw notFound(`${ctx.links.projectPath()}/${collection}/${name}`);
        return { body: resource(ctx, name) };
      },
    },
  ];
}

export const locationRoutes: Route[] = [
  ...catalogueRoutes('zones', (ctx) => ctx.locations.zones, zoneResource),
  ...catalogueRoutes('regions', (ctx) => ctx.locations.regions, regionResource),
];
