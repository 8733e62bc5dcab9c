// `kube-ha operation status|resume|rollback|discard`: an unfinished
// operation, found in the journals (local files and etcd main). resume and
// rollback confirm with the operation id and check the live cluster against
// the journal first; discard sets a journal aside, never deletes it.
import { readFileSync } from 'node:fs';
import { isFinished, resumeRecovery, rollbackRecovery } from '../domain/ops/journal.js';
import { salvageSteps } from '../domain/ops/journal-parse.js';
import { describeProgress } from '../domain/ops/journal-report.js';
import type { CheckResult, UnreadableJournal } from '../domain/ops/preflight.js';
import { renderJournal } from '../domain/ops/render.js';
import { checkRecoveryConfirmation, type RecoveryMode, refusalsOf } from '../domain/ops/resume-check.js';
import { EtcdOps } from '../ops/etcd-ops.js';
import { resumeOperation, rollbackOperation } from '../ops/executor.js';
import { EtcdJournals, journalKey } from '../ops/journal-remote.js';
import { type JournalScan, JournalStore, validOperationId } from '../ops/journal-store.js';
import { openCommandSession } from './command.js';
import { jsonOut } from './ops-output.js';
import { RUN_OPTIONS, runPrinted, sessionOptions, type Values } from './ops-run.js';
import { ask } from './prompt.js';
import { type resolveTarget, resolveTargetAsync } from './target-flags.js';
import { EXIT, parseFlags, UsageError } from './usage.js';

const OPERATION_USAGE =
  'usage: kube-ha operation status|resume|rollback [--dry-run] [target], kube-ha operation discard ID --confirm ID [target]';

function renderChecks(checks: CheckResult[], ascii: boolean): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const mark = (ok: boolean) => (ascii ? (ok ? 'ok ' : 'NO ') : ok ? '✓' : '✗');
  return `Checks against the cluster now:\n${checks.map((c) => `  ${mark(c.ok)} ${c.name.padEnd(width)}  ${c.reason}`).join('\n')}\n`;
}

function renderUnreadable(unreadable: UnreadableJournal[]): string {
  const lines = unreadable.flatMap((u) => [
    `Unreadable journal ${u.path}`,
    `  ${u.reason}`,
    u.operationId
      ? `  it may record an operation left half-done; new operations are refused until it is resolved: inspect it, then kube-ha operation discard ${u.operationId} --confirm ${u.operationId}`
      : '  new operations are refused until it can be read',
  ]);
  return `${lines.join('\n')}\n`;
}

