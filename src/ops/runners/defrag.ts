// The steps of `kube-ha defrag` (src/domain/ops/plan-defrag.ts): compact to
// the current revision, defragment one member (checked first: the others hold
// a quorum, leadership off it; checked after: it answers again, a write
// commits, the leader leases still renew), disarm NOSPACE, verify. None has
// an undo: compaction and defragmentation change no data. A failed check
// stops the operation, leaving the members not yet done for a resume.

import { formatBytes } from '../../domain/format.js';
import { chooseRecord, leaseView } from '../../domain/leases/view.js';
import { COMPACT_DEADLINE_MS, DEFRAG_DEADLINE_MS, sizeFact } from '../../domain/ops/plan-defrag.js';
import type { EtcdClusterName } from '../../domain/types.js';
import { DEFAULT_ETCD_PREFIX, readLeaderRecords } from '../../sources/leases.js';
import type { EndpointStatus, EtcdOps, RunnerEtcd, Snapshot } from '../etcd-ops.js';
import { mayChange, type RunContext, type RunnersFor, until } from './context.js';

/** The etcd calls these steps make beyond the membership ones (EtcdOps has them; the unit-test fake does not). */
type DefragEtcd = RunnerEtcd &
  Pick<
    EtcdOps,
    'client' | 'endpointStatus' | 'compact' | 'defragment' | 'alarmList' | 'disarmNoSpace' | 'canaryWrite'
  >;

function defragEtcd(e: RunnerEtcd): DefragEtcd {
  const d = e as Partial<DefragEtcd>;
  if (typeof d.defragment !== 'function' || typeof d.endpointStatus !== 'function')
    throw new Error(`etcd ${e.cluster}: this client has no maintenance calls`);
  return e as DefragEtcd;
}

/** How long a defragmented member may take to answer again with a leader. */
const BACK_HEALTHY_MS = 60_000;
/** How long a leader's hand-over may take. */
const MOVE_LEADER_MS = 15_000;
/** A lease renewed before the defragmentation must be renewed again within its duration (kube's default 15 s). */
const DEFAULT_LEASE_SECONDS = 15;

const doneFact = (c: EtcdClusterName) => `defrag.done.${c}`;
const NOSPACE_RE = /NOSPACE|database space exceeded|space exceeded/i;

function doneIds(ctx: RunContext, c: EtcdClusterName): Set<string> {
  return new Set((ctx.facts[doneFact(c)] ?? '').split(',').filter(Boolean));
}

async function hasNoSpace(etcd: DefragEtcd, via: string): Promise<boolean> {
  return (await etcd.alarmList(via)).some((a) => a.alarm === 'NOSPACE');
}

/**
 * Hands leadership from `leaderId` to a healthy voter, one already
 * defragmented when there is one, and waits until another member leads.
 */
async function moveLeaderOff(
  ctx: RunContext,
  etcd: DefragEtcd,
  snap: Snapshot,
  leaderId: string,
): Promise<string> {
  const done = doneIds(ctx, etcd.cluster);
  const candidates = snap.members.filter((x) => !x.isLearner && x.id !== leaderId && snap.statuses.has(x.id));
  const target = candidates.find((x) => done.has(x.id)) ?? candidates[0];
  const from = snap.statuses.get(leaderId)?.endpoint;
  if (!target || !from) throw new Error(`etcd ${etcd.cluster}: no healthy voter to hand leadership to`);
  mayChange(ctx);
  await etcd.moveLeader(target.id, from);
  return until<string>(
    ctx,
    MOVE_LEADER_MS,
    `etcd ${etcd.cluster} leadership moving to ${target.id}`,
    async () => {
      const s = await etcd.snapshot(true);
      return s.leader && s.leader !== leaderId
        ? { value: s.leader }
        : { reason: `leader still ${s.leader ?? 'none'}` };
    },
  );
}

interface LeaseMark {
  name: string;
  modRevision: string;
  durationSeconds: number;
}

/** The leader leases renewing now (held, judged by the clock rule), read through `via`. */
async function renewingLeases(etcd: DefragEtcd, via: string): Promise<LeaseMark[]> {
  const comps = await readLeaderRecords(await etcd.client(via), DEFAULT_ETCD_PREFIX);
  const now = Date.now();
  const out: LeaseMark[] = [];
  for (const c of comps) {
    const v = leaseView(c, { knownReplicas: [], now });
    const rec = chooseRecord(c);
    if (v.state === 'held' && rec)
      out.push({
        name: c.component,
        modRevision: rec.modRevision,
        durationSeconds: v.leaseDurationSeconds ?? DEFAULT_LEASE_SECONDS,
      });
  }
  return out;
}

