// zoneOperations, regionOperations, globalOperations: get, wait, list, delete.
// An operation is only found in its own scope, as in GCE.
import type { ServiceContext } from '../context.js';
import { notFound } from '../errors.js';
import { listResponse, parseListQuery } from '../listing.js';
import type { OperationRecord, Scope } from '../state.js';
import { type ApiRequest, param, type Route, regionParam, zoneParam } from './common.js';

type Kind = 'zone' | 'region' | 'global';

function scopeOf(ctx: ServiceContext, req: ApiRequest, kind: Kind): Scope {
  if (kind === 'zone') return { kind, name: zoneParam(ctx, req) };
  if (kind === 'region') return { kind, name: regionParam(ctx, req) };
  return { kind };
}

function sameScope(a: Scope, b: Scope): boolean {
  return a.kind === b.kind && (a.kind === 'global' || (b.kind !== 'global' && a.name === b.name));
}

function scopePath(ctx: ServiceContext, s: Scope): string {
  const l = ctx.links;
  return s.kind === 'zone' ? l.zonePath(s.name) : s.kind === 'region' ? l.regionPath(s.name) : l.globalPath();
}

function find(ctx: ServiceContext, req: ApiRequest, kind: Kind): OperationRecord {
  const scope = scopeOf(ctx, req, kind);
  const name = param(req, 'op');
  const rec = ctx.state.operations.get(name);
  if (!rec || !sameScope(rec.scope, scope)) throw notFound(`${scopePath(ctx, scope)}/operations/${name}`);
  return rec;
}

function routesFor(kind: Kind, collection: string, prefix: string): Route[] {
  return [
    {
      method: 'GET',
      pattern: `${prefix}operations/:op`,
      api: `${collection}.get`,
      handler: (ctx, req) => ({ body: structuredClone(find(ctx, req, kind).op) }),
    },
    {
      method: 'POST',
      pattern: `${prefix}operations/:op/wait`,
      api: `${collection}.wait`,
      handler: async (ctx, req) => {
        const rec = find(ctx, req, kind);
        await ctx.ops.wait(rec.op.name, ctx.timing.operationWaitMaxMs, req.signal);
        return { body: structuredClone(rec.op) };
      },
    },
    {
      method: 'DELETE',
      pattern: `${prefix}operations/:op`,
      api: `${collection}.delete`,
      handler: (ctx, req) => {
        const rec = find(ctx, req, kind);
        ctx.state.operations.delete(rec.op.name);
        ctx.changed();
        // GCE answers an empty object.
        return { body: {} };
      },
    },
    {
      method: 'GET',
      pattern: `${prefix}operations`,
      api: `${collection}.list`,
      handler: (ctx, req) => {
        const scope = scopeOf(ctx, req, kind);
        const base = `${scopePath(ctx, scope)}/operations`;
        const ops = [...ctx.state.operations.values()]
          .filter((r) => sameScope(r.scope, scope))
          .map((r) => r.op);
        return {
          body: listResponse(
            'compute#operationList',
            base,
            ctx.links.url(base),
            ops,
            parseListQuery(req.query),
          ),
        };
      },
    },
  ];
}

export const operationRoutes: Route[] = [
  ...routesFor('zone', 'zoneOperations', 'zones/:zone/'),
  ...routesFor('region', 'regionOperations', 'regions/:region/'),
  ...routesFor('global', 'globalOperations', 'global/'),
];