/** `operation discard ID`: sets a journal aside (never deletes it), after saying what the operator accepts. */
async function discardCommand(
  id: string,
  values: Values,
  store: JournalStore,
  scan: JournalScan,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  if (!validOperationId(id)) throw new UsageError(`'${id}' is not an operation id`);
  const journal = scan.journals.find((j) => j.operationId === id) ?? null;
  const bad = scan.unreadable.find((u) => u.operationId === id) ?? null;
  const json = values.json === true;
  if (!journal && !bad) {
    const known = [
      ...scan.journals.filter((j) => !isFinished(j)).map((j) => j.operationId),
      ...scan.unreadable.flatMap((u) => (u.operationId ? [u.operationId] : [])),
    ];
    throw new UsageError(
      `no unfinished or unreadable journal ${id} in ${store.dir}${known.length ? ` (there: ${known.join(', ')})` : ''}`,
    );
  }
  if (journal && isFinished(journal))
    throw new UsageError(`operation ${id} is ${journal.state}: there is nothing to discard`);
  const path = bad?.path ?? store.path(id);
  let accepted: string[];
  if (journal) {
    accepted = describeProgress(journal);
    if (!json) out.write(renderJournal(journal));
  } else {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      // unreadable as a file too: nothing to salvage
    }
    const salvaged = salvageSteps(text);
    accepted = salvaged.length
      ? ['what the file still shows (unverified):', ...salvaged.map((l) => `  ${l}`)]
      : ['what it did is unknown: read the file, and check kube-ha status'];
    if (!json) out.write(renderUnreadable([bad!]));
  }
  if (!json) {
    out.write(`Discarding it accepts the cluster as this operation left it:\n`);
    for (const l of accepted) out.write(`  ${l}\n`);
  }
  // Typed, never --yes: discarding means accepting what nobody will now finish.
  let confirmation = checkRecoveryConfirmation(id, {
    yes: false,
    confirm: typeof values.confirm === 'string' ? values.confirm : null,
  });
  if (!confirmation.ok && values.confirm === undefined) {
    const answer = await ask(`Type ${id} to discard its journal, or anything else to cancel: `);
    if (answer !== null)
      confirmation = checkRecoveryConfirmation(id, { yes: false, confirm: null, interactiveAnswer: answer });
  }
  if (!confirmation.ok) {
    const reason =
      values.yes && values.confirm === undefined
        ? `discard needs the operation id: --confirm ${id}`
        : confirmation.reason;
    err.write(`kube-ha: ${reason}; nothing was changed\n`);
    return EXIT.usage;
  }
  const aside = store.discard(id);
  try {
    await store.discardRemote(id);
  } catch (e) {
    err.write(
      `kube-ha: the copy in etcd (${journalKey(id)}) was not removed (${(e as Error).message}): other machines still see it; run discard again once etcd answers\n`,
    );
  }
  if (json)
    jsonOut(out, {
      discarded: { operationId: id, path, movedTo: aside, unreadable: bad?.reason ?? null, accepted },
    });
  else
    out.write(
      `discarded: ${path} is now ${aside} (kept, no longer read as a journal); new operations are no longer held back by it\n`,
    );
  return EXIT.ok;
}

export async function operationCommand(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { values, positionals } = parseFlags(argv, RUN_OPTIONS);
  const [sub, ...extra] = positionals;
  if (!sub || !['status', 'resume', 'rollback', 'discard'].includes(sub))
    throw new UsageError(OPERATION_USAGE);
  if (sub === 'discard' ? extra.length !== 1 : extra.length) throw new UsageError(OPERATION_USAGE);
  const target = await resolveTargetAsync(values, env);
  const store = JournalStore.forTarget(target);
  // Operations started on other machines: their journals in etcd main (the local files are read too).
  const etcdMain = target.etcd.main
    ? new EtcdOps('main', target.etcd.main, target.callTimeoutMs, () => {})
    : null;
  try {
    if (etcdMain) {
      store.attachRemote(new EtcdJournals(etcdMain, (l) => err.write(`      $ ${l}\n`)));
      await store.refresh();
      const problem = store.remoteProblem();
      if (problem)
        err.write(
          `kube-ha: journals in etcd not read (${problem}): operations started on other machines are not shown\n`,
        );
    }
    return await operationOn(sub, extra, values as Values, target, store, out, err);
  } finally {
    etcdMain?.close();
  }
}

