// Regional target pools: insert (legacy httpHealthChecks that must exist),
// get, list, aggregatedList, delete (refused while a forwarding rule uses it),
// addInstance / removeInstance, getHealth.
import { arrayAt, bodyObject, isObject, stringArrayAt, stringAt } from '../body.js';
import type { ActionSpec, ServiceContext } from '../context.js';
import { ApiError, invalidField, notFound, requiredField } from '../errors.js';
import { expectRef, parseRef, pathOf, regionOfZone } from '../names.js';
import type { Entry } from '../state.js';
import type {
  ForwardingRuleResource,
  HttpHealthCheckResource,
  InstanceResource,
  TargetPoolResource,
} from '../types.js';
import { collectionActions, deleteRoute, insertRoute, readRoutes } from './collection-routes.js';
import { idempotent, nameParam, type Route, referenced } from './common.js';
import { checkNameFree, lookupIn, operate, placeOf, resourceHead } from './place.js';

const SESSION_AFFINITIES = ['NONE', 'CLIENT_IP', 'CLIENT_IP_PROTO'];

/** An instance reference in this region: returns its canonical URL and entry (404 if it does not exist). */
function instanceRef(
  ctx: ServiceContext,
  region: string,
  ref: unknown,
  field: string,
): { url: string; entry: Entry<InstanceResource> | undefined; path: string } {
  const p = expectRef(ref, field, ctx.links, 'zones', 'instances');
  if (!ctx.locations.hasZone(p.location)) throw invalidField(field, ref, `Unknown zone '${p.location}'.`);
  if (regionOfZone(p.location) !== region) {
    throw invalidField(field, ref, `Instance must be in region '${region}', the target pool's region.`);
  }
  const path = ctx.links.zonal(p.location, 'instances', p.name);
  return { url: ctx.links.url(path), entry: ctx.state.instances.get(`${p.location}/${p.name}`), path };
}

function healthCheckRef(ctx: ServiceContext, ref: string, field: string): string {
  if (parseRef(ref, ctx.project)?.collection === 'healthChecks') {
    throw invalidField(field, ref, 'Target pools only support legacy HTTP health checks (httpHealthChecks).');
  }
  const p = expectRef(ref, field, ctx.links, 'global', 'httpHealthChecks');
  const path = ctx.links.global('httpHealthChecks', p.name);
  referenced<HttpHealthCheckResource>(ctx, 'httpHealthChecks', p.name, path);
  return ctx.links.url(path);
}

/** `{"instances":[{"instance": URL}]}` of addInstance/removeInstance. */
function memberRefs(body: Record<string, unknown>): string[] {
  const list = arrayAt(body, 'instances', 'resource.instances');
  if (list.length === 0) throw requiredField('resource.instances');
  return list.map((item, i) => {
    if (!isObject(item)) throw invalidField(`resource.instances[${i}]`, item, 'Must be an object.');
    const ref = stringAt(item, 'instance', `resource.instances[${i}].instance`);
    if (!ref) throw requiredField(`resource.instances[${i}].instance`);
    return ref;
  });
}

/** addInstance/removeInstance: the members the request checked change once the operation is DONE. */
function membersAction(
  change: (e: Entry<TargetPoolResource>, urls: string[], nowMs: number) => void,
): ActionSpec {
  return {
    onRestart: 'commit',
    commit: (ctx, a) => {
      const e = ctx.state.targetPools.get(a.key);
      if (e) change(e, (a.data?.instances as string[] | undefined) ?? [], ctx.now());
    },
    rollback: () => {},
  };
}

export const targetPoolActions: Record<string, ActionSpec> = {
  ...collectionActions('targetPools'),
  'targetPools.addInstance': membersAction((e, urls, nowMs) => {
    const members = e.res.instances ?? [];
    e.meta.memberSince ??= {};
    for (const u of urls) {
      if (!members.includes(u)) members.push(u);
      e.meta.memberSince[u] = nowMs;
    }
    if (members.length > 0) e.res.instances = members;
  }),
  'targetPools.removeInstance': membersAction((e, urls) => {
    const left = (e.res.instances ?? []).filter((u) => !urls.includes(u));
    if (left.length > 0) e.res.instances = left;
    else delete e.res.instances;
    for (const u of urls) delete e.meta.memberSince?.[u];
  }),
};

