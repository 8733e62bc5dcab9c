import { type ParseArgsConfig, parseArgs } from 'node:util';

// Usage errors exit 2 with a one-line reason.
export class UsageError extends Error {
  override name = 'UsageError';
}

export const EXIT = { ok: 0, failure: 1, usage: 2, refused: 3, rolledBack: 4, degraded: 5 } as const;

export const HELP = `kube-ha: console for a highly available Kubernetes control plane on GCE

Usage:
  kube-ha [ui] [target] [--write] [--refresh S] [--no-color] [--ascii]   live console
  kube-ha status [target] [--json]                                       one-shot status
  kube-ha demo                                          start a 3-zone lab and open the console on it
  kube-ha lab up [--dir DIR] [--zones Z1,Z2,...] [--replicas N] [--lb-delay S]
  kube-ha lab down|status [--dir DIR]
  kube-ha lab crash|restart|freeze|thaw NAME [--dir DIR]

Target (one of):
  --lab                      the lab in the default state dir
  --lab-dir DIR              the lab in DIR
  --project P --region R [--master-name M] [--compute-endpoint URL]
  --etcd-endpoints URLS      etcd main client URLs (ETCDCTL_ENDPOINTS); alone = etcd-only mode
  --events-endpoints URLS    etcd events client URLs (default: main hosts on http port 4002)
  --cacert F --cert F --key F  TLS for etcd main (ETCDCTL_CACERT, ETCDCTL_CERT, ETCDCTL_KEY)
  --etcd-prefix P            kube-apiserver's --etcd-prefix (default /registry)
  --timeout S                deadline of one network call (default 1.5)

Exit codes: 0 healthy, 5 degraded, 2 bad usage, 1 failure (unreachable).
`;

/** node:util parseArgs, strict, with its errors turned into usage errors. */
export function parseFlags<const O extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}
