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
  kube-ha add --zone Z [target] [--dry-run] [--yes] [--json]              add a replica (KUBE_GCE_ZONE)
  kube-ha remove (--replica N | --zone Z) [target] [--dry-run] [--yes|--confirm N] [--json]
  kube-ha replace --replica N [--force] [target] [--dry-run] [--yes|--confirm N] [--json]
  kube-ha reset --replica N [--force] [target] [--dry-run] [--yes|--confirm N] [--json]
                                                        reset a hung replica's VM (before a replace)
  kube-ha start --replica N [target] [--dry-run] [--yes|--confirm N] [--json]
                                                        start a TERMINATED or STOPPED replica's VM
  kube-ha defrag [--cluster main|events] [target] [--dry-run] [--yes] [--json]
                                                        NOSPACE: compact, defragment member by member, disarm
  kube-ha recover [--from R] [--cluster main|events|both] [target] [--dry-run] [--yes|--confirm T] [--json]
                                                        etcd lost quorum: start/reset (transient), or rebuild from R
  kube-ha operation status|resume|rollback [target]     an unfinished operation
  kube-ha cleanup [target] [--dry-run] [--yes] [--json] delete data disks of replicas that are gone
  kube-ha snapshot [target] [--cluster C] [--json]      save a verified etcd snapshot in the state dir
  kube-ha lab up [--dir DIR] [--zones Z1,Z2,...] [--replicas N] [--lb-delay S]
                 [--leader-elect-lease-duration 15s] [--leader-elect-renew-deadline 10s]
                 [--leader-elect-retry-period 2s]   the lab components' leader election
  kube-ha lab down|status [--dir DIR]
  kube-ha lab crash|restart|freeze|thaw NAME [--dir DIR]
  kube-ha lab crash NAME --wipe                        crash, and delete its etcd data (both data dirs) for good
  kube-ha lab stop NAME                                its VM TERMINATED as GCE does it (disks kept): instances.start
  kube-ha lab up ... --quota-backend-bytes N           etcd's quota on every member (kube-up: 4 GiB)
  kube-ha lab up ... --cert-days N                     the replicas' etcd certificates valid N days (kube-up: 5 years)
  kube-ha lab fill [--cluster main|events] [--bytes N] [--timeout S]   write junk until etcd raises NOSPACE
  kube-ha --version                                    the version (the single executable: and its Node.js)
  kube-ha lab ssh NAME [--dir DIR] [-- COMMAND...]     a shell or command as if on that replica
  kube-ha lab apiserver NAME --not-ready|--ready        its kube-apiserver alive but not ready, or ready again
  kube-ha lab slow-disk NAME [--cluster C] --delay-ms N|--off   every fsync of that etcd member N ms slower

Target (one of):
  --lab                      the lab in the default state dir
  --lab-dir DIR              the lab in DIR
  --project P (--region R | --zone Z) [--master-name M] [--compute-endpoint URL]
                             project: CLOUDSDK_CORE_PROJECT, GOOGLE_CLOUD_PROJECT, the active gcloud
                             configuration ($CLOUDSDK_CONFIG), else the metadata server on a GCE VM;
                             region: CLOUDSDK_COMPUTE_REGION, or from a zone (KUBE_GCE_ZONE,
                             CLOUDSDK_COMPUTE_ZONE, the configuration); master: KUBE_GCE_INSTANCE_PREFIX-master;
                             endpoint: CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE
  --etcd-endpoints URLS      etcd main client URLs (ETCDCTL_ENDPOINTS); alone = etcd-only mode
  --events-endpoints URLS    etcd events client URLs (default: main hosts on http port 4002)
  --cacert F --cert F --key F  TLS for etcd main (ETCDCTL_CACERT, ETCDCTL_CERT, ETCDCTL_KEY); with a
                             GCE target and no endpoints, members are asked at their VMs' internal IPs
  --etcd-prefix P            kube-apiserver's --etcd-prefix (default /registry)
  --apiserver-port N         kube-apiserver's secure port on the replicas (default 443)
  --timeout S                deadline of one network call (default 1.5)

Exit codes: status: 0 healthy, 5 degraded, 1 unreachable, 2 bad usage.
  add/remove/replace/reset/start: 0 done, 3 refused (nothing changed), 4 failed and rolled back,
  2 bad usage or not confirmed (nothing changed),
  1 failed and not rolled back (what is left, and how to finish it, is printed).
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
