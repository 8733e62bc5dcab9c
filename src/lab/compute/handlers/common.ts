// Shared by the resource handlers: the request shape, path parameters,
// lookups that answer as GCE does, requestId idempotency and starting an
// operation with any injected fault.
import type { ServiceContext } from '../context.js';
import {
  ApiError,
  invalidField,
  notFound,
  notReady,
  USAGE_LIMIT_MESSAGES,
  usageLimitError,
} from '../errors.js';
import type { ComputeFault } from '../faults.js';
import { isUuid } from '../ids.js';
import { aggregatedResponse, parseListQuery } from '../listing.js';
import { checkPathName, regionOfZone } from '../names.js';
import type { StartParams } from '../operations.js';
import type { Entry, TableName } from '../state.js';
import type { OperationResource } from '../types.js';
import { COLLECTIONS, type Collection } from './collections.js';

export interface ApiRequest {
  method: string;
  /** Path parameters: zone, region, name (the resource), op (an operation). */
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export interface ApiResponse {
  status?: number;
  body: unknown;
}

export type Handler = (ctx: ServiceContext, req: ApiRequest) => ApiResponse | Promise<ApiResponse>;

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** Below `/compute/v1/projects/{project}/`, with `:zone`, `:region`, `:name`, `:op`. */
  pattern: string;
  /** `<collection>.<method>`, as faults name it. */
  api: string;
  /** Returns an Operation (so `operation` faults apply). */
  mutation?: boolean;
  /** Served for any project in the path (public images), which the handler gets as `:project`. */
  anyProject?: boolean;
  handler: Handler;
}

export function param(req: ApiRequest, key: string): string {
  const v = req.params[key];
  if (v === undefined) throw new Error(`route has no :${key}`);
  return v;
}

export function zoneParam(ctx: ServiceContext, req: ApiRequest): string {
  const zone = param(req, 'zone');
  ctx.locations.checkZone(zone);
  return zone;
}

export function regionParam(ctx: ServiceContext, req: ApiRequest): string {
  const region = param(req, 'region');
  ctx.locations.checkRegion(region);
  return region;
}

export function nameParam(req: ApiRequest): string {
  const name = param(req, 'name');
  checkPathName(name);
  return name;
}

export function isVisible(table: TableName, e: Entry<unknown>): boolean {
  const c: Collection | undefined = table === 'images' ? undefined : COLLECTIONS[table];
  return !(e.meta.pending && c?.hiddenWhilePending);
}

/** Looks up `prefix + nameOrId` for a read or a mutation of that resource; 404 with `path` if absent. */
export function lookup<T extends { name: string; id: string }>(
  ctx: ServiceContext,
  table: TableName,
  prefix: string,
  nameOrId: string,
  path: string,
): [string, Entry<T>] {
  const found = ctx.state.table(table).find(prefix, nameOrId) as [string, Entry<T>] | undefined;
  if (!found || !isVisible(table, found[1])) throw notFound(path);
  return found;
}

/** A resource another one refers to: it must exist and be finished creating. */
export function referenced<T extends { name: string; id: string }>(
  ctx: ServiceContext,
  table: TableName,
  key: string,
  path: string,
): Entry<T> {
  const e = ctx.state.table(table).get(key) as Entry<T> | undefined;
  if (!e || !isVisible(table, e)) throw notFound(path);
  if (e.meta.pending) throw notReady(path);
  return e;
}

/** Whether a name is taken, including by a resource still being created. */
export function nameTaken(ctx: ServiceContext, table: TableName, key: string): boolean {
  return ctx.state.table(table).get(key) !== undefined;
}

export function visibleValues<T extends { name: string; id: string }>(
  ctx: ServiceContext,
  table: TableName,
  prefix: string,
): T[] {
  return ctx.state
    .table(table)
    .entries()
    .filter(([k, e]) => k.startsWith(prefix) && isVisible(table, e))
    .map(([, e]) => e.res as T);
}

/**
 * Runs a mutation at most once per requestId (GCE keeps them about an hour):
 * a retry gets the first operation back, as it is now.
 */