/**
 * Each lease that was renewing before is renewed again (its record written
 * since) within its duration: its holder still writes through the cluster.
 */
async function leasesStillRenew(
  ctx: RunContext,
  etcd: DefragEtcd,
  marks: LeaseMark[],
  via: () => Promise<string>,
) {
  if (!marks.length) return 'no leader lease was renewing before';
  const longest = Math.max(...marks.map((m) => m.durationSeconds));
  await until(ctx, longest * 1000, 'the leader leases renewing', async () => {
    const comps = await readLeaderRecords(await etcd.client(await via()), DEFAULT_ETCD_PREFIX);
    const stale = marks.filter((m) => {
      const rec = chooseRecord(
        comps.find((c) => c.component === m.name) ?? {
          component: m.name,
          lease: null,
          endpoints: null,
          configmap: null,
        },
      );
      return !rec || BigInt(rec.modRevision) <= BigInt(m.modRevision);
    });
    return stale.length
      ? { reason: `not renewed since: ${stale.map((m) => m.name).join(', ')} (stale)` }
      : { value: true };
  });
  return `${marks.map((m) => m.name).join(', ')} renewed`;
}

export const DEFRAG_RUNNERS: RunnersFor<
  'etcd.compact' | 'etcd.defrag' | 'etcd.disarm' | 'etcd.verify-space'
