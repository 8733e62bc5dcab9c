// etcd membership: a learner added, caught up and promoted; a member removed
// (leadership moved off it first), each change checked against quorum on a
// fresh look and sent to a member that answered just now.

import { peerURL } from '../../domain/ops/plan.js';
import { canRemoveVoter } from '../../domain/quorum.js';
import type { LiveMember, RunnerEtcd, Snapshot } from '../etcd-ops.js';
import {
  mayChange,
  memberFact,
  Permanent,
  peerFact,
  type RunContext,
  type RunnersFor,
  type RunOutcome,
  type StepOf,
  until,
} from './context.js';

/**
 * KubeadmControlPlane's rule at run time, on a fresh look: removing this
 * member must leave a healthy majority of the voters that remain.
 */
function assertRemovalSafe(etcd: RunnerEtcd, snap: Snapshot, m: LiveMember): void {
  if (m.isLearner) return;
  const voters = snap.members.filter((x) => !x.isLearner);
  const healthy = voters.filter((x) => snap.statuses.has(x.id)).length;
  const res = canRemoveVoter(voters.length, healthy, snap.statuses.has(m.id));
  if (!res.ok) {
    throw new Error(
      `removing ${m.id} from etcd ${etcd.cluster} now would leave ${res.healthyLeft} healthy of ${res.votersLeft} voters (${res.needed} needed): refused`,
    );
  }
}

/** Hands leadership to another healthy voter when `m` leads, and waits for the new leader. */
async function moveLeadershipOff(ctx: RunContext, etcd: RunnerEtcd, m: LiveMember): Promise<string | null> {
  const snap = await etcd.snapshot(true);
  if (snap.leader !== m.id) return null;
  const leaderEndpoint = snap.statuses.get(m.id)?.endpoint;
  if (!leaderEndpoint) return null;
  const target = etcd.pickHealthy(snap, (x) => x.id === m.id).member;
  mayChange(ctx);
  await etcd.moveLeader(target.id, leaderEndpoint);
  await until(ctx, 15_000, `etcd ${etcd.cluster} leadership moving to ${target.id}`, async () => {
    const s = await etcd.snapshot(true);
    return s.leader && s.leader !== m.id
      ? { value: s.leader }
      : { reason: `leader still ${s.leader ?? 'none'}` };
  });
  return target.id;
}

/** Removes a member (found by ID or peer URL) through another healthy member, leadership moved first. */
/**
 * etcd refuses membership changes for a few seconds after one (until every
 * voter has been connected for its 5 s health interval: "unhealthy cluster"),
 * and a promotion until the learner is in sync. Those refusals change nothing;
 * the attempt is made again, each time from a fresh look.
 */
const MEMBERSHIP_RETRY_MS = 20_000;
// Also network failures: each attempt first looks whether the last one took effect.
const TRANSIENT_ETCD =
  /unhealthy cluster|not enough started members|not in sync|not ready|leader changed|no leader|deadline|unavailable|ECONNREFUSED|endpoint answered/i;

async function retryingMembership<T>(ctx: RunContext, what: string, attempt: () => Promise<T>): Promise<T> {
  return until<T>(ctx, MEMBERSHIP_RETRY_MS, what, async () => {
    try {
      return { value: await attempt() };
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (TRANSIENT_ETCD.test(msg)) return { reason: msg };
      throw new Permanent(msg);
    }
  }).catch((err) => {
    throw err instanceof Permanent ? new Error(err.message) : err;
  });
}

