// The load balancer: health check, target pool and its members, forwarding
// rule, and the wait until the static IP answers through it.

import { lastSegment } from '../../domain/names.js';
import { compute, deleted, type RunContext, type RunnersFor, type RunOutcome, sleep } from './context.js';
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
      await c.insertHealthCheck({ name: a.name, port: a.port, path: a.path });
      return {};
    },
    async undo(step, ctx) {
      return deleted(await compute(ctx).deleteHealthCheck(step.args.name));
    },
    async absent(step, ctx) {
      return (await compute(ctx).getHealthCheck(step.args.name)) === null;
    },
  },

  'lb.create-target-pool': {
    async run(step, ctx) {
      const c = compute(ctx);
      const a = step.args;
      const existing = await c.getTargetPool(a.name);
      if (existing) {
        const have = new Set((existing.instances ?? []).map(lastSegment));
        for (const i of a.instances.filter((x) => !have.has(x.name))) {
          await c.addToPool(a.region, a.name, { zone: i.zone, name: i.name });
        }
        return { note: 'already exists' };
      }
      // New plans attach no health check, as kube-up; only an operation journalled before names one.
      await c.insertTargetPool({
        region: a.region,
        name: a.name,
        healthCheck: a.healthCheck ?? null,
        instances: a.instances,
      });
      return {};
    },
    async undo(step, ctx) {
      return deleted(await compute(ctx).deleteTargetPool(step.args.region, step.args.name));
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
      await c.insertForwardingRule({ region: a.region, name: a.name, ip, pool: a.pool });
      return {};
    },
    async undo(step, ctx) {
      return deleted(await compute(ctx).deleteForwardingRule(step.args.region, step.args.name));
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
      await c.addToPool(region, pool, { zone: replica.zone, name: replica.name });
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
      await c.addToPool(region, pool, { zone: replica.zone, name: replica.name });
      return {};
    },
  },

  'lb.delete-forwarding-rule': {
    async run(step, ctx) {
      return deleted(await compute(ctx).deleteForwardingRule(step.args.region, step.args.name));
    },
  },

  'lb.delete-target-pool': {
    async run(step, ctx) {
      const c = compute(ctx);
      // Which health check it used, for the next step: the pool is gone by then.
      const pool = await c.getTargetPool(step.args.name);
      if (pool) ctx.facts[POOL_CHECKS_FACT] = (pool.healthChecks ?? []).map(lastSegment).join(',');
      return deleted(await c.deleteTargetPool(step.args.region, step.args.name));
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
      return deleted(await c.deleteHealthCheck(step.args.name));
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
  await c.removeFromPool(region, pool, { zone: replica.zone, name: replica.name });
  return {};
}
