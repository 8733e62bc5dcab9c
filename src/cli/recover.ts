// `kube-ha recover`: the guided way back from etcd quorum loss (issue 16 item 4).
// Diagnoses first (src/domain/ops/recover.ts): refused while the clusters have
// quorum; TRANSIENT loss is undone by `kube-ha start` / `reset` of the members'
// VMs, one at a time, each its own operation; PERMANENT loss (--from R) is
// rebuilt from R's member (src/domain/ops/recover-plan.ts, src/ops/recover.ts),
// resumable by running `kube-ha recover` again.
import { GCE_NAME } from '../domain/names.js';
import { diagnoseRecovery, type RecoverDiagnosis, renderDiagnosis } from '../domain/ops/recover.js';
import { buildRecoverPlan, type RecoverStep, restoreCommands } from '../domain/ops/recover-plan.js';
import { ETCD_CLUSTERS, type EtcdClusterName } from '../domain/types.js';
import { executePlan } from '../ops/executor.js';
import { type OnVm, type RecoverJournal, RecoverJournals, runRecover } from '../ops/recover.js';
import type { OpsSession } from '../ops/session.js';
import { noArguments, targetSession } from './command.js';
import { progressPrinter, renderResult } from './ops-output.js';
import { ask } from './prompt.js';
import { TARGET_OPTIONS } from './target-flags.js';
import { EXIT, parseFlags, UsageError } from './usage.js';

export const RECOVER_HELP = `kube-ha recover [target] [--cluster main|events|both] [--from REPLICA] [--dry-run] [--yes|--confirm TOKEN] [--json]
  etcd has lost quorum: diagnose, then bring it back.
  TRANSIENT (members whose VMs are stopped or hung, with their data): kube-ha start | reset
    of each, one replica at a time, each waited for (confirm: --yes or --confirm recover).
  PERMANENT (data gone; --from names the surviving replica to rebuild from): a verified
    snapshot of its member, a one-member cluster restored from it on its VM (on GCE the
    on-VM steps are printed for gcloud compute ssh: run them, then run kube-ha recover
    again), verified, then the other replicas removed (their disks kept) and added back
    in their zones, one at a time (confirm: --yes or --confirm REPLICA).
  Without --from, a loss that starts and resets cannot undo is refused with the
  survivors, their revisions and what rebuilding from each would lose.
Exit codes: 0 done (or dry run), 3 refused (nothing to recover, or choose --from), 2 bad usage or
  not confirmed, 5 on-VM steps printed (run them, then recover again), 1 failed (run recover again).
`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  cluster: { type: 'string' },
  from: { type: 'string' },
  json: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  confirm: { type: 'string' },
  'verify-timeout': { type: 'string' },
} as const;

function clustersOf(v: string | undefined): EtcdClusterName[] {
  if (v === undefined || v === 'both') return [...ETCD_CLUSTERS];
  if (v === 'main' || v === 'events') return [v];
  throw new UsageError(`--cluster: '${v}' is not main, events or both`);
}

/** --yes, --confirm TOKEN, or the token typed. */
async function confirmed(token: string, values: { yes?: boolean; confirm?: string }): Promise<boolean> {
  if (values.yes === true) return true;
  if (values.confirm !== undefined) return values.confirm === token;
  const answer = await ask(`Type ${token} to go on, or anything else to cancel: `);
  return answer?.trim() === token;
}

/** Each answering member's revision (its Status header), for the survivors' comparison. */
async function revisionsOf(session: OpsSession, clusters: EtcdClusterName[]) {
  const status = await session.status();
  const out: Partial<Record<EtcdClusterName, Record<string, string>>> = {};
  for (const c of clusters) {
    const per: Record<string, string> = {};
    await Promise.all(
      status.replicas.map(async (r) => {
        const m = r.etcd[c];
        if (!m?.endpoint || m.raftIndex === null) return;
        try {
          per[r.name] = (await session.deps.etcd[c].endpointStatus(m.endpoint)).revision;
        } catch {
          // it stopped answering since: no revision to compare
        }
      }),
    );
    out[c] = per;
  }
  return { status, revisions: out };
}