async function removeMember(
  ctx: RunContext,
  etcd: RunnerEtcd,
  by: { id?: string | null; peerURLs?: string[] },
): Promise<string> {
  return retryingMembership(ctx, `etcd ${etcd.cluster} member remove`, async () => {
    const snap = await etcd.snapshot();
    const m = etcd.find(snap, by);
    if (!m) return 'not a member (already removed)';
    assertRemovalSafe(etcd, snap, m);
    const moved = await moveLeadershipOff(ctx, etcd, m);
    const fresh = moved ? await etcd.snapshot(true) : snap;
    const via = etcd.pickHealthy(fresh, (x) => x.id === m.id);
    mayChange(ctx);
    await etcd.remove(m.id, via.endpoint);
    return `removed ${m.id}${m.isLearner ? ' (learner)' : ''}${moved ? `, leadership moved to ${moved} first` : ''}`;
  });
}

function newMemberPeerURL(ctx: RunContext, step: StepOf<'etcd.add-learner'>): string {
  const host = step.args.host ?? ctx.facts.internalIP;
  if (!host)
    throw new Error(`no internal IP reserved for ${step.args.replica} (the reserve step has not run)`);
  return peerURL(step.args.peer, host);
}

/**
 * The learner's peer URL for its undo: the fact its run saved, else rebuilt as
 * the run builds it. A kill after etcd accepted the member but before the step
 * was journalled loses the fact; with peers by IP the address comes from the
 * reserve step's fact, journalled before (found by the plan simulator).
 */
function learnerPeerURL(ctx: RunContext, step: StepOf<'etcd.add-learner'>): string | null {
  const saved = ctx.facts[peerFact(step.args.cluster)];
  if (saved) return saved;
  const host = step.args.host ?? ctx.facts.internalIP ?? null;
  return host ? peerURL(step.args.peer, host) : null;
}

/** The member an add made (by ID, else peer URL): gone, it will not come back by waiting. */
function newMember(
  etcd: RunnerEtcd,
  snap: Snapshot,
  id: string | null,
  url: string | undefined,
  args: { cluster: string; replica: string },
): LiveMember {
  const m = etcd.find(snap, { id, peerURLs: url ? [url] : [] });
  if (!m) throw new Permanent(`the learner for ${args.replica} is not a member of etcd ${args.cluster}`);
  return m;
}

export const ETCD_MEMBER_RUNNERS: RunnersFor<
  'etcd.add-learner' | 'etcd.wait-caught-up' | 'etcd.promote' | 'etcd.move-leader' | 'etcd.remove-member'
