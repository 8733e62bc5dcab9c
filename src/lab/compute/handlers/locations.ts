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

function zoneResource(ctx: ServiceContext, zone: string): ZoneResource {
  const l = ctx.links;
  return {
    kind: 'compute#zone',
    id: stableId(`zone/${zone}`),
    creationTimestamp: CREATED,
    name: zone,
    description: zone,
    status: 'UP',
    region: l.url(l.regionPath(regionOfZone(zone))),
    selfLink: l.url(l.zonePath(zone)),
    availableCpuPlatforms: ['Intel Broadwell', 'Intel Cascade Lake', 'AMD Milan'],
    supportsPzs: false,
  };
}

function regionResource(ctx: ServiceContext, region: string): RegionResource {
  const l = ctx.links;
  return {
    kind: 'compute#region',
    id: stableId(`region/${region}`),
    creationTimestamp: CREATED,
    name: region,
    description: region,
    status: 'UP',
    zones: ctx.locations.zonesOf(region).map((z) => l.url(l.zonePath(z))),
    selfLink: l.url(l.regionPath(region)),
    supportsPzs: false,
  };
}

export const locationRoutes: Route[] = [
  {
    method: 'GET',
    pattern: 'zones',
    api: 'zones.list',
    handler: (ctx, req) => {
      const l = ctx.links;
      const items = ctx.locations.zones.map((z) => zoneResource(ctx, z));
      return {
        body: listResponse(
          'compute#zoneList',
          `${l.projectPath()}/zones`,
          l.url(`${l.projectPath()}/zones`),
          items,
          parseListQuery(req.query),
        ),
      };
    },
  },
  {
    method: 'GET',
    pattern: 'zones/:zone',
    api: 'zones.get',
    handler: (ctx, req) => {
      const zone = param(req, 'zone');
      if (!ctx.locations.hasZone(zone)) throw notFound(ctx.links.zonePath(zone));
      return { body: zoneResource(ctx, zone) };
    },
  },
  {
    method: 'GET',
    pattern: 'regions',
    api: 'regions.list',
    handler: (ctx, req) => {
      const l = ctx.links;
      const items = ctx.locations.regions.map((r) => regionResource(ctx, r));
      return {
        body: listResponse(
          'compute#regionList',
          `${l.projectPath()}/regions`,
          l.url(`${l.projectPath()}/regions`),
          items,
          parseListQuery(req.query),
        ),
      };
    },
  },
  {
    method: 'GET',
    pattern: 'regions/:region',
    api: 'regions.get',
    handler: (ctx, req) => {
      const region = param(req, 'region');
      if (!ctx.locations.hasRegion(region)) throw notFound(ctx.links.regionPath(region));
      return { body: regionResource(ctx, region) };
    },
  },
];
