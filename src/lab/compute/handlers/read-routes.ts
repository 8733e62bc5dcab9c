// The read routes every resource has, named after its table: get and list in
// its zone, region or the global scope, and aggregatedList over all zones or
// regions. `api` is `<table>.get`, `<table>.list`, `<table>.aggregatedList`.
import type { ServiceContext } from '../context.js';
import { listResponse, parseListQuery } from '../listing.js';
import type { TableName } from '../state.js';
import {
  type ApiRequest,
  aggregatedList,
  lookup,
  nameParam,
  type Route,
  regionParam,
  visibleValues,
  zoneParam,
} from './common.js';

/** Where one request's resources live: table key prefix and the path of the collection. */
interface Place {
  prefix: string;
  item: (name: string) => string;
  collection: string;
}

function placeOf(
  ctx: ServiceContext,
  req: ApiRequest,
  scope: 'zone' | 'region' | 'global',
  table: TableName,
): Place {
  const l = ctx.links;
  if (scope === 'zone') {
    const zone = zoneParam(ctx, req);
    return {
      prefix: `${zone}/`,
      item: (name) => l.zonal(zone, table, name),
      collection: `${l.zonePath(zone)}/${table}`,
    };
  }
  if (scope === 'region') {
    const region = regionParam(ctx, req);
    return {
      prefix: `${region}/`,
      item: (name) => l.regional(region, table, name),
      collection: `${l.regionPath(region)}/${table}`,
    };
  }
  return { prefix: '', item: (name) => l.global(table, name), collection: `${l.globalPath()}/${table}` };
}

/**
 * get, list and (unless global) aggregatedList of `table`, whose resources
 * are `kind` (`compute#address`: lists are `compute#addressList` and
 * `compute#addressAggregatedList`).
 */
export function readRoutes(o: {
  table: TableName;
  kind: string;
  scope: 'zone' | 'region' | 'global';
}): Route[] {
  const { table, kind, scope } = o;
  const base = scope === 'global' ? `global/${table}` : `${scope}s/:${scope}/${table}`;
  const routes: Route[] = [
    {
      method: 'GET',
      pattern: `${base}/:name`,
      api: `${table}.get`,
      handler: (ctx, req) => {
        const p = placeOf(ctx, req, scope, table);
        const name = nameParam(req);
        const [, e] = lookup(ctx, table, p.prefix, name, p.item(name));
        return { body: structuredClone(e.res) };
      },
    },
    {
      method: 'GET',
      pattern: base,
      api: `${table}.list`,
      handler: (ctx, req) => {
        const p = placeOf(ctx, req, scope, table);
        const items = visibleValues<{ name: string; id: string; creationTimestamp: string }>(
          ctx,
          table,
          p.prefix,
        );
        return {
          body: listResponse(
            `${kind}List`,
            p.collection,
            ctx.links.url(p.collection),
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
