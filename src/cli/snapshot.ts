// `kube-ha snapshot`: an etcd snapshot now, as every operation takes one
// before it changes anything: streamed from a healthy member (a follower when
// there is one, to spare the leader), verified against its SHA-256, kept in
// the state dir with a record of its revision (the newest five are kept).
import { join } from 'node:path';
import type { EtcdClusterName } from '../domain/types.js';
import { EtcdOps } from '../ops/etcd-ops.js';
import type { SnapshotRecord } from '../ops/etcd-snapshot.js';
import type { OpsSession } from '../ops/session.js';
import { takeSnapshot } from '../ops/take-snapshot.js';
import { openCommandSession, parseCommand } from './command.js';
import { resolveTargetAsync, TARGET_OPTIONS } from './target-flags.js';
import { EXIT, UsageError } from './usage.js';

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

function restoreHint(r: SnapshotRecord): string {
  return `restore (one member, a new cluster): etcdctl snapshot restore ${r.file} --name NAME --initial-cluster NAME=PEER_URL --initial-advertise-peer-urls PEER_URL --data-dir DIR (etcdutl snapshot restore from etcd 3.5)`;
}

export async function snapshotCommand(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const values = parseCommand('snapshot', argv, OPTIONS, SNAPSHOT_HELP, out);
  if (!values) return EXIT.ok;
  const cluster = (values.cluster ?? 'main') as EtcdClusterName;
  if (cluster !== 'main' && cluster !== 'events')
    throw new UsageError(`--cluster: '${values.cluster}' is not main or events`);
  const target = await resolveTargetAsync(values, env);
  const etcdTarget = target.etcd[cluster];
  if (!etcdTarget) throw new UsageError(`no etcd ${cluster} endpoints for this target`);
  const log = (line: string) => err.write(`${line}\n`);
  // With a Compute target, members are reached at their VMs' addresses, as the operations reach them.
  let session: OpsSession | null = null;
  let etcd: EtcdOps;
  if (target.compute && target.project && target.region) {
    session = await openCommandSession(target, { tool: 'kube-ha snapshot' });
    session.deps.subscribeCalls(log);
    await session.deps.observe();
    etcd = session.deps.etcd[cluster];
  } else {
    etcd = new EtcdOps(cluster, etcdTarget, target.callTimeoutMs, log);
  }
  try {
    const dir = join(target.stateDir, 'snapshots');
    const stamp = new Date().toISOString().replace(/[:.]/g, '').replace('T', '-').slice(0, 15);
    const { record, pruned } = await takeSnapshot(etcd, dir, `snapshot-${stamp}-${cluster}.db`, {
      operationId: null,
    });
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