function poolMutation(
  api: 'targetPools.addInstance' | 'targetPools.removeInstance',
  check: (ctx: ServiceContext, pool: Entry<TargetPoolResource>, region: string, refs: string[]) => string[],
): Route {
  return {
    method: 'POST',
    pattern: `regions/:region/targetPools/:name/${api.slice('targetPools.'.length)}`,
    api,
    mutation: true,
    handler: (ctx, req) => {
      const at = placeOf(ctx, req, 'targetPools');
      const name = nameParam(req);
      const body = bodyObject(req.body);
      return idempotent(ctx, req, () => {
        const [key, pool] = lookupIn(ctx, at, name);
        ctx.checkNotBusy(pool, at.item(name));
        const urls = check(ctx, pool, at.location, memberRefs(body));
        return operate(ctx, at, api, key, pool.res, { data: { instances: urls } });
      });
    },
  };
}

/**
 * A member's health state as GCE's getHealth reports it: UNHEALTHY unless
 * RUNNING and programmed (lbReadyDelayMs since it joined and the rule exists);
 * then, for a pool with no health check, HEALTHY (GCE reports every RUNNING
 * member so, and sends it traffic); with a legacy HTTP check, what the lab's
 * prober saw (the checkHealth hook). A service without the hook probes
 * nothing and reports a checked member HEALTHY too.
 */
async function memberHealth(
  ctx: ServiceContext,
  pool: Entry<TargetPoolResource>,
  inst: InstanceResource,
  rule: Entry<ForwardingRuleResource>,
): Promise<'HEALTHY' | 'UNHEALTHY'> {
  if (inst.status !== 'RUNNING') return 'UNHEALTHY';
  const since = Math.max(pool.meta.memberSince?.[inst.selfLink] ?? 0, rule.meta.createdAtMs ?? 0);
  if (ctx.now() - since < ctx.timing.lbReadyDelayMs) return 'UNHEALTHY';
  const hcUrl = pool.res.healthChecks?.[0];
  const hc = hcUrl
    ? (ctx.state.httpHealthChecks.get(hcUrl.slice(hcUrl.lastIndexOf('/') + 1))?.res ?? null)
    : null;
  if (!hc || !ctx.hooks.checkHealth) return 'HEALTHY';
  try {
    return (await ctx.hooks.checkHealth({ instance: structuredClone(inst), healthCheck: hc }))
      ? 'HEALTHY'
      : 'UNHEALTHY';
  } catch {
    return 'UNHEALTHY';
  }
}

