// The remedies' runners (kube-ha reset | start): the VM's lifecycle call,
// waited for until RUNNING, then the replica's own members answering again
// under the same IDs. Nothing to undo: a reset cannot be undone, and need
// not be; a started VM is where the operator wanted it.
import type { PreflightContext } from '../../domain/ops/preflight.js';
import { resetKeepsQuorum } from '../../domain/ops/preflight-remedy.js';
import { replicaHealthy } from '../../domain/ops/resolve.js';
import type { EtcdClusterName } from '../../domain/types.js';
import type { ComputeInstance } from '../compute-ops.js';
import { compute, Permanent, type RunContext, type RunnersFor, until } from './context.js';
import { nic0 } from './static-ip.js';

const NO_CONTEXT: PreflightContext = { zonesInRegion: null, lock: null, unfinished: null };

/** Waits until the VM is RUNNING; its internal IP becomes the fact the apiserver wait asks. */
async function waitRunning(ctx: RunContext, zone: string, name: string): Promise<string> {
  const c = compute(ctx);
  const running = await until<ComputeInstance>(
    ctx,
    ctx.timing.runningTimeoutMs,
    `VM ${name} RUNNING`,
    async () => {
      const i = await c.getInstance(zone, name);
      if (!i) throw new Permanent(`VM ${name} is gone`);
      return i.status === 'RUNNING' ? { value: i } : { reason: `status ${i.status}` };
    },
  );
  const ip = nic0(running)?.networkIP;
  if (ip) {
    ctx.facts.instanceIP = ip;
    for (const e of Object.values(ctx.etcd)) e.learnHost(name, ip);
  }
  return `RUNNING at ${ip ?? '?'}`;
}

export const REMEDY_RUNNERS: RunnersFor<'instance.reset' | 'instance.start' | 'etcd.wait-member-healthy'> = {
  'instance.reset': {
    async run(step, ctx) {
      const { zone, name } = step.args;
      const c = compute(ctx);
      const inst = await c.getInstance(zone, name);
      if (!inst) throw new Error(`VM ${name} not found in ${zone}`);
      if (inst.status !== 'RUNNING')
        throw new Error(`VM ${name} is ${inst.status}: a reset needs it RUNNING (kube-ha start)`);
      // A fresh look first: this step runs again on a resume, maybe after the member came back.
      const now = await ctx.observe();
      const r = now.replicas.find((x) => x.name === name);
      if (r && !step.args.force && replicaHealthy(r))
        return { skipped: true, note: 'healthy now: not reset' };
      const request = { kind: 'reset' as const, replica: name, force: step.args.force };
      const quorum = resetKeepsQuorum(now, request, NO_CONTEXT);
      if (!quorum.ok) throw new Permanent(quorum.reason);
      // Sent again on a resume: the request ID kept in the journal makes GCE answer with the first reset.
      await c.resetInstance(zone, name);
      return { note: `reset; ${await waitRunning(ctx, zone, name)}` };
    },
  },

  'instance.start': {
    async run(step, ctx) {
      const { zone, name } = step.args;
      const c = compute(ctx);
      const inst = await c.getInstance(zone, name);
      if (!inst) throw new Error(`VM ${name} not found in ${zone}`);
      let note = 'started';
      // A resumed start whose call went through finds it on its way up: nothing to send again.
      if (inst.status === 'RUNNING' || inst.status === 'PROVISIONING' || inst.status === 'STAGING')
        note = `already ${inst.status}`;
      else await c.startInstance(zone, name);
      return { note: `${note}; ${await waitRunning(ctx, zone, name)}` };
    },
  },

  'etcd.wait-member-healthy': {
    async run(step, ctx) {
      const { cluster, replica, memberId, until: want } = step.args;
      const started = Date.now();
      const label = want === 'healthy' ? 'healthy' : 'answering';
      const seen = await until(
        ctx,
        ctx.timing.catchUpTimeoutMs,
        `${replica}'s etcd ${cluster} member ${memberId} ${label}`,
        async () => {
          const r = (await ctx.observe()).replicas.find((x) => x.name === replica);
          const m = r?.etcd[cluster as EtcdClusterName] ?? null;
          const secs = Math.round((Date.now() - started) / 1000);
          const now = m ? `${m.state}${m.error ? ` (${m.error})` : ''}` : 'no member seen';
          ctx.progress(secs, null, `${replica} etcd ${cluster}: ${now} after ${secs} s`);
          if (!m)
            return {
              reason: `no etcd ${cluster} member of ${replica} seen (VM ${r?.vm.status ?? 'not seen'})`,
            };
          // A different ID is a different member: the one this reset was for is gone.
          if (m.memberId !== memberId)
            throw new Permanent(`${replica} is now member ${m.memberId} of etcd ${cluster}, not ${memberId}`);
          const ok = want === 'healthy' ? m.healthy && !m.learner : m.state !== 'unreachable';
          return ok ? { value: m.state } : { reason: `member ${memberId} is ${now}` };
        },
      );
      return { note: `member ${memberId} ${seen} after ${Math.round((Date.now() - started) / 1000)} s` };
    },
  },
};
