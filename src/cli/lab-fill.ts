// `kube-ha lab fill [--cluster main|events] [--bytes N] [--timeout S] [--dir D]`:
// writes junk under /lab-filler/ in one of the lab's etcd clusters until it
// raises NOSPACE (src/lab/fill.ts), to rehearse the alarm and its remedy.
// Meant for a lab started with a small --quota-backend-bytes.
import { resolve } from 'node:path';
import { formatBytes } from '../domain/format.js';
import { KUBE_UP_QUOTA_BACKEND_BYTES } from '../domain/member-health.js';
import type { EtcdClusterName } from '../domain/types.js';
import { readLabContext } from '../lab/context.js';
import { FILLER_PREFIX, fillUntilNoSpace } from '../lab/fill.js';
import { errorMessage } from '../net/etcd-client.js';
import { EtcdClusterSource } from '../sources/etcd.js';
import { labQuotaBackendBytes, labRunning } from './lab.js';
import { defaultLabDir } from './paths.js';
import { EXIT, parseFlags, UsageError } from './usage.js';

/** Above this quota, `lab fill` asks for --bytes rather than writing twice the quota. */
const MAX_FILL_QUOTA = 256 * 1024 ** 2;

function positiveInt(v: string | undefined, flag: string, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new UsageError(`${flag}: '${v}' must be a whole number from 1 to ${max}`);
  return n;
}

export async function labFillCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    dir: { type: 'string' },
    cluster: { type: 'string' },
    bytes: { type: 'string' },
    timeout: { type: 'string' },
  });
  if (positionals.length) throw new UsageError(`lab fill takes no arguments (got ${positionals.join(' ')})`);
  const cluster = (values.cluster ?? 'main') as EtcdClusterName;
  if (cluster !== 'main' && cluster !== 'events')
    throw new UsageError(`--cluster: '${values.cluster}' must be main or events`);
  const dir = resolve(values.dir ?? defaultLabDir());
  if (!labRunning(dir)) throw new UsageError(`no lab running in ${dir} (kube-ha lab up --dir ${dir})`);
  const quota = labQuotaBackendBytes(dir);
  if (values.bytes === undefined && (quota === null || quota > MAX_FILL_QUOTA)) {
    throw new UsageError(
      `lab fill: the lab's etcd quota is ${formatBytes(quota ?? KUBE_UP_QUOTA_BACKEND_BYTES)}${quota === null ? " (kube-up's default)" : ''}: filling it would write that much to this machine's disk. ` +
        'Start a lab with a small one (kube-ha lab up --quota-backend-bytes 8388608), or say how much with --bytes',
    );
  }
  // The quota's worth twice over: its history is what fills it, and bbolt's pages add some.
  const maxBytes =
    positiveInt(values.bytes, '--bytes', 64 * 1024 ** 3) ?? 2 * (quota ?? KUBE_UP_QUOTA_BACKEND_BYTES);
  const deadlineMs = (positiveInt(values.timeout, '--timeout', 3600) ?? 120) * 1000;

  const ctx = readLabContext(dir);
  const main = ctx.etcd.main;
  const target =
    cluster === 'main'
      ? {
          endpoints: main.endpoints,
          tls: { caFile: main.caFile, certFile: main.certFile, keyFile: main.keyFile },
        }
      : { endpoints: ctx.etcd.events.endpoints, tls: null };
  const source = new EtcdClusterSource(cluster, target, 5000);
  try {
    // Any member will do: a write goes through the leader, and the alarm is the cluster's.
    let client = null;
    let why = '';
    for (const e of target.endpoints) {
      try {
        const c = await source.client(e);
        await c.maintenance.status();
        client = c;
        break;
      } catch (err) {
        why = `${e}: ${errorMessage(err)}`;
      }
    }
    if (!client) {
      process.stderr.write(`kube-ha: lab fill: no etcd ${cluster} member answered (${why})\n`);
      return EXIT.failure;
    }
    process.stderr.write(
      `lab: filling etcd ${cluster} under ${FILLER_PREFIX} (quota ${quota ? formatBytes(quota) : `${formatBytes(KUBE_UP_QUOTA_BACKEND_BYTES)}, kube-up's default`}; at most ${formatBytes(maxBytes)}, ${deadlineMs / 1000} s)\n`,
    );
    const r = await fillUntilNoSpace(client, { maxBytes, deadlineMs });
    if (r.noSpace) {
      process.stdout.write(
        `etcd ${cluster} raised NOSPACE after ${r.writes} writes (${formatBytes(r.bytes)}): ${r.noSpace}\n` +
          `  see it: kube-ha status --lab${values.dir ? `-dir ${dir}` : ''}\n` +
          '  clear it: compact to the current revision, defragment each member (followers first), then etcdctl alarm disarm\n',
      );
      return EXIT.ok;
    }
    process.stderr.write(
      `kube-ha: lab fill: etcd ${cluster} did not raise NOSPACE after ${r.writes} writes (${formatBytes(r.bytes)}): stopped by ${r.stoppedBy}` +
        `${quota ? '' : " (the lab runs kube-up's 4 GiB quota: start it with --quota-backend-bytes, e.g. 8388608)"}\n`,
    );
    return EXIT.failure;
  } finally {
    source.close();
  }
}