/** The lab runs a restore's on-VM steps (its control route models them); GCE prints them. */
function onVmFor(session: OpsSession): OnVm {
  const lab = session.target.lab;
  const stamp = new Date().toISOString().replace(/[:.]/g, '').slice(0, 15);
  return {
    async restore(step, file) {
      if (!lab)
        return {
          ran: false,
          commands: restoreCommands({ project: session.target.project ?? '<project>' }, step, file, stamp),
        };
      const res = await fetch(`${lab.controlURL}/vms/${encodeURIComponent(step.replica)}/etcd-restore`, {
        method: 'POST',
        body: JSON.stringify({ cluster: step.cluster, snapshot: file }),
        signal: AbortSignal.timeout(150_000),
      });
      const body = (await res.json()) as { error?: string; setAside?: string | null };
      if (!res.ok) throw new Error(`lab: ${body.error ?? `HTTP ${res.status}`}`);
      return { ran: true, setAside: body.setAside ?? null };
    },
  };
}

function renderJournalSteps(j: RecoverJournal): string[] {
  return j.plan.steps.map(
    (s: RecoverStep, i) => `  ${j.done[s.id] ? '✓' : ' '} ${String(i + 1).padStart(2)}. ${s.title}`,
  );
}

async function rebuild(
  session: OpsSession,
  journals: RecoverJournals,
  j: RecoverJournal,
  o: { out: NodeJS.WritableStream; err: NodeJS.WritableStream; json: boolean; verifyTimeoutMs?: number },
): Promise<number> {
  const printer = progressPrinter(o.err);
  const outcome = await runRecover(session, journals, j, {
    onVm: onVmFor(session),
    log: (l) => o.err.write(`${l}\n`),
    onEvent: printer,
    ...(o.verifyTimeoutMs ? { verifyTimeoutMs: o.verifyTimeoutMs } : {}),
  });
  if (o.json) o.out.write(`${JSON.stringify(outcome, null, 2)}\n`);
  else if (outcome.outcome === 'done') {
    o.out.write(`done: etcd ${j.plan.clusters.join(' and ')} rebuilt from ${j.plan.from}\n`);
    o.out.write(`${renderJournalSteps(j).join('\n')}\n`);
    for (const c of j.plan.clusters) {
      const f = j.done[`snapshot.${c}`]?.facts;
      if (f) o.out.write(`  snapshot of etcd ${c}: ${f.file} (revision ${f.revision})\n`);
    }
    o.out.write(
      "  the removed replicas' data disks are kept: kube-ha cleanup deletes them once you are sure\n",
    );
  } else if (outcome.outcome === 'manual') {
    o.out.write(
      `On ${j.plan.from}'s VM, run (kube-up's layout: the static pod's manifest out, the data dir set aside, restore, manifest back):\n`,
    );
    for (const c of outcome.commands) o.out.write(`  ${c}\n`);
    o.out.write('then run kube-ha recover again (same target flags) to verify and continue\n');
    return EXIT.degraded;
  } else {
    o.out.write(`FAILED at ${outcome.step}: ${outcome.reason}\n`);
    o.out.write(`${renderJournalSteps(j).join('\n')}\n`);
    o.out.write('run kube-ha recover again (same target flags) to continue from there\n');
    return EXIT.failure;
  }
  return outcome.outcome === 'done' ? EXIT.ok : EXIT.failure;
}

async function transient(
  session: OpsSession,
  d: RecoverDiagnosis,
  o: { out: NodeJS.WritableStream; err: NodeJS.WritableStream; json: boolean; clusters: EtcdClusterName[] },
): Promise<number> {
  const results = [];
  for (const r of d.remedies) {
    o.out.write(`\n▶ kube-ha ${r.kind} --replica ${r.replica}\n`);
    const { planned } = await session.plan({ kind: r.kind, replica: r.replica, force: false });
    if (!planned.ok || !planned.plan) {
      o.out.write(`refused: ${planned.refusals.join('; ')}\n`);
      return EXIT.failure;
    }
    const result = await executePlan(planned.plan, session.deps, { onEvent: progressPrinter(o.err) });
    results.push(result);
    if (!o.json) o.out.write(renderResult(result));
    if (result.outcome !== 'done') {
      o.out.write(
        `${r.replica} did not come back with its member: if its data is gone, rebuild from a survivor: kube-ha recover --from REPLICA\n`,
      );
      return EXIT.failure;
    }
  }
  const after = diagnoseRecovery(await session.status(), { clusters: o.clusters, from: null, revisions: {} });
  if (o.json) o.out.write(`${JSON.stringify({ diagnosis: d, results, after }, null, 2)}\n`);
  if (after.verdict === 'nothing') {
    if (!o.json)
      o.out.write(`done: quorum is back (${d.remedies.map((r) => `${r.kind} ${r.replica}`).join(', ')})\n`);
    return EXIT.ok;
  }
  if (!o.json) o.out.write(`quorum is not back yet:\n${renderDiagnosis(after).join('\n')}\n`);
  return EXIT.failure;
}

