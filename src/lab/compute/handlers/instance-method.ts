// The shape every method on one instance shares (`zones/Z/instances/N/<method>`
// and delete): the body is read first, then, once per requestId, the instance
// the path names is looked up and the method runs.
import { bodyObject, type Json } from '../body.js';
import type { ServiceContext } from '../context.js';
import type { OperationResource } from '../types.js';
import { type ApiRequest, idempotent, type Route } from './common.js';
import { operate, requested } from './place.js';

export type InstanceTarget = ReturnType<typeof requested<'instances'>>;

type Run<T> = (ctx: ServiceContext, t: InstanceTarget, req: ApiRequest, body: Json) => T;

/** `instances.<method>`; `readsBody: false` for the methods that take none (their body is not looked at). */
export function instanceMethod(
  method: string,
  run: Run<OperationResource>,
  o: { readsBody?: boolean } = {},
): Route {
  const del = method === 'delete';
  return {
    method: del ? 'DELETE' : 'POST',
    pattern: del ? 'zones/:zone/instances/:name' : `zones/:zone/instances/:name/${method}`,
    api: `instances.${method}`,
    mutation: true,
    handler: (ctx, req) => {
      const body = o.readsBody === false ? {} : bodyObject(req.body);
      return idempotent(ctx, req, () => run(ctx, requested(ctx, req, 'instances'), req, body));
    },
  };
}

/**
 * A change to the instance, one operation at a time: `prepare` checks the
 * request and returns what the action applies when the operation is DONE.
 */
export function instanceChange(
  method: string,
  prepare: Run<Record<string, unknown>>,
  o: { readsBody?: boolean } = {},
): Route {
  return instanceMethod(
    method,
    (ctx, t, req, body) => {
      ctx.checkNotBusy(t.e, t.path);
      return operate(ctx, t.at, `instances.${method}`, t.key, t.e.res, { data: prepare(ctx, t, req, body) });
    },
    o,
  );
}
