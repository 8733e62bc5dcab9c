// Runs `kube-ha recover`'s rebuild (src/domain/ops/recover-plan.ts) as a
// small resumable journal of its own in the state dir (recover/<target>/<id>.json):
// each step is recorded done with its facts (the snapshot's file and revision,
// the replica added in a zone) as it finishes, so a re-run continues where the
// last one stopped: after the operator ran the printed on-VM steps on GCE, or
// after a failure. The snapshot, restore and verify steps hold the local lock
// (no etcd cluster has quorum to hold one); the removes and adds are ordinary
// operations, each with its own plan, checks, lock and journal.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatSeconds } from '../domain/format.js';
import type { RecoverPlan, RecoverStep } from '../domain/ops/recover-plan.js';
import type { OpRequest } from '../domain/ops/request.js';
import type { EtcdClusterName } from '../domain/types.js';
import { pruneSnapshots, writeSnapshotRecord } from './etcd-snapshot.js';
import type { OpEvent, OpResult } from './events.js';
import { executePlan } from './executor.js';
import { targetKey } from './journal-store.js';
import { acquireLocalLock } from './local-lock.js';
import type { OpsSession } from './session.js';

export interface RecoverJournal {
  plan: RecoverPlan;
  /** Step id -> when it finished and what it learnt. */
  done: Record<string, { at: string; facts: Record<string, string> }>;
  finishedAt: string | null;
  /** Restore steps whose on-VM commands were printed for the operator (GCE). */
  printed?: Record<string, string>;
}

/** Runs a restore's on-VM steps (the lab), or prints them for the operator (GCE) and says so. */
export interface OnVm {
  restore(
    step: Extract<RecoverStep, { kind: 'restore' }>,
    snapshotFile: string,
  ): Promise<{ ran: true; setAside: string | null } | { ran: false; commands: string[] }>;
}

export class RecoverJournals {
  constructor(readonly dir: string) {}

  static forTarget(session: Pick<OpsSession, 'target'>): RecoverJournals {
    return new RecoverJournals(join(session.target.stateDir, 'recover', targetKey(session.target)));
  }

  /** The newest unfinished rebuild, if any. */
  unfinished(): RecoverJournal | null {
    if (!existsSync(this.dir)) return null;
    const all = readdirSync(this.dir)
      .filter((n) => n.endsWith('.json'))
      .sort()
      .map((n) => JSON.parse(readFileSync(join(this.dir, n), 'utf8')) as RecoverJournal);
    return all.filter((j) => !j.finishedAt).at(-1) ?? null;
  }

  write(j: RecoverJournal): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = join(this.dir, `${j.plan.id}.json`);
    writeFileSync(`${file}.part`, `${JSON.stringify(j, null, 2)}\n`, { mode: 0o600 });
    renameSync(`${file}.part`, file);
  }
}

export type RecoverOutcome =
  | { outcome: 'done'; journal: RecoverJournal }
  | { outcome: 'manual'; journal: RecoverJournal; step: string; commands: string[] }
  | { outcome: 'failed'; journal: RecoverJournal; step: string; reason: string };