> = {
  'etcd.add-learner': {
    async run(step, ctx) {
      const etcd = ctx.etcd[step.args.cluster];
      const url = newMemberPeerURL(ctx, step);
      ctx.facts[peerFact(step.args.cluster)] = url;
      return retryingMembership(ctx, `etcd ${step.args.cluster} member add`, async () => {
        const snap = await etcd.snapshot();
        const existing = etcd.find(snap, { peerURLs: [url] });
        if (existing) {
          ctx.facts[memberFact(step.args.cluster)] = existing.id;
          return { note: `already a member: ${existing.id}${existing.isLearner ? ' (learner)' : ''}` };
        }
        const via = etcd.pickHealthy(snap);
        mayChange(ctx);
        const m = await etcd.addLearner(url, via.endpoint);
        ctx.facts[memberFact(step.args.cluster)] = m.id;
        return { note: `learner ${m.id} ${url}` };
      });
    },
    async undo(step, ctx) {
      const etcd = ctx.etcd[step.args.cluster];
      const id = ctx.facts[memberFact(step.args.cluster)] ?? null;
      const url = learnerPeerURL(ctx, step);
      if (!id && !url) return { note: 'never added' };
      return { note: await removeMember(ctx, etcd, { id, peerURLs: url ? [url] : [] }) };
    },
    async absent(step, ctx) {
      const etcd = ctx.etcd[step.args.cluster];
      const url = learnerPeerURL(ctx, step);
      if (!url) return true;
      return etcd.find(await etcd.snapshot(true), { peerURLs: [url] }) === null;
    },
  },

  'etcd.wait-caught-up': {
    async run(step, ctx) {
      const etcd = ctx.etcd[step.args.cluster];
      const id = ctx.facts[memberFact(step.args.cluster)] ?? null;
      const url = ctx.facts[peerFact(step.args.cluster)];
      let goal: number | null = null;
      const started = Date.now();
      const result = await until(
        ctx,
        ctx.timing.catchUpTimeoutMs,
        `${step.args.replica} catching up in etcd ${step.args.cluster}`,
        async () => {
          const snap = await etcd.snapshot(true);
          const m = newMember(etcd, snap, id, url, step.args);
          if (!m.isLearner) return { value: 'already a voter' };
          const leader = snap.leader ? snap.statuses.get(snap.leader) : undefined;
          const own = snap.statuses.get(m.id);
          const secs = Math.round((Date.now() - started) / 1000);
          if (!m.name || !own) {
            ctx.progress(
              null,
              leader?.appliedIndex ?? null,
              `waiting for etcd on ${step.args.replica} to start (${secs} s)`,
            );
            return { reason: m.name ? 'its endpoint does not answer' : 'it has not started (no name yet)' };
          }
          if (!leader) return { reason: 'no leader visible' };
          // The goal is the leader's applied index when the learner first answers: it keeps moving.
          goal ??= leader.appliedIndex;
          ctx.progress(
            own.appliedIndex,
            leader.appliedIndex,
            `applied ${own.appliedIndex} of leader's ${leader.appliedIndex}`,
          );
          return own.appliedIndex >= goal
            ? { value: `caught up: applied ${own.appliedIndex} / leader ${leader.appliedIndex}` }
            : { reason: `applied ${own.appliedIndex} of ${goal}` };
        },
      );
      return { note: result };
    },
  },

  'etcd.promote': {
    async run(step, ctx) {
      const etcd = ctx.etcd[step.args.cluster];
      const id = ctx.facts[memberFact(step.args.cluster)] ?? null;
      const url = ctx.facts[peerFact(step.args.cluster)];
      let tries = 0;
      return await until<RunOutcome>(
        ctx,
        ctx.timing.catchUpTimeoutMs,
        `promoting ${step.args.replica} in etcd ${step.args.cluster}`,
        async () => {
          const snap = await etcd.snapshot(true);
          const m = newMember(etcd, snap, id, url, step.args);
          if (!m.isLearner) return { value: { note: tries ? `voter ${m.id}` : `already a voter (${m.id})` } };
          tries++;
          try {
            mayChange(ctx);
            await etcd.promote(m.id, etcd.pickHealthy(snap).endpoint);
            return { value: { note: `voter ${m.id}` } };
          } catch (err) {
            // "learner not in sync with leader": etcd wants it closer; try again shortly.
            const msg = err instanceof Error ? err.message : String(err);
            if (TRANSIENT_ETCD.test(msg)) return { reason: msg };
            throw new Permanent(msg);
          }
        },
      );
    },
  },

  'etcd.move-leader': {
    async run(step, ctx) {
      const etcd = ctx.etcd[step.args.cluster];
      const snap = await etcd.snapshot();
      const m = etcd.find(snap, { id: step.args.memberId });
      if (!m) return { note: 'not a member' };
      if (snap.leader !== m.id)
        return { note: `not the leader (leader is ${snap.leader ?? 'unknown'}): nothing to move` };
      const to = await moveLeadershipOff(ctx, etcd, m);
      return { note: `leader is now ${to}` };
    },
  },

  'etcd.remove-member': {
    async run(step, ctx) {
      const etcd = ctx.etcd[step.args.cluster];
      return {
        note: await removeMember(ctx, etcd, { id: step.args.memberId, peerURLs: step.args.peerURLs }),
      };
    },
    async absent(step, ctx) {
      const etcd = ctx.etcd[step.args.cluster];
      const snap = await etcd.snapshot(true);
      return etcd.find(snap, { id: step.args.memberId, peerURLs: step.args.peerURLs }) !== null;
    },
  },
};