export function idempotent(
  ctx: ServiceContext,
  req: ApiRequest,
  start: () => OperationResource,
): ApiResponse {
  const rid = req.query.get('requestId');
  if (rid !== null && rid !== '') {
    // The v1 reference's words for requestId.
    if (!isUuid(rid)) {
      throw invalidField(
        'requestId',
        rid,
        'The request ID must be a valid UUID with the exception that zero UUID is not supported (00000000-0000-0000-0000-000000000000).',
      );
    }
    const seen = ctx.state.requestIds.get(rid);
    const rec = seen ? ctx.state.operations.get(seen.op) : undefined;
    if (rec) return { body: structuredClone(rec.op) };
  }
  const op = start();
  if (rid) {
    ctx.state.requestIds.set(rid, { op: op.name, atMs: ctx.now() });
    ctx.changed();
  }
  return { body: op };
}

/** Starts an operation, arming an injected `operation` fault for this request if one matches. */
export function startOperation(
  ctx: ServiceContext,
  api: string,
  target: { zone?: string; region?: string; name: string },
  params: Omit<StartParams, 'fault'>,
): OperationResource {
  const region = target.region ?? (target.zone ? regionOfZone(target.zone) : undefined);
  const fault = ctx.faults.take(api, 'operation', { zone: target.zone, region, name: target.name });
  return ctx.ops.start({ ...params, fault });
}

export function removeFrom(list: string[] | undefined, value: string): string[] | undefined {
  const out = (list ?? []).filter((x) => x !== value);
  return out.length > 0 ? out : undefined;
}

/**
 * The HTTP error an `http` fault produces. A usage-limit reason
 * (rateLimitExceeded, userRateLimitExceeded, quotaExceeded) gets GCE's whole
 * answer: 403 unless `code` says otherwise, domain usageLimits, its status and
 * message.
 */
export function faultError(f: ComputeFault, target: { region?: string | undefined } = {}): ApiError {
  const usage = f.reason ? USAGE_LIMIT_MESSAGES[f.reason] : undefined;
  if (f.reason && usage) {
    const code = typeof f.code === 'number' ? f.code : 403;
    return usageLimitError(f.reason, f.message ?? usage(target.region ?? 'us-central1'), code);
  }
  const code = typeof f.code === 'number' ? f.code : 503;
  return new ApiError(
    code,
    f.reason ?? (code === 503 ? 'backendError' : 'invalid'),
    f.message ?? 'Backend Error',
  );
}

/**
 * aggregatedList over zones or regions. An `http` fault that names a zone or
 * region makes that scope unreachable: listed in `unreachables` with
 * returnPartialSuccess, else the whole call fails, as GCE does.
 */
export function aggregatedList(
  ctx: ServiceContext,
  req: ApiRequest,
  o: {
    api: string;
    kind: string;
    listKey: string;
    table: TableName;
    scope: 'zones' | 'regions';
    collection: string;
  },
): ApiResponse {
  const q = parseListQuery(req.query);
  const locs = o.scope === 'zones' ? ctx.locations.zones : ctx.locations.regions;
  const hit = new Set<ComputeFault>();
  const scopes = locs.map((loc) => {
    const target = o.scope === 'zones' ? { zone: loc, region: regionOfZone(loc) } : { region: loc };
    const f = ctx.faults.peek(o.api, 'http', target);
    const scoped = f && (f.match?.zone !== undefined || f.match?.region !== undefined);
    if (f && scoped) hit.add(f);
    return {
      key: `${o.scope}/${loc}`,
      items: visibleValues<ListItem>(ctx, o.table, `${loc}/`),
      unreachable: !!scoped,
    };
  });
  for (const f of hit) ctx.faults.use(f);
  const first = [...hit][0];
  if (first && !q.returnPartialSuccess) throw faultError(first, first.match ?? {});
  const path = `${ctx.links.projectPath()}/aggregated/${o.collection}`;
  return { body: aggregatedResponse(o.kind, o.listKey, path, ctx.links.url(path), scopes, q) };
}

type ListItem = { name: string; id: string; creationTimestamp: string };
