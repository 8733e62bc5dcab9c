// Regional forwarding rules to target pools: insert (holding a RESERVED static
// address of the region, or an ephemeral one), get, list, aggregatedList,
// delete (giving the address back).
import { bodyObject, isIPv4, labelsAt, stringAt } from '../body.js';
import type { ActionSpec, ServiceContext } from '../context.js';
import { alreadyExists, invalidField, requiredField } from '../errors.js';
import { fingerprintOf, newId, timestamp } from '../ids.js';
import { checkName, expectRef } from '../names.js';
import type { ActionRecord } from '../state.js';
import type { AddressResource, ForwardingRuleResource, TargetPoolResource } from '../types.js';
import { allocateIP, claimStaticAddress, releaseStaticAddress } from './addresses.js';
import {
  idempotent,
  lookup,
  nameParam,
  nameTaken,
  type Route,
  referenced,
  regionParam,
  regionScope,
  startOperation,
} from './common.js';
import { readRoutes } from './read-routes.js';

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
function releaseRuleIP(ctx: ServiceContext, a: ActionRecord): void {
  const e = ctx.state.forwardingRules.get(a.key);
  if (!e) return;
  for (const ip of e.meta.allocatedIPs ?? []) ctx.releaseIP(ip);
  releaseStaticAddress(ctx, e.res.IPAddress, e.res.selfLink);
}

export const forwardingRuleActions: Record<string, ActionSpec> = {
  'forwardingRules.insert': {
    onRestart: 'rollback',
    commit: (ctx, a) => {
      const e = ctx.state.forwardingRules.get(a.key);
      if (!e) return;
      delete e.meta.pending;
      // The load balancer is programmed from now on (lbReadyDelayMs counts from here).
      e.meta.createdAtMs = ctx.now();
    },
    rollback: (ctx, a) => {
      releaseRuleIP(ctx, a);
      ctx.state.forwardingRules.delete(a.key);
    },
  },
  'forwardingRules.delete': {
    onRestart: 'commit',
    commit: (ctx, a) => {
      releaseRuleIP(ctx, a);
      ctx.state.forwardingRules.delete(a.key);
    },
    rollback: () => {},
  },
};

export const forwardingRuleRoutes: Route[] = [
  {
    method: 'POST',
    pattern: 'regions/:region/forwardingRules',
    api: 'forwardingRules.insert',
    mutation: true,
    handler: (ctx, req) => {
      const region = regionParam(ctx, req);
      const body = bodyObject(req.body);
      return idempotent(ctx, req, () => {
        const l = ctx.links;
        const name = checkName(body.name, 'resource.name');
        const path = l.regional(region, 'forwardingRules', name);
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
        if (nameTaken(ctx, 'forwardingRules', `${region}/${name}`)) throw alreadyExists(path);
        const selfLink = l.url(path);
        // Last check, first change: nothing above has touched state.
        const allocated = ip === '';
        if (allocated) ip = allocateIP(ctx, 'external', { region });
        else claimStaticAddress(ctx, region, ip, selfLink, 'resource.IPAddress');
        const res: ForwardingRuleResource = {
          kind: 'compute#forwardingRule',
          id: newId(),
          creationTimestamp: timestamp(ctx.now()),
          name,
          ...(description ? { description } : {}),
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
        const key = `${region}/${name}`;
        ctx.state.forwardingRules.set(key, {
          res,
          meta: { pending: true, createdAtMs: ctx.now(), ...(allocated ? { allocatedIPs: [ip] } : {}) },
        });
        return startOperation(
          ctx,
          'forwardingRules.insert',
          { region, name },
          {
            scope: regionScope(region),
            operationType: 'insert',
            targetLink: selfLink,
            targetId: res.id,
            action: { type: 'forwardingRules.insert', key },
          },
        );
      });
    },
  },
  ...readRoutes({ table: 'forwardingRules', kind: 'compute#forwardingRule', scope: 'region' }),
  {
    method: 'DELETE',
    pattern: 'regions/:region/forwardingRules/:name',
    api: 'forwardingRules.delete',
    mutation: true,
    handler: (ctx, req) => {
      const region = regionParam(ctx, req);
      const name = nameParam(req);
      return idempotent(ctx, req, () => {
        const path = ctx.links.regional(region, 'forwardingRules', name);
        const [key, e] = lookup<ForwardingRuleResource>(ctx, 'forwardingRules', `${region}/`, name, path);
        ctx.checkNotBusy(e, path);
        return startOperation(
          ctx,
          'forwardingRules.delete',
          { region, name: e.res.name },
          {
            scope: regionScope(region),
            operationType: 'delete',
            targetLink: e.res.selfLink,
            targetId: e.res.id,
            action: { type: 'forwardingRules.delete', key },
          },
        );
      });
    },
  },
];
