// Legacy global httpHealthChecks (the only kind target pools accept): insert,
// get, list, delete (refused while a target pool uses it). Not in compute.proto
// any more; the shape follows the REST reference of compute#httpHealthCheck.
import { bodyObject, intAt, stringAt } from '../body.js';
import type { ActionSpec } from '../context.js';
import { alreadyExists, inUse, invalidField } from '../errors.js';
import { newId, timestamp } from '../ids.js';
import { checkName, pathOf } from '../names.js';
import type { HttpHealthCheckResource } from '../types.js';
import { idempotent, lookup, nameParam, nameTaken, type Route, startOperation } from './common.js';
import { readRoutes } from './read-routes.js';

export const httpHealthCheckActions: Record<string, ActionSpec> = {
  'httpHealthChecks.insert': {
    onRestart: 'rollback',
    commit: (ctx, a) => {
      const e = ctx.state.httpHealthChecks.get(a.key);
      if (e) delete e.meta.pending;
    },
    rollback: (ctx, a) => ctx.state.httpHealthChecks.delete(a.key),
  },
  'httpHealthChecks.delete': {
    onRestart: 'commit',
    commit: (ctx, a) => ctx.state.httpHealthChecks.delete(a.key),
    rollback: () => {},
  },
};

export const httpHealthCheckRoutes: Route[] = [
  {
    method: 'POST',
    pattern: 'global/httpHealthChecks',
    api: 'httpHealthChecks.insert',
    mutation: true,
    handler: (ctx, req) => {
      const body = bodyObject(req.body);
      return idempotent(ctx, req, () => {
        const name = checkName(body.name, 'resource.name');
        const path = ctx.links.global('httpHealthChecks', name);
        const port = intAt(body, 'port', 'resource.port', 1, 65535) ?? 80;
        const checkIntervalSec = intAt(body, 'checkIntervalSec', 'resource.checkIntervalSec', 1, 300) ?? 5;
        const timeoutSec = intAt(body, 'timeoutSec', 'resource.timeoutSec', 1, 300) ?? 5;
        if (timeoutSec > checkIntervalSec) {
          throw invalidField(
            'resource.timeoutSec',
            String(timeoutSec),
            'Must be less than or equal to checkIntervalSec.',
          );
        }
        const healthyThreshold = intAt(body, 'healthyThreshold', 'resource.healthyThreshold', 1, 10) ?? 2;
        const unhealthyThreshold =
          intAt(body, 'unhealthyThreshold', 'resource.unhealthyThreshold', 1, 10) ?? 2;
        const requestPath = stringAt(body, 'requestPath', 'resource.requestPath') ?? '/';
        if (!requestPath.startsWith('/'))
          throw invalidField('resource.requestPath', requestPath, "Must start with '/'.");
        const host = stringAt(body, 'host', 'resource.host');
        const description = stringAt(body, 'description', 'resource.description');
        if (nameTaken(ctx, 'httpHealthChecks', name)) throw alreadyExists(path);
        const res: HttpHealthCheckResource = {
          kind: 'compute#httpHealthCheck',
          id: newId(),
          creationTimestamp: timestamp(ctx.now()),
          name,
          ...(description ? { description } : {}),
          ...(host ? { host } : {}),
          requestPath,
          port,
          checkIntervalSec,
          timeoutSec,
          unhealthyThreshold,
          healthyThreshold,
          selfLink: ctx.links.url(path),
        };
        ctx.state.httpHealthChecks.set(name, { res, meta: { pending: true, createdAtMs: ctx.now() } });
        return startOperation(
          ctx,
          'httpHealthChecks.insert',
          { name },
          {
            scope: { kind: 'global' },
            operationType: 'insert',
            targetLink: res.selfLink,
            targetId: res.id,
            action: { type: 'httpHealthChecks.insert', key: name },
          },
        );
      });
    },
  },
  ...readRoutes({ table: 'httpHealthChecks', kind: 'compute#httpHealthCheck', scope: 'global' }),
  {
    method: 'DELETE',
    pattern: 'global/httpHealthChecks/:name',
    api: 'httpHealthChecks.delete',
    mutation: true,
    handler: (ctx, req) => {
      const name = nameParam(req);
      return idempotent(ctx, req, () => {
        const path = ctx.links.global('httpHealthChecks', name);
        const [key, e] = lookup<HttpHealthCheckResource>(ctx, 'httpHealthChecks', '', name, path);
        ctx.checkNotBusy(e, path);
        const pool = ctx.state.targetPools
          .entries()
          .find(([, p]) => p.res.healthChecks?.includes(e.res.selfLink));
        if (pool)
          throw inUse(
            'httpHealthCheck',
            ctx.links.global('httpHealthChecks', e.res.name),
            pathOf(pool[1].res.selfLink),
          );
        return startOperation(
          ctx,
          'httpHealthChecks.delete',
          { name: e.res.name },
          {
            scope: { kind: 'global' },
            operationType: 'delete',
            targetLink: e.res.selfLink,
            targetId: e.res.id,
            action: { type: 'httpHealthChecks.delete', key },
          },
        );
      });
    },
  },
];
