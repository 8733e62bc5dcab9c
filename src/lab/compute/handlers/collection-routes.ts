// The routes and actions every collection has, built from its entry in
// COLLECTIONS: get and list in its zone, region or the global scope,
// aggregatedList over all zones or regions, insert and delete (each returning
// an operation), and what those operations do when they finish or are undone.
// The handler files add only what is particular to their resource. `api` is
// `<table>.<method>`.
import { bodyObject, type Json } from '../body.js';
import type { ActionSpec, ServiceContext } from '../context.js';
import { inUse } from '../errors.js';
import { listResponse, parseListQuery } from '../listing.js';
import { checkName, pathOf } from '../names.js';
import type { Entry, Meta } from '../state.js';
import { COLLECTIONS, type Collection, type CollectionName, type ResourceOf } from './collections.js';
import { aggregatedList, idempotent, nameParam, type Route, visibleValues } from './common.js';
import { lookupIn, operate, type Place, placeOf, tableOf } from './place.js';

function basePattern(table: CollectionName): string {
  const scope = COLLECTIONS[table].scope;
  return scope === 'global' ? `global/${table}` : `${scope}s/:${scope}/${table}`;
}

/**
 * get, list and (unless global) aggregatedList of `table`, whose resources
 * are `kind` (`compute#address`: lists are `compute#addressList` and
 * `compute#addressAggregatedList`).
 */
export function readRoutes(table: CollectionName): Route[] {
  const { kind, scope } = COLLECTIONS[table];
  const base = basePattern(table);
  const routes: Route[] = [
    {
      method: 'GET',
      pattern: `${base}/:name`,
      api: `${table}.get`,
      handler: (ctx, req) => {
        const at = placeOf(ctx, req, table);
        const [, e] = lookupIn(ctx, at, nameParam(req));
        return { body: structuredClone(e.res) };
      },
    },
    {
      method: 'GET',
      pattern: base,
      api: `${table}.list`,
      handler: (ctx, req) => {
        const at = placeOf(ctx, req, table);
        const items = visibleValues<{ name: string; id: string; creationTimestamp: string }>(
          ctx,
          table,
          at.key(''),
        );
        return {
          body: listResponse(
            `${kind}List`,
            at.collection,
            ctx.links.url(at.collection),
            items,
            parseListQuery(req.query),
          ),
        };
      },
    },
  ];
  if (scope === 'global') return routes;
  const api = `${table}.aggregatedList`;
  routes.push({
    method: 'GET',
    pattern: `aggregated/${table}`,
    api,
    handler: (ctx, req) =>
      aggregatedList(ctx, req, {
        api,
        kind: `${kind}AggregatedList`,
        listKey: table,
        table,
        scope: `${scope}s`,
        collection: table,
      }),
  });
  return routes;
}

/** A new resource and what the server keeps about it; `work` runs while the insert is RUNNING. */
export interface Created<T> {
  res: T;
  meta?: Meta;
  work?: () => Promise<void>;
}

/**
 * `<table>.insert`: `create` validates the body (the name is checked first)
 * and builds the resource, which is stored as pending and whose insert
 * operation starts. Nothing may change state before the last check passed.
 */
export function insertRoute<K extends CollectionName>(
  table: K,
  create: (ctx: ServiceContext, at: Place<K>, body: Json, name: string) => Created<ResourceOf<K>>,
): Route {
  const api = `${table}.insert`;
  return {
    method: 'POST',
    pattern: basePattern(table),
    api,
    mutation: true,
    handler: (ctx, req) => {
      const at = placeOf(ctx, req, table);
      const body = bodyObject(req.body);
      return idempotent(ctx, req, () => {
        const name = checkName(body.name, 'resource.name');
        const { res, meta, work } = create(ctx, at, body, name);
        const key = at.key(name);
        tableOf(ctx, table).set(key, { res, meta: { pending: true, createdAtMs: ctx.now(), ...meta } });
        return operate(ctx, at, api, key, res, work ? { work } : {});
      });
    },
  };
}

/**
 * `<table>.delete`: one operation at a time per resource; refused (GCE's
 * resourceInUseByAnotherResource) while `usedBy` names a user's URL;
 * `deleting` marks the resource while its operation runs.
 */
export function deleteRoute<K extends CollectionName>(
  table: K,
  o: {
    usedBy?: (ctx: ServiceContext, e: Entry<ResourceOf<K>>) => string | undefined;
    deleting?: (e: Entry<ResourceOf<K>>) => void;
  } = {},
): Route {
  const api = `${table}.delete`;
  return {
    method: 'DELETE',
    pattern: `${basePattern(table)}/:name`,
    api,
    mutation: true,
    handler: (ctx, req) => {
      const at = placeOf(ctx, req, table);
      const name = nameParam(req);
      return idempotent(ctx, req, () => {
        const [key, e] = lookupIn(ctx, at, name);
        ctx.checkNotBusy(e, at.item(name));
        const user = o.usedBy?.(ctx, e);
        const c: Collection = COLLECTIONS[table];
        if (user) throw inUse(c.inUseAs ?? table, at.item(e.res.name), pathOf(user));
        o.deleting?.(e);
        return operate(ctx, at, api, key, e.res);
      });
    },
  };
}

/**
 * The actions of `<table>.insert` and `<table>.delete`. A failed insert (or
 * one interrupted by a restart) removes the resource; a delete is finished
 * after a restart. `created` runs when the insert is DONE, `release` before
 * the resource goes (a failed insert or a finished delete), `undelete` when a
 * delete fails.
 */
export function collectionActions<K extends CollectionName>(
  table: K,
  o: {
    created?: (ctx: ServiceContext, e: Entry<ResourceOf<K>>) => void;
    release?: (ctx: ServiceContext, e: Entry<ResourceOf<K>>) => void;
    undelete?: (e: Entry<ResourceOf<K>>) => void;
  } = {},
): Record<string, ActionSpec> {
  const remove = (ctx: ServiceContext, key: string) => {
    const e = tableOf(ctx, table).get(key);
    if (e) o.release?.(ctx, e);
    tableOf(ctx, table).delete(key);
  };
  return {
    [`${table}.insert`]: {
      onRestart: 'rollback',
      commit: (ctx, a) => {
        const e = tableOf(ctx, table).get(a.key);
        if (!e) return;
        delete e.meta.pending;
        o.created?.(ctx, e);
      },
      rollback: (ctx, a) => remove(ctx, a.key),
    },
    [`${table}.delete`]: {
      onRestart: 'commit',
      commit: (ctx, a) => remove(ctx, a.key),
      rollback: (ctx, a) => {
        const e = tableOf(ctx, table).get(a.key);
        if (e) o.undelete?.(e);
      },
    },
  };
}
