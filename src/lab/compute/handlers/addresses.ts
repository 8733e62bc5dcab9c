// Regional static addresses: insert (the lab's allocator picks the IP unless
// one is given), get, list, aggregatedList, delete (refused while IN_USE);
// plus claiming and releasing an address for an instance or forwarding rule.
import { isIPv4, labelsAt, stringAt } from '../body.js';
import type { ActionSpec, ServiceContext } from '../context.js';
import { ApiError, inUse, invalidField, notFound, notReady } from '../errors.js';
import { fingerprintOf } from '../ids.js';
import { expectRef, pathOf, regionOfZone } from '../names.js';
import type { Entry } from '../state.js';
import type { AddressResource, IPKind } from '../types.js';
import { collectionActions, deleteRoute, insertRoute, readRoutes } from './collection-routes.js';
import { type Route, removeFrom } from './common.js';
import { checkNameFree, resourceHead } from './place.js';

const QUOTA: Record<IPKind, string> = {
  internal: 'INTERNAL_ADDRESSES',
  external: 'IN_USE_ADDRESSES',
  static: 'STATIC_ADDRESSES',
};

const PURPOSES = [
  'GCE_ENDPOINT',
  'SHARED_LOADBALANCER_VIP',
  'VPC_PEERING',
  'NAT_AUTO',
  'IPSEC_INTERCONNECT',
  'PRIVATE_SERVICE_CONNECT',
  'DNS_RESOLVER',
];

/**
 * A subnetwork reference of the region (the lab has the `default` one only),
 * as its full URL. Another region's subnetwork is a 400, as in GCE; an unknown
 * one in this region a 404.
 */
export function subnetworkUrl(
  ctx: ServiceContext,
  region: string,
  ref: string | undefined,
  field: string,
): string {
  const l = ctx.links;
  if (ref !== undefined) {
    const sub = expectRef(ref, field, l, 'regions', 'subnetworks');
    if (sub.location !== region)
      throw invalidField(field, ref, `Subnetwork must be in region '${region}', not '${sub.location}'.`);
    if (sub.name !== 'default') throw notFound(l.regional(sub.location, 'subnetworks', sub.name));
  }
  return l.url(l.regional(region, 'subnetworks', 'default'));
}