async function operationOn(
  sub: string,
  extra: string[],
  values: Values,
  target: ReturnType<typeof resolveTarget>,
  store: JournalStore,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const json = values.json === true;
  const ascii = values['no-color'] === true;
  const scan = store.scan();
  if (sub === 'discard') return discardCommand(extra[0]!, values as Values, store, scan, out, err);
  const { unreadable } = scan;
  const journal = scan.journals.filter((j) => !isFinished(j)).at(-1) ?? null;
  if (sub === 'status') {
    if (json) {
      jsonOut(
        out,
        journal
          ? {
              unfinished: journal,
              resume: resumeRecovery(journal),
              rollback: rollbackRecovery(journal),
              unreadable,
            }
          : { unfinished: null, result: null, unreadable },
      );
    } else {
      if (unreadable.length) out.write(renderUnreadable(unreadable));
      if (!journal) out.write('no unfinished operation\n');
      else {
        out.write(renderJournal(journal));
        out.write(
          `  resume:   ${resumeRecovery(journal).note}\n  rollback: ${rollbackRecovery(journal).note}\n`,
        );
        out.write(
          `  kube-ha operation resume | rollback --confirm ${journal.operationId} (same target flags), or discard it\n`,
        );
      }
    }
    // Non-zero while something holds new operations back: an unfinished operation or an unreadable journal.
    return journal || unreadable.length ? EXIT.degraded : EXIT.ok;
  }
  if (!journal) {
    if (unreadable.length) {
      if (json) jsonOut(out, { unfinished: null, result: null, unreadable });
      else out.write(renderUnreadable(unreadable));
      err.write(
        `kube-ha: no readable unfinished operation to ${sub}; an unreadable journal can only be discarded\n`,
      );
      return EXIT.refused;
    }
    if (json) jsonOut(out, { unfinished: null, result: null, unreadable });
    else out.write('no unfinished operation\n');
    return EXIT.ok;
  }
  if (values['dry-run'] === true) {
    // What it would run, from the journal alone: nothing is asked of the cluster, nothing changes.
    const rec = sub === 'resume' ? resumeRecovery(journal) : rollbackRecovery(journal);
    const title = (id: string) => journal.plan.steps.find((s) => s.id === id)?.title ?? id;
    if (json) jsonOut(out, { unfinished: journal, dryRun: rec });
    else {
      out.write(renderJournal(journal));
      out.write(`dry run: ${sub} would ${rec.note}\n`);
      for (const id of rec.forward) out.write(`  run   ${title(id)}\n`);
      for (const id of rec.undo) out.write(`  undo  ${title(id)}\n`);
      out.write('nothing was changed (--dry-run)\n');
    }
    return EXIT.ok;
  }
  const id = journal.operationId;
  const given = {
    yes: values.yes === true,
    confirm: typeof values.confirm === 'string' ? values.confirm : null,
  };
  let confirmation = checkRecoveryConfirmation(id, given);
  // Decided before the cluster is asked: a wrong --confirm, or no way to ask.
  if (!confirmation.ok && (given.confirm !== null || !process.stdin.isTTY)) {
    if (!json) out.write(renderJournal(journal));
    err.write(`kube-ha: ${confirmation.reason}; nothing was changed\n`);
    return EXIT.usage;
  }
  const mode = sub as RecoveryMode;
  const session = await openCommandSession(
    target,
    sessionOptions(values as Values, `kube-ha operation ${sub}`),
  );
  try {
    if (!json) out.write(renderJournal(journal));
    const { checks } = await session.checkRecovery(journal, mode);
    const refusals = refusalsOf(checks);
    if (!json) out.write(renderChecks(checks, ascii));
    if (refusals.length) {
      if (json) jsonOut(out, { unfinished: journal, checks, refusals, result: null });
      else out.write(`refused, nothing was changed:\n${refusals.map((r) => `  ✗ ${r}\n`).join('')}`);
      return EXIT.refused;
    }
    if (!confirmation.ok) {
      const rec = mode === 'resume' ? resumeRecovery(journal) : rollbackRecovery(journal);
      const answer = await ask(`${rec.note}. Type ${id} to ${sub} it, or anything else to cancel: `);
      confirmation = checkRecoveryConfirmation(id, {
        yes: false,
        confirm: null,
        interactiveAnswer: answer ?? '',
      });
      if (!confirmation.ok) {
        err.write(`kube-ha: ${confirmation.reason}; nothing was changed\n`);
        return EXIT.usage;
      }
    }
    const run = mode === 'resume' ? resumeOperation : rollbackOperation;
    return await runPrinted(
      { out, err, json },
      (o) => run(journal, session.deps, o),
      (result) => ({ unfinished: journal, checks, result }),
    );
  } finally {
    await session.close();
  }
}
