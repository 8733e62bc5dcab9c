// The waits that end an operation: the new replica's apiserver healthy, and
// the whole cluster looking as the plan said it would.

import type { ClusterStatus } from '../../domain/types.js';
import { ETCD_CLUSTERS } from '../../domain/types.js';
import { type RunnersFor, until } from './context.js';

export const VERIFY_RUNNERS: RunnersFor<'apiserver.wait-healthy' | 'verify'> = {
  'apiserver.wait-healthy': {
    async run(step, ctx) {
      const probe = ctx.apiserverProbe;
      const host = ctx.facts.instanceIP;
      if (!probe || !host) return { skipped: true, note: 'no apiserver health endpoint to ask: skipped' };
      // Where no replica runs an apiserver (a bare etcd lab) there is nothing to wait for.
      const others = (await ctx.observe()).replicas
        .filter((r) => r.name !== step.args.replica && r.vm.internalIP)
        .map((r) => r.vm.internalIP as string);
      const answers = await Promise.all(others.map((h) => probe(h)));
      if (!answers.some((a) => a.answered)) {
        return {
          skipped: true,
          note: `no kube-apiserver answers on the other replicas (${answers[0]?.error ?? 'none'}): skipped`,
        };
      }
      await until(
        ctx,
        ctx.timing.runningTimeoutMs,
        `${step.args.replica}'s apiserver at ${host}`,
        async () => {
          const p = await probe(host);
          return p.healthy ? { value: true } : { reason: p.error ?? 'not healthy' };
        },
      );
      return { note: `https://${host}/healthz ok` };
    },
  },

  verify: {
    async run(step, ctx) {
      const want = new Set(step.args.replicas);
      const result = await until(ctx, ctx.timing.verifyTimeoutMs, 'verification', async () => {
        const s = await ctx.observe();
        const problems = verifyProblems(s, want, step.args.loadBalancer);
        return problems.length ? { reason: problems.join('; ') } : { value: `${want.size} replicas healthy` };
      });
      return { note: result };
    },
  },
};

/** What is still wrong with the result: empty when every expectation holds. */
export function verifyProblems(s: ClusterStatus, want: Set<string>, loadBalancer: boolean): string[] {
  const out: string[] = [];
  const have = new Set(s.replicas.map((r) => r.name));
  for (const n of want) if (!have.has(n)) out.push(`${n} missing`);
  for (const r of s.replicas) {
    if (!want.has(r.name)) {
      out.push(`${r.name} still present`);
      continue;
    }
    if (r.vm.status !== 'RUNNING') out.push(`${r.name} VM ${r.vm.status}`);
    for (const c of ETCD_CLUSTERS) {
      const m = r.etcd[c];
      if (!m) out.push(`${r.name} not in etcd ${c}`);
      else if (m.learner) out.push(`${r.name} still a learner in etcd ${c}`);
      else if (!m.healthy) out.push(`${r.name} unhealthy in etcd ${c}`);
    }
  }
  if (loadBalancer) {
    if (!s.loadBalancer) out.push('no forwarding rule');
    else {
      const pool = new Set(s.loadBalancer.instances);
      for (const n of want) if (!pool.has(n)) out.push(`${n} not in the target pool`);
      for (const n of pool) if (!want.has(n)) out.push(`${n} still in the target pool`);
    }
  } else {
    if (s.loadBalancer) out.push('the forwarding rule still exists');
    const only = [...want][0];
    if (s.apiserverIP && s.apiserverIP.attachedTo !== only) {
      out.push(`the static IP is on ${s.apiserverIP.attachedTo ?? 'nothing'}, not ${only}`);
    }
  }
  return out;
}