/** Asks the lab for an address; its refusal looks like GCE's quota error. */
export function allocateIP(
  ctx: ServiceContext,
  kind: IPKind,
  where: { zone?: string; region?: string },
): string {
  const region = where.region ?? (where.zone ? regionOfZone(where.zone) : '');
  try {
    return ctx.hooks.allocateIP(kind, where);
  } catch (err) {
    throw new ApiError(
      403,
      'quotaExceeded',
      `Quota '${QUOTA[kind]}' exceeded.  Limit: 0.0 in region ${region}. (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

export function findAddressByIP(
  ctx: ServiceContext,
  ip: string,
): [string, Entry<AddressResource>] | undefined {
  return ctx.state.addresses.entries().find(([, e]) => e.res.address === ip);
}

/**
 * The RESERVED external address of `region` with this IP, which a request
 * wants to use; `field` names the request field that asked for it.
 */
export function checkStaticAddress(
  ctx: ServiceContext,
  region: string,
  ip: string,
  field: string,
): Entry<AddressResource> {
  const found = findAddressByIP(ctx, ip);
  if (!found || found[0] !== `${region}/${found[1].res.name}`) {
    throw invalidField(
      field,
      ip,
      `The specified external IP address '${ip}' was not found in region '${region}'.`,
    );
  }
  const e = found[1];
  const path = ctx.links.regional(region, 'addresses', e.res.name);
  if (e.res.addressType !== 'EXTERNAL')
    throw invalidField(field, ip, `The address '${path}' is not an external address.`);
  if (e.meta.pending) throw notReady(path);
  const user = e.res.users?.[0];
  if (user) throw inUse('address', path, pathOf(user));
  return e;
}

/**
 * The reserved internal address of `region` holding `ip`, if any (an IP no
 * address holds is an ephemeral internal IP); in use by another resource: 400.
 */
export function checkInternalAddress(
  ctx: ServiceContext,
  region: string,
  ip: string,
  field: string,
): Entry<AddressResource> | undefined {
  const found = findAddressByIP(ctx, ip);
  if (!found) return undefined;
  const e = found[1];
  const path = ctx.links.regional(region, 'addresses', e.res.name);
  if (found[0] !== `${region}/${e.res.name}` || e.res.addressType !== 'INTERNAL')
    throw invalidField(
      field,
      ip,
      `The address '${pathOf(e.res.selfLink)}' is not an internal address of region '${region}'.`,
    );
  if (e.meta.pending) throw notReady(path);
  const user = e.res.users?.[0];
  // GCE: an address used by one resource (instance NIC, forwarding rule) cannot be used by another.
  if (user) throw inUse('address', path, pathOf(user));
  return e;
}

/** Makes the address IN_USE by `userUrl` (after checkStaticAddress or checkInternalAddress). */
export function claimAddress(e: Entry<AddressResource>, userUrl: string): void {
  e.res.users = [userUrl];
  e.res.status = 'IN_USE';
}

export function claimStaticAddress(
  ctx: ServiceContext,
  region: string,
  ip: string,
  userUrl: string,
  field: string,
): void {
  claimAddress(checkStaticAddress(ctx, region, ip, field), userUrl);
}

/** The user gives the address back: RESERVED again once nobody uses it. */
export function releaseStaticAddress(ctx: ServiceContext, ip: string, userUrl: string): boolean {
  const found = findAddressByIP(ctx, ip);
  if (!found?.[1].res.users?.includes(userUrl)) return false;
  const e = found[1];
  const users = removeFrom(e.res.users, userUrl);
  if (users) e.res.users = users;
  else {
    delete e.res.users;
    e.res.status = 'RESERVED';
  }
  return true;
}

function releaseAllocated(ctx: ServiceContext, e: Entry<AddressResource>): void {
  for (const ip of e.meta.allocatedIPs ?? []) ctx.releaseIP(ip);
}

export const addressActions: Record<string, ActionSpec> = collectionActions('addresses', {
  created: (_ctx, e) => {
    e.res.status = e.res.users ? 'IN_USE' : 'RESERVED';
  },
  release: releaseAllocated,
});

export const addressRoutes: Route[] = [
  insertRoute('addresses', (ctx, at, body, name) => {
    const region = at.location;
    const addressType = stringAt(body, 'addressType', 'resource.addressType') ?? 'EXTERNAL';
    if (addressType !== 'EXTERNAL' && addressType !== 'INTERNAL') {
      throw invalidField('resource.addressType', addressType, 'Must be EXTERNAL or INTERNAL.');
    }
    const networkTier = stringAt(body, 'networkTier', 'resource.networkTier') ?? 'PREMIUM';
    if (networkTier !== 'PREMIUM' && networkTier !== 'STANDARD') {
      throw invalidField('resource.networkTier', networkTier, 'Must be PREMIUM or STANDARD.');
    }
    const description = stringAt(body, 'description', 'resource.description');
    const labels = labelsAt(body, 'labels', 'resource.labels');
    const internal = addressType === 'INTERNAL';
    // GCE keeps an internal address's subnetwork (the region's default one if none is given) and purpose.
    const subRef = stringAt(body, 'subnetwork', 'resource.subnetwork');
    if (subRef !== undefined && !internal)
      throw invalidField(
        'resource.subnetwork',
        subRef,
        'A subnetwork can only be given for an INTERNAL address.',
      );
    const subnetwork = internal ? subnetworkUrl(ctx, region, subRef, 'resource.subnetwork') : undefined;
    const purpose = stringAt(body, 'purpose', 'resource.purpose') ?? (internal ? 'GCE_ENDPOINT' : undefined);
    if (purpose !== undefined && !PURPOSES.includes(purpose))
      throw invalidField('resource.purpose', purpose, `Must be one of ${PURPOSES.join(', ')}.`);
    const given = stringAt(body, 'address', 'resource.address');
    if (given !== undefined && !isIPv4(given))
      throw invalidField('resource.address', given, 'Must be an IPv4 address.');
    checkNameFree(ctx, at, name);
    if (given !== undefined && findAddressByIP(ctx, given)) {
      throw invalidField('resource.address', given, 'The specified IP address is already reserved.');
    }
    const ip = given ?? allocateIP(ctx, addressType === 'INTERNAL' ? 'internal' : 'static', { region });
    const l = ctx.links;
    const res: AddressResource = {
      ...resourceHead(ctx, 'addresses', name, description),
      address: ip,
      status: 'RESERVING',
      region: l.url(l.regionPath(region)),
      selfLink: l.url(at.item(name)),
      networkTier,
      addressType,
      ...(subnetwork ? { subnetwork } : {}),
      ...(purpose ? { purpose } : {}),
      ...(labels ? { labels } : {}),
      labelFingerprint: fingerprintOf(labels ?? {}),
    };
    return { res, meta: given === undefined ? { allocatedIPs: [ip] } : {} };
  }),
  ...readRoutes('addresses'),
  deleteRoute('addresses', { usedBy: (_ctx, e) => e.res.users?.[0] }),
];
