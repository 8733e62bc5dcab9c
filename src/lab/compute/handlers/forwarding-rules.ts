// Regional forwarding rules to target pools: insert (holding a RESERVED static
// address of the region, or an ephemeral one), get, list, aggregatedList,
// delete (giving the address back).
import { isIPv4, labelsAt, stringAt } from '../body.js';
import type { ActionSpec, ServiceContext } from '../context.js';
import { invalidField, requiredField } from '../errors.js';
import { fingerprintOf } from '../ids.js';
import { expectRef } from '../names.js';
import type { Entry } from '../state.js';
import type { AddressResource, ForwardingRuleResource, TargetPoolResource } from '../types.js';
import { allocateIP, claimStaticAddress, releaseStaticAddress } from './addresses.js';
import { collectionActions, deleteRoute, insertRoute, readRoutes } from './collection-routes.js';
import { type Route, referenced } from './common.js';
import { checkNameFree, resourceHead } from './place.js';

const PROTOCOLS = ['TCP', 'UDP', 'ESP', 'AH', 'SCTP', 'ICMP', 'L3_DEFAULT'];
const PORTED = ['TCP', 'UDP', 'SCTP'];

function portRangeOf(raw: string | undefined, protocol: string): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!PORTED.includes(protocol))
    throw invalidField('resource.portRange', raw, `Port ranges are not allowed with protocol ${protocol}.`);
  const m = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(raw);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2] ?? m?.[1]);
  if (!m || lo < 1 || hi > 65535 || lo > hi)
    throw invalidField('resource.portRange', raw, 'Must be a port or a range of ports (1-65535).');
  return `${lo}-${hi}`;
}

/** Gives the rule's IP back: a static address becomes RESERVED again, an ephemeral one is released. */
function releaseRuleIP(ctx: ServiceContext, e: Entry<ForwardingRuleResource>): void {
  for (const ip of e.meta.allocatedIPs ?? []) ctx.releaseIP(ip);
  releaseStaticAddress(ctx, e.res.IPAddress, e.res.selfLink);
}

export const forwardingRuleActions: Record<string, ActionSpec> = collectionActions('forwardingRules', {
  created: (ctx, e) => {
    // The load balancer is programmed from now on (lbReadyDelayMs counts from here).
    e.meta.createdAtMs = ctx.now();
  },
  release: releaseRuleIP,
});

export const forwardingRuleRoutes: Route[] = [
  insertRoute('forwardingRules', (ctx, at, body, name) => {
    const region = at.location;
    const l = ctx.links;
    const description = stringAt(body, 'description', 'resource.description');
    labelsAt(body, 'labels', 'resource.labels');
    const protocol = stringAt(body, 'IPProtocol', 'resource.IPProtocol') ?? 'TCP';
    if (!PROTOCOLS.includes(protocol))
      throw invalidField('resource.IPProtocol', protocol, `Must be one of ${PROTOCOLS.join(', ')}.`);
    const portRange = portRangeOf(stringAt(body, 'portRange', 'resource.portRange'), protocol);
    const scheme = stringAt(body, 'loadBalancingScheme', 'resource.loadBalancingScheme') ?? 'EXTERNAL';
    if (scheme !== 'EXTERNAL') {
      throw invalidField(
        'resource.loadBalancingScheme',
        scheme,
        'Target pools can only be used with loadBalancingScheme EXTERNAL.',
      );
    }
    const networkTier = stringAt(body, 'networkTier', 'resource.networkTier') ?? 'PREMIUM';
    const targetRef = stringAt(body, 'target', 'resource.target');
    if (!targetRef) throw requiredField('resource.target');
    const t = expectRef(targetRef, 'resource.target', l, 'regions', 'targetPools');
    if (t.location !== region)
      throw invalidField('resource.target', targetRef, `Target pool must be in region '${region}'.`);
    const pool = referenced<TargetPoolResource>(
      ctx,
      'targetPools',
      `${region}/${t.name}`,
      l.regional(region, 'targetPools', t.name),
    );
    let ip = stringAt(body, 'IPAddress', 'resource.IPAddress') ?? '';
    if (ip !== '' && !isIPv4(ip)) {
      const a = expectRef(ip, 'resource.IPAddress', l, 'regions', 'addresses');
      if (a.location !== region)
        throw invalidField('resource.IPAddress', ip, `Address must be in region '${region}'.`);
      ip = referenced<AddressResource>(
        ctx,
        'addresses',
        `${region}/${a.name}`,
        l.regional(region, 'addresses', a.name),
      ).res.address;
    }
    checkNameFree(ctx, at, name);
    const selfLink = l.url(at.item(name));
    // Last check, first change: nothing above has touched state.
    const allocated = ip === '';
    if (allocated) ip = allocateIP(ctx, 'external', { region });
    else claimStaticAddress(ctx, region, ip, selfLink, 'resource.IPAddress');
    const res: ForwardingRuleResource = {
      ...resourceHead(ctx, 'forwardingRules', name, description),
      region: l.url(l.regionPath(region)),
      IPAddress: ip,
      IPProtocol: protocol,
      ...(portRange ? { portRange } : {}),
      target: pool.res.selfLink,
      selfLink,
      loadBalancingScheme: scheme,
      networkTier,
      labelFingerprint: fingerprintOf({}),
      fingerprint: fingerprintOf({ name, ip, t: pool.res.selfLink }),
    };
    return { res, meta: allocated ? { allocatedIPs: [ip] } : {} };
  }),
  ...readRoutes('forwardingRules'),
  deleteRoute('forwardingRules'),
];