export interface RecoverRunOptions {
  onVm: OnVm;
  log: (line: string) => void;
  onEvent: (e: OpEvent) => void;
  signal?: AbortSignal;
  /** How long the restored member may take to lead itself with the snapshot's data. */
  verifyTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The chosen member's endpoint in `cluster`, from a fresh look. */
async function endpointOf(session: OpsSession, replica: string, cluster: EtcdClusterName): Promise<string> {
  const status = await session.status();
  const m = status.replicas.find((r) => r.name === replica)?.etcd[cluster];
  if (!m?.endpoint) throw new Error(`${replica}'s etcd ${cluster} member has no endpoint that answers`);
  return m.endpoint;
}

async function runOperation(
  session: OpsSession,
  request: OpRequest,
  o: RecoverRunOptions,
  skipVerify = false,
): Promise<OpResult> {
  const { planned } = await session.plan(request);
  if (!planned.ok || !planned.plan)
    throw new Error(`${request.kind} refused: ${planned.refusals.join('; ')}`);
  let plan = planned.plan;
  if (skipVerify) {
    // A memberless replica's removal cannot pass the whole-cluster check while the
    // others are still memberless: the adds that follow verify the whole cluster.
    const steps = plan.steps.filter((x) => x.kind !== 'verify').map((x) => ({ ...x }));
    const last = steps.at(-1);
    if (last) last.checkpoint = true;
    plan = { ...plan, steps };
  }
  const result = await executePlan(plan, session.deps, {
    onEvent: o.onEvent,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  if (result.outcome !== 'done')
    throw new Error(`${result.summary}: ${result.outcome} (${result.reasons.join('; ')})`);
  return result;
}

async function runStep(
  session: OpsSession,
  j: RecoverJournal,
  step: RecoverStep,
  o: RecoverRunOptions,
): Promise<Record<string, string> | { manual: string[] }> {
  const plan = j.plan;
  if (step.kind === 'snapshot') {
    const ep = await endpointOf(session, plan.from, step.cluster);
    const dir = session.deps.snapshotDir ?? join(session.target.stateDir, 'snapshots');
    const stamp = new Date().toISOString().replace(/[:.]/g, '').replace('T', '-').slice(0, 15);
    const saved = await session.deps.etcd[step.cluster].saveSnapshot(
      join(dir, `${plan.id}-${stamp}-${step.cluster}.db`),
      ep,
      { deadlineMs: 15 * 60_000, idleMs: 30_000, signal: o.signal },
    );
    writeSnapshotRecord(saved, { cluster: step.cluster, from: ep, operationId: plan.id });
    pruneSnapshots(dir);
    return { file: saved.path, revision: saved.revision, sha256: saved.sha256 };
  }
  if (step.kind === 'restore') {
    const file = j.done[`snapshot.${step.cluster}`]?.facts.file;
    if (!file) throw new Error(`no snapshot of etcd ${step.cluster} recorded`);
    // Printed last time (GCE): the operator ran them; the verify step that follows tells.
    if (j.printed?.[step.id]) return { by: 'the operator (printed on-VM steps)' };
    const r = await o.onVm.restore(step, file);
    if (!r.ran) return { manual: r.commands };
    return { setAside: r.setAside ?? '' };
  }
  if (step.kind === 'verify') {
    const want = BigInt(j.done[`snapshot.${step.cluster}`]?.facts.revision ?? '0');
    const etcd = session.deps.etcd[step.cluster];
    const until = Date.now() + (o.verifyTimeoutMs ?? 60_000);
    let last = 'no answer yet';
    for (;;) {
      if (o.signal?.aborted) throw new Error('cancelled');
      try {
        const ep = await endpointOf(session, plan.from, step.cluster);
        const s = await etcd.endpointStatus(ep);
        const members = await etcd.members(true);
        if (s.leaderId !== s.memberId)
          last = `${plan.from}'s member does not lead itself (leader ${s.leaderId})`;
        else if (members.length !== 1) last = `${members.length} members, 1 expected`;
        else if (BigInt(s.revision) < want) last = `revision ${s.revision}, below the snapshot's ${want}`;
        else return { memberId: s.memberId, revision: s.revision };
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > until) throw new Error(`etcd ${step.cluster} not verified: ${last}`);
      await sleep(1000);
    }
  }
  if (step.kind === 'remove') {
    const status = await session.status();
    if (!status.replicas.some((r) => r.name === step.replica)) return { note: 'already gone' };
    await runOperation(
      session,
      { kind: 'remove', replica: step.replica, zone: null, keepDisk: true },
      o,
      true,
    );
    return {};
  }
  // add: a replica in the zone, unless a healthy one other than the chosen one is there already (a re-run).
  const status = await session.status();
  const there = status.replicas.find(
    (r) =>
      r.zone === step.zone &&
      r.name !== plan.from &&
      r.name !== step.replaces &&
      plan.clusters.every((c) => r.etcd[c]?.healthy),
  );
  if (there) return { replica: there.name, note: 'already there' };
  const before = new Set(status.replicas.map((r) => r.name));
  await runOperation(session, { kind: 'add', zone: step.zone, name: null }, o);
  const after = await session.status();
  return { replica: after.replicas.find((r) => !before.has(r.name))?.name ?? '?' };
}

/** Runs (or continues) a rebuild; each finished step is written before the next starts. */
export async function runRecover(
  session: OpsSession,
  journals: RecoverJournals,
  j: RecoverJournal,
  o: RecoverRunOptions,
): Promise<RecoverOutcome> {
  journals.write(j);
  let lock: { release(): Promise<void> | void } | null = null;
  const release = async () => {
    await lock?.release();
    lock = null;
  };
  try {
    for (const step of j.plan.steps) {
      if (j.done[step.id]) continue;
      const rebuilding = step.kind === 'snapshot' || step.kind === 'restore' || step.kind === 'verify';
      if (rebuilding && !lock) {
        const attempt = acquireLocalLock(
          session.deps.store.dir,
          {
            operationId: j.plan.id,
            kind: 'recover',
            summary: `recover from ${j.plan.from}`,
            holder: session.deps.holder,
            since: new Date().toISOString(),
          },
          o.log,
        );
        if (!attempt.ok)
          return {
            outcome: 'failed',
            journal: j,
            step: step.id,
            reason: `another kube-ha holds the local lock: ${attempt.holder.summary} (${attempt.holder.holder.user}@${attempt.holder.holder.host} pid ${attempt.holder.holder.pid})`,
          };
        lock = attempt.lock;
      }
      // The removes and adds take etcd main's lock themselves.
      if (!rebuilding) await release();
      o.log(`▶ ${step.title}`);
      const started = Date.now();
      let facts: Record<string, string> | { manual: string[] };
      try {
        facts = await runStep(session, j, step, o);
      } catch (e) {
        // The printed on-VM steps were not (all) run: print them again next time.
        const restore = `restore.${step.kind === 'verify' ? step.cluster : ''}`;
        if (step.kind === 'verify' && j.printed?.[restore] && j.done[restore]) {
          delete j.done[restore];
          delete j.printed[restore];
          journals.write(j);
        }
        o.log(
          `✗ ${step.id} failed in ${((Date.now() - started) / 1000).toFixed(1)} s: ${(e as Error).message}`,
        );
        return { outcome: 'failed', journal: j, step: step.id, reason: (e as Error).message };
      }
      if ('manual' in facts && Array.isArray(facts.manual)) {
        j.printed = { ...j.printed, [step.id]: new Date().toISOString() };
        journals.write(j);
        return { outcome: 'manual', journal: j, step: step.id, commands: facts.manual };
      }
      j.done[step.id] = { at: new Date().toISOString(), facts: facts as Record<string, string> };
      journals.write(j);
      o.log(`✓ ${step.id} in ${formatSeconds(Date.now() - started)}`);
    }
    j.finishedAt = new Date().toISOString();
    journals.write(j);
    return { outcome: 'done', journal: j };
  } finally {
    await release();
  }
}