> = {
  'etcd.compact': {
    async run(step, ctx) {
      const etcd = defragEtcd(ctx.etcd[step.args.cluster]);
      const via = etcd.pickHealthy(await etcd.snapshot(true)).endpoint;
      const { revision } = await etcd.endpointStatus(via);
      mayChange(ctx);
      try {
        await etcd.compact(revision, via, COMPACT_DEADLINE_MS);
      } catch (err) {
        // A resumed run, or kube-apiserver's own compaction got there first: the history is gone already.
        const msg = err instanceof Error ? err.message : String(err);
        if (/required revision has been compacted/.test(msg))
          return { note: `already compacted up to revision ${revision}` };
        throw err;
      }
      ctx.facts[`defrag.compacted.${step.args.cluster}`] = revision;
      return { note: `compacted to revision ${revision}` };
    },
  },

  'etcd.defrag': {
    async run(step, ctx) {
      const { cluster, replica, memberId } = step.args;
      const etcd = defragEtcd(ctx.etcd[cluster]);
      let snap = await etcd.snapshot(true);
      const m = etcd.find(snap, { id: memberId });
      if (!m) throw new Error(`${replica}'s member ${memberId} is no longer in etcd ${cluster}: plan again`);
      if (!snap.statuses.has(m.id))
        throw new Error(
          `${replica}'s etcd ${cluster} member does not answer: not defragmented (repair it, then kube-ha operation resume)`,
        );
      const voters = snap.members.filter((x) => !x.isLearner);
      const others = voters.filter((x) => x.id !== m.id);
      const healthyOthers = others.filter((x) => snap.statuses.has(x.id)).length;
      const quorum = Math.floor(voters.length / 2) + 1;
      // With 3+ voters the others must hold a quorum on their own; with 1 or 2 none can, so every other one must answer.
      const enough = voters.length >= 3 ? healthyOthers >= quorum : healthyOthers === others.length;
      if (!enough)
        throw new Error(
          `only ${healthyOthers} of the ${others.length} other voters of etcd ${cluster} answer (${quorum} needed without ${replica}): not defragmenting it while the cluster depends on it; repair them, then kube-ha operation resume`,
        );
      const notes: string[] = [];
      if (snap.leader === m.id && voters.length > 1) {
        const to = await moveLeaderOff(ctx, etcd, snap, m.id);
        notes.push(`leadership moved to ${to} first`);
        snap = await etcd.snapshot(true);
      }
      const endpoint = snap.statuses.get(m.id)?.endpoint;
      if (!endpoint) throw new Error(`${replica}'s etcd ${cluster} member stopped answering`);
      // Another member to read and write through while this one is busy.
      const elsewhere = async () => {
        const s = await etcd.snapshot(true);
        return etcd.pickHealthy(s, (x) => x.id === m.id && s.members.length > 1).endpoint;
      };
      const noSpace = await hasNoSpace(etcd, endpoint);
      // In NOSPACE no lease can renew (every put is refused): the canary write is the check then.
      const marks = cluster === 'main' && !noSpace ? await renewingLeases(etcd, await elsewhere()) : [];
      const before: EndpointStatus = await etcd.endpointStatus(endpoint);
      ctx.progress(
        null,
        null,
        `defragmenting ${replica} (${formatBytes(before.dbSize)}; up to ${DEFRAG_DEADLINE_MS / 60_000} min)`,
      );
      mayChange(ctx);
      await etcd.defragment(endpoint, DEFRAG_DEADLINE_MS);
      const after = await until<EndpointStatus>(
        ctx,
        BACK_HEALTHY_MS,
        `${replica}'s etcd ${cluster} member answering again`,
        async () => {
          const s = await etcd.endpointStatus(endpoint);
          return s.leaderId !== '0' ? { value: s } : { reason: 'it sees no leader' };
        },
      );
      ctx.facts[sizeFact(cluster, replica)] = `${before.dbSize}->${after.dbSize}`;
      ctx.facts[doneFact(cluster)] = [...doneIds(ctx, cluster), m.id].join(',');
      // Writes commit through it and through the leader (a canary: see EtcdOps.canaryWrite).
      const fresh = await etcd.snapshot(true);
      const leaderEp = fresh.leader ? fresh.statuses.get(fresh.leader)?.endpoint : undefined;
      const via = [...new Set([endpoint, ...(leaderEp ? [leaderEp] : [])])];
      const ms = [];
      for (const v of via) ms.push(await etcd.canaryWrite(v));
      notes.push(
        `${formatBytes(before.dbSize)} → ${formatBytes(after.dbSize)}`,
        `a write committed through it in ${ms[0]} ms`,
      );
      if (marks.length) notes.push(await leasesStillRenew(ctx, etcd, marks, elsewhere));
      else if (cluster === 'main')
        notes.push(
          noSpace ? 'leases not checked (NOSPACE: nothing can renew)' : 'no leader lease was renewing before',
        );
      return { note: notes.join('; ') };
    },
  },

  'etcd.disarm': {
    async run(step, ctx) {
      const etcd = defragEtcd(ctx.etcd[step.args.cluster]);
      const via = etcd.pickHealthy(await etcd.snapshot(true)).endpoint;
      const alarms = await etcd.alarmList(via);
      const nospace = alarms.filter((a) => a.alarm === 'NOSPACE');
      const other = alarms.filter((a) => a.alarm !== 'NOSPACE');
      mayChange(ctx);
      for (const a of nospace) await etcd.disarmNoSpace(a.memberId, via);
      // Writes are accepted again: a put and a delete of the canary key (a member still over its quota would raise NOSPACE again).
      const client = await etcd.client(via);
      try {
        await client.put('/kube-ha/defrag-canary').value('ok');
        await client.delete().key('/kube-ha/defrag-canary');
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        if (NOSPACE_RE.test(msg))
          throw new Error(
            `etcd ${step.args.cluster} refuses writes again after the disarm (${msg}): a member is still over its quota`,
          );
        throw err;
      }
      const parts = [
        nospace.length
          ? `disarmed NOSPACE of ${nospace.map((a) => a.memberId).join(', ')}`
          : 'no NOSPACE alarm to disarm',
        'a write is accepted',
        ...(other.length
          ? [
              `left: ${other.map((a) => `${a.alarm} of ${a.memberId}`).join(', ')} (a defragmentation does not cure it)`,
            ]
          : []),
      ];
      return { note: parts.join('; ') };
    },
  },

  'etcd.verify-space': {
    async run(step, ctx) {
      const { cluster, replicas } = step.args;
      const etcd = defragEtcd(ctx.etcd[cluster]);
      const note = await until<string>(
        ctx,
        ctx.timing.verifyTimeoutMs,
        `etcd ${cluster} verification`,
        async () => {
          const snap = await etcd.snapshot(true);
          if (!snap.leader) return { reason: 'no leader' };
          const voters = snap.members.filter((x) => !x.isLearner);
          const down = voters.filter((x) => !snap.statuses.has(x.id));
          if (down.length) return { reason: `not answering: ${down.map((x) => x.name || x.id).join(', ')}` };
          const via = etcd.pickHealthy(snap).endpoint;
          const alarms = await etcd.alarmList(via);
          if (alarms.length)
            return { reason: `alarms: ${alarms.map((a) => `${a.alarm} of ${a.memberId}`).join(', ')}` };
          return { value: `${voters.length} healthy voters, no alarm` };
        },
      );
      const sizes = replicas
        .map((r) => {
          const v = /^(\d+)->(\d+)$/.exec(ctx.facts[sizeFact(cluster, r)] ?? '');
          return v ? `${r} ${formatBytes(Number(v[1]))} → ${formatBytes(Number(v[2]))}` : null;
        })
        .filter(Boolean);
      return { note: `${note}${sizes.length ? `; database sizes: ${sizes.join(', ')}` : ''}` };
    },
  },
};
