// The load balancer: health check, target pool and its members, forwarding
// rule, and the wait until the static IP answers through it.

import { lastSegment } from '../../domain/names.js';
import { compute, type RunContext, type RunnersFor, type RunOutcome, sleep } from './context.js';
import { staticIP } from './static-ip.js';

/** The health checks the target pool listed when it was deleted (names, comma-separated). */
const POOL_CHECKS_FACT = 'lb.poolHealthChecks';
/** Between two HTTPS tries of the load balancer's IP. */
const LB_RETRY_PAUSE_MS = 1000;

export const LOAD_BALANCER_RUNNERS: RunnersFor<
  | 'lb.create-health-check'
  | 'lb.create-target-pool'
  | 'lb.create-forwarding-rule'
  | 'lb.wait-ready'
  | 'lb.add-instance'
  | 'lb.remove-instance'
  | 'lb.delete-forwarding-rule'
  | 'lb.delete-target-pool'
  | 'lb.delete-health-check'
> = {
  'lb.create-health-check': {
    async run(step, ctx) {
      const c = compute(ctx);
      const a = step.args;
      if (await c.getHealthCheck(a.name)) return { note: 'already exists' };
      await c.mutate(
        `httpHealthChecks.insert name=${a.name} port=${a.port} path=${a.path}`,
        (requestId) =>
          c.c.httpHealthChecks.insert({
            requestId,
            project: c.project,
            httpHealthCheckResource: {
              name: a.name,
              port: a.port,
              requestPath: a.path,
              checkIntervalSec: 2,
              timeoutSec: 1,
            },
          }),
        { exists: true },
      );
      return {};
    },
    async undo(step, ctx) {
      const c = compute(ctx);
      const r = await c.mutate(
        `httpHealthChecks.delete name=${step.args.name}`,
        (requestId) =>
          c.c.httpHealthChecks.delete({ requestId, project: c.project, httpHealthCheck: step.args.name }),
        { absent: true },
      );
      return r === 'absent' ? { note: 'already gone' } : {};
    },
    async absent(step, ctx) {
      return (await compute(ctx).getHealthCheck(step.args.name)) === null;
    },
  },

  'lb.create-target-pool': {
    async run(step, ctx) {
      const c = compute(ctx);
      const a = step.args;
      const urls = a.instances.map((i) => c.instanceUrl(i.zone, i.name));
      const existing = await c.getTargetPool(a.name);
      if (existing) {
        const have = new Set((existing.instances ?? []).map(lastSegment));
        for (const i of a.instances.filter((x) => !have.has(x.name))) {
          await c.mutate(`targetPools.addInstance pool=${a.name} instance=${i.name}`, (requestId) =>
            c.c.targetPools.addInstance({
              requestId,
              project: c.project,
              region: a.region,
              targetPool: a.name,
              targetPoolsAddInstanceRequestResource: {
                instances: [{ instance: c.instanceUrl(i.zone, i.name) }],
              },
            }),
          );
        }
        return { note: 'already exists' };
      }
      await c.mutate(
        `targetPools.insert region=${a.region} name=${a.name}${a.healthCheck ? ` healthCheck=${a.healthCheck}` : ''} instances=${a.instances.map((i) => i.name).join(',')}`,
        (requestId) =>
          c.c.targetPools.insert({
            requestId,
            project: c.project,
            region: a.region,
            targetPoolResource: {
              name: a.name,
              // New plans attach none, as kube-up; only an operation journalled before names one.
              ...(a.healthCheck
                ? { healthChecks: [`projects/${c.project}/global/httpHealthChecks/${a.healthCheck}`] }
                : {}),
              instances: urls,
            },
          }),
        { exists: true },
      );
      return {};
    },
    async undo(step, ctx) {
      const c = compute(ctx);
      const r = await c.mutate(
        `targetPools.delete region=${step.args.region} name=${step.args.name}`,
        (requestId) =>
          c.c.targetPools.delete({
            requestId,
            project: c.project,
            region: step.args.region,
            targetPool: step.args.name,
          }),
        { absent: true },
      );
      return r === 'absent' ? { note: 'already gone' } : {};
    },
    async absent(step, ctx) {
      return (await compute(ctx).getTargetPool(step.args.name)) === null;
    },
  },

  'lb.create-forwarding-rule': {
    async run(step, ctx) {
      const c = compute(ctx);
      const a = step.args;
      if (await c.getForwardingRule(a.name)) return { note: 'already exists' };
      const ip = await staticIP(ctx, a.address);
      await c.mutate(
        `forwardingRules.insert region=${a.region} name=${a.name} IPAddress=${ip} ports=443 target=${a.pool}`,
        (requestId) =>
          c.c.forwardingRules.insert({
            requestId,
            project: c.project,
            region: a.region,
            forwardingRuleResource: {
              name: a.name,
              IPAddress: ip,
              IPProtocol: 'TCP',
              portRange: '443',
              target: `projects/${c.project}/regions/${a.region}/targetPools/${a.pool}`,
            },
          }),
        { exists: true },
      );
      return {};
    },
    async undo(step, ctx) {
      const c = compute(ctx);
      const r = await c.mutate(
        `forwardingRules.delete region=${step.args.region} name=${step.args.name}`,
        (requestId) =>
          c.c.forwardingRules.delete({
            requestId,
            project: c.project,
            region: step.args.region,
            forwardingRule: step.args.name,
          }),
        { absent: true },
      );
      return r === 'absent' ? { note: 'already gone' } : {};
    },
    async absent(step, ctx) {
      return (await compute(ctx).getForwardingRule(step.args.name)) === null;
    },
  },

  'lb.wait-ready': {
    // kube-up's wait: `curl -k -m1 https://<static IP>` until it answers. Any
    // HTTP answer counts (an anonymous client may get 401 or 403); a refused,
    // reset or timed-out connection or a failed TLS handshake does not. The
    // certificate is not verified: it names the static IP, but this tool may
    // not trust its CA. Each try has the call deadline (--timeout, 1.5 s).
    async run(step, ctx) {
      const probe = ctx.apiserverProbe;
      if (!probe) throw new Error('no HTTPS probe of the apiserver available to wait for the load balancer');
      const rule = await compute(ctx).getForwardingRule(step.args.forwardingRule);
      const ip = rule?.IPAddress;
      if (!ip) throw new Error(`forwarding rule ${step.args.forwardingRule} does not exist or has no IP`);
      const started = Date.now();
      const elapsed = () => Math.round((Date.now() - started) / 1000);
      let tries = 0;
      for (;;) {
        tries++;
        const p = await probe(ip);
        if (p.answered) {
          return {
            note: `https://${ip} answered (${p.healthy ? 'ok' : p.error}) after ${elapsed()} s, ${tries} ${tries === 1 ? 'try' : 'tries'}`,
          };
        }
        const why = p.error ?? 'no answer';
        if (Date.now() - started >= ctx.timing.lbReadyTimeoutMs) {
          throw new Error(
            `load balancer ${step.args.forwardingRule}: https://${ip} did not answer in ${Math.round(ctx.timing.lbReadyTimeoutMs / 1000)} s (${tries} tries, last: ${why})`,
          );
        }
        ctx.progress(
          null,
          null,
          `waiting for https://${ip} to answer (${elapsed()} s, ${tries} tries: ${why})`,
        );
        await sleep(LB_RETRY_PAUSE_MS, ctx.signal);
      }
    },
  },

  'lb.add-instance': {
    async run(step, ctx) {
      const c = compute(ctx);
      const { pool, region, replica } = step.args;
      const p = await c.getTargetPool(pool);
      if (!p) throw new Error(`target pool ${pool} does not exist`);
      if ((p.instances ?? []).some((u) => lastSegment(u) === replica.name))
        return { note: 'already in the pool' };
      await c.mutate(`targetPools.addInstance pool=${pool} instance=${replica.name}`, (requestId) =>
        c.c.targetPools.addInstance({
          requestId,
          project: c.project,
          region,
          targetPool: pool,
          targetPoolsAddInstanceRequestResource: {
            instances: [{ instance: c.instanceUrl(replica.zone, replica.name) }],
          },
        }),
      );
      return {};
    },
    async undo(step, ctx) {
      return poolRemove(ctx, step.args.pool, step.args.region, step.args.replica);
    },
  },

  'lb.remove-instance': {
    async run(step, ctx) {
      return poolRemove(ctx, step.args.pool, step.args.region, step.args.replica);
    },
    async undo(step, ctx) {
      const c = compute(ctx);
      const { pool, region, replica } = step.args;
      const p = await c.getTargetPool(pool);
      if (!p) throw new Error(`target pool ${pool} is gone: ${replica.name} cannot go back into it`);
      if ((p.instances ?? []).some((u) => lastSegment(u) === replica.name))
        return { note: 'already in the pool' };
      await c.mutate(`targetPools.addInstance pool=${pool} instance=${replica.name}`, (requestId) =>
        c.c.targetPools.addInstance({
          requestId,
          project: c.project,
          region,
          targetPool: pool,
          targetPoolsAddInstanceRequestResource: {
            instances: [{ instance: c.instanceUrl(replica.zone, replica.name) }],
          },
        }),
      );
      return {};
    },
  },

  'lb.delete-forwarding-rule': {
    async run(step, ctx) {
      const c = compute(ctx);
      const r = await c.mutate(
        `forwardingRules.delete region=${step.args.region} name=${step.args.name}`,
        (requestId) =>
          c.c.forwardingRules.delete({
            requestId,
            project: c.project,
            region: step.args.region,
            forwardingRule: step.args.name,
          }),
        { absent: true },
      );
      return r === 'absent' ? { note: 'already gone' } : {};
    },
  },

  'lb.delete-target-pool': {
    async run(step, ctx) {
      const c = compute(ctx);
      // Which health check it used, for the next step: the pool is gone by then.
      const pool = await c.getTargetPool(step.args.name);
      if (pool) ctx.facts[POOL_CHECKS_FACT] = (pool.healthChecks ?? []).map(lastSegment).join(',');
      const r = await c.mutate(
        `targetPools.delete region=${step.args.region} name=${step.args.name}`,
        (requestId) =>
          c.c.targetPools.delete({
            requestId,
            project: c.project,
            region: step.args.region,
            targetPool: step.args.name,
          }),
        { absent: true },
      );
      return r === 'absent' ? { note: 'already gone' } : {};
    },
  },

  'lb.delete-health-check': {
    // Only a pool made by an earlier kube-ha has one; kube-up's and today's have none.
    async run(step, ctx) {
      const c = compute(ctx);
      const had = ctx.facts[POOL_CHECKS_FACT];
      if (had !== undefined && !had.split(',').includes(step.args.name)) {
        return { skipped: true, note: `the target pool had no health check ${step.args.name}` };
      }
      const r = await c.mutate(
        `httpHealthChecks.delete name=${step.args.name}`,
        (requestId) =>
          c.c.httpHealthChecks.delete({ requestId, project: c.project, httpHealthCheck: step.args.name }),
        { absent: true },
      );
      return r === 'absent' ? { note: 'already gone' } : {};
    },
  },
};

async function poolRemove(
  ctx: RunContext,
  pool: string,
  region: string,
  replica: { name: string; zone: string },
): Promise<RunOutcome> {
  const c = compute(ctx);
  const p = await c.getTargetPool(pool);
  if (!p || !(p.instances ?? []).some((u) => lastSegment(u) === replica.name))
    return { note: 'not in the pool' };
  await c.mutate(`targetPools.removeInstance pool=${pool} instance=${replica.name}`, (requestId) =>
    c.c.targetPools.removeInstance({
      requestId,
      project: c.project,
      region,
      targetPool: pool,
      targetPoolsRemoveInstanceRequestResource: {
        instances: [{ instance: c.instanceUrl(replica.zone, replica.name) }],
      },
    }),
  );
  return {};
}