export const targetPoolRoutes: Route[] = [
  insertRoute('targetPools', (ctx, at, body, name) => {
    const region = at.location;
    const description = stringAt(body, 'description', 'resource.description');
    const sessionAffinity = stringAt(body, 'sessionAffinity', 'resource.sessionAffinity') ?? 'NONE';
    if (!SESSION_AFFINITIES.includes(sessionAffinity)) {
      throw invalidField(
        'resource.sessionAffinity',
        sessionAffinity,
        `Must be one of ${SESSION_AFFINITIES.join(', ')}.`,
      );
    }
    const hcRefs = stringArrayAt(body, 'healthChecks', 'resource.healthChecks');
    if (hcRefs.length > 1)
      throw invalidField('resource.healthChecks', hcRefs, 'Only one health check may be specified.');
    const healthChecks = hcRefs.map((r, i) => healthCheckRef(ctx, r, `resource.healthChecks[${i}]`));
    const instances: string[] = [];
    stringArrayAt(body, 'instances', 'resource.instances').forEach((r, i) => {
      const ref = instanceRef(ctx, region, r, `resource.instances[${i}]`);
      if (!ref.entry) throw notFound(ref.path);
      if (instances.includes(ref.url))
        throw invalidField(`resource.instances[${i}]`, r, 'Duplicate instance.');
      instances.push(ref.url);
    });
    checkNameFree(ctx, at, name);
    const l = ctx.links;
    const res: TargetPoolResource = {
      ...resourceHead(ctx, 'targetPools', name, description),
      region: l.url(l.regionPath(region)),
      ...(healthChecks.length > 0 ? { healthChecks } : {}),
      ...(instances.length > 0 ? { instances } : {}),
      sessionAffinity,
      selfLink: l.url(at.item(name)),
    };
    return { res, meta: { memberSince: Object.fromEntries(instances.map((u) => [u, ctx.now()])) } };
  }),
  ...readRoutes('targetPools'),
  deleteRoute('targetPools', {
    usedBy: (ctx, e) =>
      ctx.state.forwardingRules.entries().find(([, r]) => r.res.target === e.res.selfLink)?.[1].res.selfLink,
  }),
  poolMutation('targetPools.addInstance', (ctx, pool, region, refs) => {
    const urls: string[] = [];
    refs.forEach((r, i) => {
      const ref = instanceRef(ctx, region, r, `resource.instances[${i}].instance`);
      if (!ref.entry) throw notFound(ref.path);
      if (pool.res.instances?.includes(ref.url) || urls.includes(ref.url)) {
        throw new ApiError(
          400,
          'memberAlreadyExists',
          `Resource '${ref.path}' is already a member of '${pathOf(pool.res.selfLink)}'.`,
        );
      }
      urls.push(ref.url);
    });
    return urls;
  }),
  poolMutation('targetPools.removeInstance', (ctx, pool, region, refs) => {
    const urls: string[] = [];
    refs.forEach((r, i) => {
      const ref = instanceRef(ctx, region, r, `resource.instances[${i}].instance`);
      // A member whose instance was deleted can still be removed.
      if (!pool.res.instances?.includes(ref.url)) {
        if (!ref.entry) throw notFound(ref.path);
        throw invalidField(
          'resource.instance',
          ref.url,
          'Instance is not currently attached to this target pool.',
        );
      }
      if (!urls.includes(ref.url)) urls.push(ref.url);
    });
    return urls;
  }),
  {
    method: 'POST',
    pattern: 'regions/:region/targetPools/:name/getHealth',
    api: 'targetPools.getHealth',
    handler: async (ctx, req) => {
      const at = placeOf(ctx, req, 'targetPools');
      const name = nameParam(req);
      const body = bodyObject(req.body);
      const [, pool] = lookupIn(ctx, at, name);
      const ref = instanceRef(
        ctx,
        at.location,
        stringAt(body, 'instance', 'resource.instance'),
        'resource.instance',
      );
      if (!ref.entry) throw notFound(ref.path);
      if (!pool.res.instances?.includes(ref.url)) {
        throw invalidField(
          'resource.instance',
          ref.url,
          'Instance is not currently attached to this target pool.',
        );
      }
      const inst = ref.entry.res;
      const rules = ctx.state.forwardingRules
        .entries()
        .filter(([, r]) => r.res.target === pool.res.selfLink && !r.meta.pending);
      const healthStatus = [];
      for (const [, rule] of rules) {
        healthStatus.push({
          healthState: await memberHealth(ctx, pool, inst, rule),
          instance: inst.selfLink,
          ipAddress: rule.res.IPAddress,
          port: Number((rule.res.portRange ?? '0').split('-')[0]),
          forwardingRule: rule.res.selfLink,
          forwardingRuleIp: rule.res.IPAddress,
        });
      }
      return {
        body: {
          kind: 'compute#targetPoolInstanceHealth',
          ...(healthStatus.length > 0 ? { healthStatus } : {}),
        },
      };
    },
  },
];
