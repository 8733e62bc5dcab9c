// `kube-ha cleanup`: deletes the data disks of replicas that are gone, which a
// remove or replace keeps until its result is verified (and for good after a
// rollback, or with --keep-disk). Lists first; deletes only what no VM uses,
// whose replica has no VM and is in neither etcd cluster, after a confirmation.
import { type CleanupPlan, planCleanup } from '../domain/ops/cleanup.js';
import { isFinished } from '../domain/ops/journal.js';
import { ComputeOps } from '../ops/compute-ops.js';
import { replicaFilter } from '../sources/gce-source.js';
import { parseCommand, targetSession } from './command.js';
import { ask } from './prompt.js';
import { TARGET_OPTIONS } from './target-flags.js';
import { EXIT } from './usage.js';

export const CLEANUP_HELP = `kube-ha cleanup [target] [--dry-run] [--yes] [--json]
  Deletes the etcd data disks (<replica>-pd) of replicas that are gone: no VM uses the
  disk, no VM of that replica exists, and it is a member of neither etcd cluster. A
  remove or replace deletes the old member's disk only once its result is verified;
  a rollback, or --keep-disk, leaves it for this command.
Exit codes: 0 done or nothing to delete, 1 a deletion failed, 2 bad usage or not
  confirmed, 3 refused (an unfinished operation, or etcd membership unknown).
`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  json: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  help: { type: 'boolean', short: 'h' },
} as const;

function render(p: CleanupPlan): string {
  const lines: string[] = [];
  const row = (verb: string, i: CleanupPlan['delete'][number]) =>
    `  ${verb} ${i.disk.name} (${i.disk.zone}${i.disk.sizeGb ? `, ${i.disk.sizeGb} GB` : ''}${i.disk.created ? `, created ${i.disk.created}` : ''}): ${i.reason}`;
  if (p.delete.length) lines.push('To delete:', ...p.delete.map((i) => row('delete', i)));
  if (p.keep.length) lines.push('Kept:', ...p.keep.map((i) => row('keep  ', i)));
  if (!p.delete.length && !p.keep.length) lines.push('No data disk of this cluster outside its replicas.');
  if (p.refusal) lines.push(`Refused: ${p.refusal}; nothing is deleted.`);
  return `${lines.join('\n')}\n`;
}

export async function cleanupCommand(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const values = parseCommand('cleanup', argv, OPTIONS, CLEANUP_HELP, out);
  if (!values) return EXIT.ok;
  const json = values.json === true;
  const { target, session } = await targetSession(values, env, 'kube-ha cleanup');
  try {
    const compute = session.deps.compute;
    if (!(compute instanceof ComputeOps)) throw new Error('cleanup needs the Compute API');
    const status = await session.status();
    await session.deps.store.refresh().catch(() => {});
    const scan = session.deps.store.scan();
    const unfinished = scan.journals.filter((j) => !isFinished(j));
    const master = status.masterName ?? target.masterName ?? '';
    const listed = await compute.listDisks(`${replicaFilter(master).slice(0, -1)}-pd"`);
    const plan = planCleanup(status, listed.disks);
    if (!plan.refusal && unfinished.length)
      plan.refusal = `operation ${unfinished[0]!.operationId} (${unfinished[0]!.plan.summary}) is unfinished: resume or roll it back first`;
    else if (!plan.refusal && scan.unreadable.length)
      plan.refusal = `journal ${scan.unreadable[0]!.path} cannot be read`;
    else if (!plan.refusal && listed.unreachable.length)
      plan.refusal = `Compute could not list the disks of ${listed.unreachable.join(', ')}`;
    if (plan.refusal) {
      plan.keep.push(...plan.delete.map((i) => ({ ...i, reason: `${i.reason} (not now: refused)` })));
      plan.delete = [];
    }
    const report = (deleted: string[], failed: { disk: string; error: string }[]) => {
      if (json) out.write(`${JSON.stringify({ ...plan, deleted, failed }, null, 2)}\n`);
    };
    if (!json) out.write(render(plan));
    if (plan.refusal) {
      report([], []);
      return EXIT.refused;
    }
    if (!plan.delete.length || values['dry-run']) {
      report([], []);
      if (!json && values['dry-run'] && plan.delete.length) out.write('dry run: nothing was changed\n');
      return EXIT.ok;
    }
    if (!values.yes) {
      const answer = await ask(`Delete ${plan.delete.length} disk(s)? Type yes to confirm: `);
      if (answer?.trim() !== 'yes') {
        err.write('kube-ha: not confirmed (--yes, or type yes); nothing was changed\n');
        report([], []);
        return EXIT.usage;
      }
    }
    const deleted: string[] = [];
    const failed: { disk: string; error: string }[] = [];
    for (const i of plan.delete) {
      try {
        const r = await compute.deleteDisk(i.disk.zone, i.disk.name);
        deleted.push(i.disk.name);
        if (!json) out.write(`deleted ${i.disk.name}${r === 'absent' ? ' (already gone)' : ''}\n`);
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        failed.push({ disk: i.disk.name, error });
        if (!json) err.write(`kube-ha: ${i.disk.name} not deleted: ${error}\n`);
      }
    }
    report(deleted, failed);
    return failed.length ? EXIT.failure : EXIT.ok;
  } finally {
    await session.close();
  }
}