export async function recoverCommand(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.write(RECOVER_HELP);
    return EXIT.ok;
  }
  const { values, positionals } = parseFlags(argv, OPTIONS);
  noArguments('recover', positionals);
  const clusters = clustersOf(values.cluster);
  const from = values.from ?? null;
  if (from !== null && !GCE_NAME.test(from))
    throw new UsageError(`--from: '${from}' is not an instance name`);
  const vt = values['verify-timeout'] === undefined ? undefined : Number(values['verify-timeout']) * 1000;
  if (vt !== undefined && !(vt > 0)) throw new UsageError('--verify-timeout: a number of seconds');
  const json = values.json === true;
  const { target, session } = await targetSession(values, env, 'kube-ha recover');
  session.deps.subscribeCalls((l) => err.write(`      $ ${l}\n`));
  try {
    const journals = RecoverJournals.forTarget(session);
    const open = journals.unfinished();
    if (open) {
      // A rebuild under way: continue it, whatever the quorum says now (a one-member cluster has quorum).
      if (from !== null && from !== open.plan.from)
        throw new UsageError(
          `a rebuild from ${open.plan.from} is under way (${open.plan.id}): continue it without --from, or with --from ${open.plan.from}`,
        );
      if (!json) {
        out.write(
          `continuing the rebuild ${open.plan.id} from ${open.plan.from}:\n${renderJournalSteps(open).join('\n')}\n`,
        );
      }
      if (values['dry-run']) return EXIT.ok;
      if (!(await confirmed(open.plan.from, values))) {
        err.write('kube-ha: not confirmed; nothing was changed\n');
        return EXIT.usage;
      }
      return await rebuild(session, journals, open, {
        out,
        err,
        json,
        ...(vt ? { verifyTimeoutMs: vt } : {}),
      });
    }
    const { status, revisions } = await revisionsOf(session, clusters);
    const d = diagnoseRecovery(status, { clusters, from, revisions });
    if (!json) out.write(`${renderDiagnosis(d).join('\n')}\n`);
    if (d.refusals.length) {
      if (json) out.write(`${JSON.stringify({ diagnosis: d }, null, 2)}\n`);
      else out.write(`refused, nothing was changed:\n${d.refusals.map((r) => `  ✗ ${r}\n`).join('')}`);
      return EXIT.refused;
    }
    if (d.verdict === 'transient') {
      if (values['dry-run']) {
        if (json) out.write(`${JSON.stringify({ diagnosis: d, dryRun: true }, null, 2)}\n`);
        else out.write('dry run: nothing was changed\n');
        return EXIT.ok;
      }
      if (!(await confirmed('recover', values))) {
        err.write('kube-ha: not confirmed; nothing was changed\n');
        return EXIT.usage;
      }
      return await transient(session, d, { out, err, json, clusters });
    }
    const built = buildRecoverPlan(status, d);
    if (!built.ok) {
      out.write(`refused, nothing was changed:\n  ✗ ${built.reason}\n`);
      return EXIT.refused;
    }
    const plan = built.plan;
    if (!json) {
      out.write(
        `\nRebuild plan ${plan.id} (one step at a time; run kube-ha recover again to continue after a stop):\n`,
      );
      for (const [i, s] of plan.steps.entries()) out.write(`  ${String(i + 1).padStart(2)}. ${s.title}\n`);
      out.write(`why this way:\n${plan.why.map((w) => `  ${w}\n`).join('')}`);
      if (!target.lab)
        out.write(
          "the restore steps run on the replica's VM: they are printed for gcloud compute ssh when reached\n",
        );
    }
    if (values['dry-run']) {
      if (json) out.write(`${JSON.stringify({ diagnosis: d, plan, dryRun: true }, null, 2)}\n`);
      else out.write('dry run: nothing was changed\n');
      return EXIT.ok;
    }
    if (!(await confirmed(plan.from, values))) {
      err.write('kube-ha: not confirmed; nothing was changed\n');
      return EXIT.usage;
    }
    return await rebuild(
      session,
      journals,
      { plan, done: {}, finishedAt: null },
      {
        out,
        err,
        json,
        ...(vt ? { verifyTimeoutMs: vt } : {}),
      },
    );
  } finally {
    await session.close();
  }
}
