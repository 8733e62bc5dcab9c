// Where a request's resources live, and how an operation on one of them
// starts: what every handler does the same way but for the collection's scope
// (zone, region or global).
import type { ServiceContext } from '../context.js';
import { alreadyExists } from '../errors.js';
import { newId, timestamp } from '../ids.js';
import type { Entry, Scope, Table } from '../state.js';
import type { OperationResource } from '../types.js';
import { COLLECTIONS, type CollectionName, type ResourceOf } from './collections.js';
import {
  type ApiRequest,
  lookup,
  nameParam,
  nameTaken,
  regionParam,
  startOperation,
  zoneParam,
} from './common.js';

/** One collection in one zone, region or the global scope. */
export interface Place<K extends CollectionName = CollectionName> {
  table: K;
  /** The zone or region; '' for a global collection. */
  location: string;
  scope: Scope;
  /** Path of the collection: `projects/P/regions/R/addresses`. */
  collection: string;
  /** Key of a resource in its table: `zone/name`, `region/name` or `name`. */
  key(name: string): string;
  /** Path of a resource: `projects/P/regions/R/addresses/NAME`. */
  item(name: string): string;
}

export function placeIn<K extends CollectionName>(ctx: ServiceContext, table: K, location: string): Place<K> {
  const l = ctx.links;
  const kind = COLLECTIONS[table].scope;
  if (kind === 'global') {
    const collection = `${l.globalPath()}/${table}`;
    return {
      table,
      location: '',
      scope: { kind },
      collection,
      key: (n) => n,
      item: (n) => l.global(table, n),
    };
  }
  const base = kind === 'zone' ? l.zonePath(location) : l.regionPath(location);
  return {
    table,
    location,
    scope: { kind, name: location },
    collection: `${base}/${table}`,
    key: (n) => `${location}/${n}`,
    item: (n) => `${base}/${table}/${n}`,
  };
}

/** The place a request's path names (its `:zone` or `:region` must exist). */
export function placeOf<K extends CollectionName>(ctx: ServiceContext, req: ApiRequest, table: K): Place<K> {
  const kind = COLLECTIONS[table].scope;
  const location = kind === 'zone' ? zoneParam(ctx, req) : kind === 'region' ? regionParam(ctx, req) : '';
  return placeIn(ctx, table, location);
}

export function tableOf<K extends CollectionName>(ctx: ServiceContext, table: K): Table<ResourceOf<K>> {
  return ctx.state[table] as unknown as Table<ResourceOf<K>>;
}

/** The resource of `at` named (or numbered) `nameOrId`; 404 if absent or hidden. */
export function lookupIn<K extends CollectionName>(
  ctx: ServiceContext,
  at: Place<K>,
  nameOrId: string,
): [string, Entry<ResourceOf<K>>] {
  return lookup<ResourceOf<K>>(ctx, at.table, at.key(''), nameOrId, at.item(nameOrId));
}

/** The resource a request's path names, and its path by its own name (the request may give its id). */
export function requested<K extends CollectionName>(
  ctx: ServiceContext,
  req: ApiRequest,
  table: K,
): { at: Place<K>; key: string; e: Entry<ResourceOf<K>>; path: string } {
  const at = placeOf(ctx, req, table);
  const [key, e] = lookupIn(ctx, at, nameParam(req));
  return { at, key, e, path: at.item(e.res.name) };
}

/** An insert's 409: the name is taken, also by a resource still being created. */
export function checkNameFree(ctx: ServiceContext, at: Place, name: string): void {
  if (nameTaken(ctx, at.table, at.key(name))) throw alreadyExists(at.item(name));
}

/** The fields every new resource starts with, in GCE's order. */
export function resourceHead<K extends CollectionName>(
  ctx: ServiceContext,
  table: K,
  name: string,
  description: string | undefined,
  nowMs = ctx.now(),
): {
  kind: ResourceOf<K>['kind'];
  id: string;
  creationTimestamp: string;
  name: string;
  description?: string;
} {
  return {
    kind: COLLECTIONS[table].kind as ResourceOf<K>['kind'],
    id: newId(),
    creationTimestamp: timestamp(nowMs),
    name,
    ...(description ? { description } : {}),
  };
}

export interface OperationOptions {
  /** Default: the method of `api` (`insert` for `addresses.insert`). */
  operationType?: string;
  /** Kept with the action, for its commit or rollback. */
  data?: Record<string, unknown>;
  /** Runs while RUNNING (operations.ts). */
  work?: () => Promise<void>;
  user?: string;
}

/**
 * Starts `api` (`<collection>.<method>`) on the resource at `key` of `at`: an
 * operation in the collection's scope whose action is `api`, with any
 * injected `operation` fault for it.
 */
export function operate(
  ctx: ServiceContext,
  at: Place,
  api: string,
  key: string,
  res: { name: string; id: string; selfLink: string },
  o: OperationOptions = {},
): OperationResource {
  const where =
    at.scope.kind === 'zone'
      ? { zone: at.location }
      : at.scope.kind === 'region'
        ? { region: at.location }
        : {};
  return startOperation(
    ctx,
    api,
    { ...where, name: res.name },
    {
      scope: at.scope,
      operationType: o.operationType ?? api.slice(api.indexOf('.') + 1),
      ...(o.user ? { user: o.user } : {}),
      targetLink: res.selfLink,
      targetId: res.id,
      action: { type: api, key, ...(o.data ? { data: o.data } : {}) },
      ...(o.work ? { work: o.work } : {}),
    },
  );
}
