// `kube-ha status [--json]`: one observation, printed for people or scripts.
import { buildStatus, statusExitCode } from '../domain/status.js';
import type { ClusterStatus } from '../domain/types.js';
import { createGceSource } from '../sources/gce-source.js';
import { Observer } from '../sources/observe.js';
import { renderStatusText } from './status-text.js';
import { resolveTargetAsync, TARGET_OPTIONS } from './target-flags.js';
import { EXIT, parseFlags, UsageError } from './usage.js';

/** Every configured source failed: nothing to judge health from. */
function unreachable(s: ClusterStatus): string | null {
  const causes = s.warnings.filter((w) => w.code === 'ETCD_UNREACHABLE' || w.code === 'GCE_UNREACHABLE');
  const etcdDown = (['main', 'events'] as const).every((c) => !s.etcd[c].observed || s.etcd[c].error);
  const gceDown = !s.sources.gce || causes.some((w) => w.code === 'GCE_UNREACHABLE');
  return etcdDown && gceDown && causes.length ? causes.map((w) => w.message).join('; ') : null;
}

export async function statusCommand(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const { values, positionals } = parseFlags(argv, { ...TARGET_OPTIONS, json: { type: 'boolean' } });
  if (positionals.length) throw new UsageError(`status takes no arguments (got ${positionals.join(' ')})`);
  const target = await resolveTargetAsync(values, process.env, { deriveEtcd: true });
  // The Compute clients loaded and made before any call: that is one block of
  // the main thread (~0.1-0.2 s of CPU), which on a busy machine, inside the
  // first calls' deadlines, made apiservers and members look slow (issue 12).
  const gce = target.compute ? createGceSource(target) : null;
  await gce?.prepare();
  const observer = new Observer(target, gce);
  try {
    const status = buildStatus(await observer.observeAll({ leases: true, apiservers: true }));
    out.write(values.json ? `${JSON.stringify(status, null, 2)}\n` : renderStatusText(status));
    const cause = unreachable(status);
    if (cause) {
      process.stderr.write(`kube-ha: unreachable: ${cause}\n`);
      return EXIT.failure;
    }
    return statusExitCode(status);
  } finally {
    await observer.close();
  }
}
