// The route table (paths from compute.proto's google.api.http options, below
// `/compute/v1/projects/{project}/`) and the action specs of every operation.
import type { ActionSpec } from './context.js';
import { addressActions, addressRoutes } from './handlers/addresses.js';
import type { Route } from './handlers/common.js';
import { diskActions, diskRoutes } from './handlers/disks.js';
import { forwardingRuleActions, forwardingRuleRoutes } from './handlers/forwarding-rules.js';
import { httpHealthCheckActions, httpHealthCheckRoutes } from './handlers/http-health-checks.js';
import { imageRoutes } from './handlers/images.js';
import { instanceActions, instanceRoutes } from './handlers/instances.js';
import { locationRoutes } from './handlers/locations.js';
import { operationRoutes } from './handlers/operations.js';
import { targetPoolActions, targetPoolRoutes } from './handlers/target-pools.js';

export const ROUTES: readonly Route[] = [
  ...locationRoutes,
  ...operationRoutes,
  ...instanceRoutes,
  ...diskRoutes,
  ...addressRoutes,
  ...targetPoolRoutes,
  ...forwardingRuleRoutes,
  ...httpHealthCheckRoutes,
  ...imageRoutes,
];

export const ACTIONS: Readonly<Record<string, ActionSpec>> = {
  ...instanceActions,
  ...diskActions,
  ...addressActions,
  ...targetPoolActions,
  ...forwardingRuleActions,
  ...httpHealthCheckActions,
};

/** Every `<collection>.<method>` the server answers. */
export const ROUTE_APIS: readonly string[] = [...new Set(ROUTES.map((r) => r.api))];

const compiled = ROUTES.map((route) => ({ route, segments: route.pattern.split('/') }));

export function isMutation(api: string): boolean {
  return ROUTES.some((r) => r.api === api && r.mutation);
}

/** The route for a method and the path segments after the project, with its parameters. */
export function matchRoute(
  method: string,
  segments: string[],
): { route: Route; params: Record<string, string> } | null {
  for (const { route, segments: pattern } of compiled) {
    if (route.method !== method || pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      const p = pattern[i] ?? '';
      const s = segments[i] ?? '';
      if (p.startsWith(':')) {
        if (s === '') ok = false;
        else params[p.slice(1)] = s;
      } else if (p !== s) ok = false;
    }
    if (ok) return { route, params };
  }
  return null;
}
