// `kube-ha snapshot`: an etcd snapshot now, as every operation takes one
// before it changes anything: streamed from a healthy member (a follower when
// there is one, to spare the leader), verified against its SHA-256, kept in
// the state dir with a record of its revision (the newest five are kept).
import { join } from 'node:path';
import type { EtcdClusterName } from '../domain/types.js';
import { EtcdOps } from '../ops/etcd-ops.js';
import { pruneSnapshots, type SnapshotRecord, writeSnapshotRecord } from '../ops/etcd-snapshot.js';
import { OpsTargetError, openOpsSession } from '../ops/session.js';
import { resolveTargetAsync, TARGET_OPTIONS } from './target-flags.js';
import { EXIT, parseFlags, UsageError } from './usage.js';

export const SNAPSHOT_HELP = `kube-ha snapshot [target] [--cluster main|events] [--json]
  Saves an etcd snapshot (etcdctl snapshot save) from a healthy member, checks its
  SHA-256, and keeps it in the state dir's snapshots/ with its revision; the newest
  five are kept. Prints the file and its revision, and how to restore it.
Exit codes: 0 saved, 1 no healthy member answered or the copy did not verify, 2 bad usage.
`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  cluster: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A large database over a slow link takes minutes; a stream that stalls is cut much sooner. */
const DEADLINE_MS = 15 * 60_000;
const IDLE_MS = 30_000;

function restoreHint(r: SnapshotRecord): string {
  return `restore (one member, a new cluster): etcdctl snapshot restore ${r.file} --name NAME --initial-cluster NAME=PEER_URL --initial-advertise-peer-urls PEER_URL --data-dir DIR (etcdutl snapshot restore from etcd 3.5)`;
}

export async function snapshotCommand(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const { values, positionals } = parseFlags(argv, OPTIONS);
  if (values.help) {
    out.write(SNAPSHOT_HELP);
    return EXIT.ok;
  }
  if (positionals.length) throw new UsageError(`snapshot takes no arguments (got ${positionals.join(' ')})`);
  const cluster = (values.cluster ?? 'main') as EtcdClusterName;
  if (cluster !== 'main' && cluster !== 'events')
    throw new UsageError(`--cluster: '${values.cluster}' is not main or events`);
  const target = await resolveTargetAsync(values, env);
  const etcdTarget = target.etcd[cluster];
  if (!etcdTarget) throw new UsageError(`no etcd ${cluster} endpoints for this target`);
  const log = (line: string) => err.write(`${line}\n`);
  // With a Compute target, members are reached at their VMs' addresses, as the operations reach them.
  let session: Awaited<ReturnType<typeof openOpsSession>> | null = null;
  let etcd: EtcdOps;
  if (target.compute && target.project && target.region) {
    try {
      session = await openOpsSession(target, { tool: 'kube-ha snapshot' });
    } catch (e) {
      if (e instanceof OpsTargetError) throw new UsageError(e.message);
      throw e;
    }
    session.deps.subscribeCalls(log);
    await session.deps.observe();
    etcd = session.deps.etcd[cluster];
  } else {
    etcd = new EtcdOps(cluster, etcdTarget, target.callTimeoutMs, log);
  }
  try {
    const snap = await etcd.snapshot(true);
    let from: { endpoint: string };
    try {
      from = etcd.pickHealthy(snap, (m) => m.id === snap.leader);
    } catch {
      from = etcd.pickHealthy(snap);
    }
    const dir = join(target.stateDir, 'snapshots');
    const stamp = new Date().toISOString().replace(/[:.]/g, '').replace('T', '-').slice(0, 15);
    const saved = await etcd.saveSnapshot(join(dir, `snapshot-${stamp}-${cluster}.db`), from.endpoint, {
      deadlineMs: DEADLINE_MS,
      idleMs: IDLE_MS,
    });
    const record = writeSnapshotRecord(saved, { cluster, from: from.endpoint, operationId: null });
    const pruned = pruneSnapshots(dir);
    if (values.json) out.write(`${JSON.stringify({ ...record, pruned }, null, 2)}\n`);
    else {
      const mb = (record.bytes / 1024 / 1024).toFixed(1);
      out.write(
        `saved ${record.file}\n  etcd ${cluster}, revision ${record.revision}, ${mb} MB, sha256 ${record.sha256.slice(0, 16)}… ok, from ${record.from}\n  ${restoreHint(record)}\n`,
      );
      if (pruned.length) out.write(`  ${pruned.length} older snapshot(s) deleted (the newest 5 are kept)\n`);
    }
    return EXIT.ok;
  } catch (e) {
    err.write(`kube-ha: no snapshot saved: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.failure;
  } finally {
    if (session) await session.close();
    else etcd.close();
  }
}
