// Legacy global httpHealthChecks (the only kind target pools accept): insert,
// get, list, delete (refused while a target pool uses it). Not in compute.proto
// any more; the shape follows the REST reference of compute#httpHealthCheck.
import { intAt, stringAt } from '../body.js';
import type { ActionSpec } from '../context.js';
import { invalidField } from '../errors.js';
import type { HttpHealthCheckResource } from '../types.js';
import { collectionActions, deleteRoute, insertRoute, readRoutes } from './collection-routes.js';
import type { Route } from './common.js';
import { checkNameFree, resourceHead } from './place.js';

export const httpHealthCheckActions: Record<string, ActionSpec> = collectionActions('httpHealthChecks');

export const httpHealthCheckRoutes: Route[] = [
  insertRoute('httpHealthChecks', (ctx, at, body, name) => {
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
    const unhealthyThreshold = intAt(body, 'unhealthyThreshold', 'resource.unhealthyThreshold', 1, 10) ?? 2;
    const requestPath = stringAt(body, 'requestPath', 'resource.requestPath') ?? '/';
    if (!requestPath.startsWith('/'))
      throw invalidField('resource.requestPath', requestPath, "Must start with '/'.");
    const host = stringAt(body, 'host', 'resource.host');
    const description = stringAt(body, 'description', 'resource.description');
    checkNameFree(ctx, at, name);
    const res: HttpHealthCheckResource = {
      ...resourceHead(ctx, 'httpHealthChecks', name, description),
      ...(host ? { host } : {}),
      requestPath,
      port,
      checkIntervalSec,
      timeoutSec,
      unhealthyThreshold,
      healthyThreshold,
      selfLink: ctx.links.url(at.item(name)),
    };
    return { res };
  }),
  ...readRoutes('httpHealthChecks'),
  deleteRoute('httpHealthChecks', {
    usedBy: (ctx, e) =>
      ctx.state.targetPools.entries().find(([, p]) => p.res.healthChecks?.includes(e.res.selfLink))?.[1].res
        .selfLink,
  }),
];
