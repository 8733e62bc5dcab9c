// `kube-ha add | remove | replace | reset | start | defrag`: the same planning
// and executor as the console. The plan is printed before anything changes;
// removal needs the replica's name typed (or --confirm NAME / --yes);
// progress, every Compute and etcd call, and the learner's catch-up go to
// stderr; --json prints one document on stdout at the end.
// Exit: 0 done, 2 bad usage or not confirmed (nothing changed), 3 refused
// (nothing changed), 4 failed and rolled back, 1 failed and not rolled back
// (what is left is printed). `operation ...` is operation.ts's.
import { checkConfirmation } from '../domain/ops/operation.js';
import { renderPlanned } from '../domain/ops/render.js';
import { type OpKind, parseRequest, RequestError } from '../domain/ops/request.js';
import { executePlan } from '../ops/executor.js';
import { noArguments, openCommandSession } from './command.js';
import { operationCommand } from './operation.js';
import { jsonOut, plannedForJson } from './ops-output.js';
import { RUN_OPTIONS, runPrinted, sessionOptions, type Values } from './ops-run.js';
import { ask } from './prompt.js';
import { resolveTargetAsync } from './target-flags.js';
import { EXIT, parseFlags, UsageError } from './usage.js';

export const OPS_HELP = `Operator flows (same target flags as status):
  kube-ha add --zone Z [--replica NAME]                      add a replica in zone Z
  kube-ha remove (--replica NAME | --zone Z) [--keep-disk]   remove a replica
  kube-ha replace --replica NAME [--zone Z] [--force] [--keep-disk]
                                                             remove a failed replica, add one in its zone
  (the removed member's data disk is deleted last, once the result is verified;
   --keep-disk leaves it for kube-ha cleanup)
  kube-ha defrag [--cluster main|events]                     NOSPACE's remedy: compact, defragment one member
                                                             at a time (followers first), disarm the alarms
                                                             (default: every cluster in NOSPACE, else main)
  kube-ha reset --replica NAME [--force]                     reset a hung replica's VM (instances.reset):
                                                             its members and disks stay
  kube-ha start --replica NAME                               start a TERMINATED or STOPPED replica's VM
                                                             (both usable when etcd has lost quorum)
  kube-ha operation status|resume|rollback [--dry-run]       an unfinished operation (resume and
                                                             rollback: type its id, or --confirm ID / --yes)
  kube-ha operation discard ID --confirm ID                  set a journal aside (unfinished or unreadable)
Options: --dry-run (print the plan, change nothing), --yes, --confirm NAME|ID, --json,
  --catch-up-timeout S, --op-timeout S, --verify-timeout S, --lb-timeout S
kube-up variables: KUBE_GCE_ZONE, KUBE_REPLICA_NAME, KUBE_REPLICATE_EXISTING_MASTER=true, KUBE_DELETE_NODES=false
Exit codes: 0 done, 3 refused (nothing changed), 4 failed and rolled back, 1 failed, not rolled back,
  2 bad usage or not confirmed (a wrong name typed; nothing changed).
  operation status: 0 nothing open, 5 an unfinished operation or an unreadable journal (new ones are refused).
`;

const KIND_OPTIONS = {
  add: { zone: { type: 'string' }, replica: { type: 'string' } },
  reset: { replica: { type: 'string' }, force: { type: 'boolean' } },
  start: { replica: { type: 'string' } },
  remove: { zone: { type: 'string' }, replica: { type: 'string' }, 'keep-disk': { type: 'boolean' } },
  replace: {
    zone: { type: 'string' },
    replica: { type: 'string' },
    force: { type: 'boolean' },
    'keep-disk': { type: 'boolean' },
  },
  defrag: { cluster: { type: 'string' } },
} as const;

async function runKind(
  kind: OpKind,
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { values, positionals } = parseFlags(argv, { ...RUN_OPTIONS, ...KIND_OPTIONS[kind] });
  noArguments(kind, positionals);
  let request: ReturnType<typeof parseRequest>;
  try {
    request = parseRequest(kind, values as Values, env);
  } catch (e) {
    if (e instanceof RequestError) throw new UsageError(e.message);
    throw e;
  }
  const target = await resolveTargetAsync(values, env);
  const session = await openCommandSession(target, sessionOptions(values as Values, `kube-ha ${kind}`));
  try {
    const { planned } = await session.plan(request);
    const json = values.json === true;
    if (!json) out.write(renderPlanned(planned, { ascii: values['no-color'] === true }));
    if (!planned.ok || !planned.plan) {
      if (json) jsonOut(out, { planned: plannedForJson(planned), result: null });
      return EXIT.refused;
    }
    if (values['dry-run']) {
      if (json) jsonOut(out, { planned: plannedForJson(planned), result: null, dryRun: true });
      else out.write('dry run: nothing was changed\n');
      return EXIT.ok;
    }
    let confirmation = checkConfirmation(planned, {
      yes: values.yes === true,
      confirm: typeof values.confirm === 'string' ? values.confirm : null,
    });
    if (!confirmation.ok && values.confirm === undefined && !values.yes) {
      const token = planned.confirmToken;
      const answer = await ask(
        token ? `Type ${token} to confirm, or anything else to cancel: ` : 'Proceed? [y/N] ',
      );
      if (answer !== null)
        confirmation = checkConfirmation(planned, { yes: false, confirm: null, interactiveAnswer: answer });
    }
    if (!confirmation.ok) {
      err.write(`kube-ha: ${confirmation.reason}; nothing was changed\n`);
      return EXIT.usage;
    }
    const plan = planned.plan;
    return await runPrinted(
      { out, err, json },
      (o) => executePlan(plan, session.deps, o),
      (result) => ({ planned: plannedForJson(planned), result }),
    );
  } finally {
    await session.close();
  }
}

/** Entry for `add`, `remove`, `replace` and `operation`, called by src/cli/main.ts. */
export async function opsCommand(
  name: string,
  argv: string[],
  io: { out?: NodeJS.WritableStream; err?: NodeJS.WritableStream; env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  const out = io.out ?? process.stdout;
  const err = io.err ?? process.stderr;
  const env = io.env ?? process.env;
  if (argv.includes('--help') || argv.includes('-h')) {
    out.write(OPS_HELP);
    return EXIT.ok;
  }
  if (name === 'operation') return operationCommand(argv, out, err, env);
  if (name === 'reset' || name === 'start') return runKind(name, argv, out, err, env);
  if (name === 'add' || name === 'remove' || name === 'replace' || name === 'defrag')
    return runKind(name, argv, out, err, env);
  throw new UsageError(`unknown operation command '${name}'`);
}
