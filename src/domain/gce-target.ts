// Where on GCE the cluster is, found the way gcloud and kube-up find it, and
// the checks its names must pass before they go into URLs and list filters.
// Pure: flags, environment and the gcloud configuration come in as values.
import type { GcloudProperties } from './gcloud-config.js';
import { GCE_NAME, regionOfZone } from './names.js';

/** A value and where it came from, for messages that say which source to fix. */
export interface Sourced {
  value: string;
  from: string;
}

export interface LocationSources {
  flags: { project?: string | undefined; region?: string | undefined; zone?: string | undefined };
  env: Readonly<Record<string, string | undefined>>;
  /** The active gcloud configuration, when there is one. */
  config: { name: string; props: GcloudProperties } | null;
  /** The project the GCE metadata server named (asked only when nothing else names one). */
  metadataProject?: string | null;
  /** The zone of the replica kube-ha runs on, from the metadata server (only on a replica). */
  metadataZone?: string | null;
}

export interface GceLocation {
  project: Sourced | null;
  region: Sourced | null;
  zone: Sourced | null;
}

type Candidate = readonly [string | null | undefined, string];

function first(...candidates: Candidate[]): Sourced | null {
  for (const [v, from] of candidates) {
    const value = v?.trim();
    if (value) return { value, from };
  }
  return null;
}

/**
 * Flags first, then the environment (gcloud's CLOUDSDK_* and kube-up's
 * KUBE_GCE_ZONE), then the active gcloud configuration, then the metadata
 * server. At each level a region given as such wins over one derived from a
 * zone, as kube-up derives it (`REGION=${ZONE%-*}`).
 */
export function pickLocation(s: LocationSources): GceLocation {
  const { flags, env, config } = s;
  const cfg = (key: string) => `gcloud configuration '${config?.name}' (${key})`;
  const project = first(
    [flags.project, '--project'],
    [env.CLOUDSDK_CORE_PROJECT, 'CLOUDSDK_CORE_PROJECT'],
    [env.GOOGLE_CLOUD_PROJECT, 'GOOGLE_CLOUD_PROJECT'],
    [config?.props.project, cfg('core/project')],
    [s.metadataProject, 'the GCE metadata server'],
  );
  const zones: Candidate[] = [
    [flags.zone, '--zone'],
    [env.KUBE_GCE_ZONE, 'KUBE_GCE_ZONE'],
    [env.CLOUDSDK_COMPUTE_ZONE, 'CLOUDSDK_COMPUTE_ZONE'],
    [config?.props.zone, cfg('compute/zone')],
    [s.metadataZone, "the GCE metadata server (this replica's zone)"],
  ];
  const fromZone = ([z, from]: Candidate): Candidate => [z?.trim() ? regionOfZone(z.trim()) : null, from];
  const region = first(
    [flags.region, '--region'],
    fromZone(zones[0]!),
    [env.CLOUDSDK_COMPUTE_REGION, 'CLOUDSDK_COMPUTE_REGION'],
    fromZone(zones[1]!),
    fromZone(zones[2]!),
    [config?.props.region, cfg('compute/region')],
    fromZone(zones[3]!),
    fromZone(zones[4]!),
  );
  return { project, region, zone: first(...zones) };
}

/** Project IDs (optionally domain-scoped, `example.com:p`): they go into request paths. */
const PROJECT_ID = /^([a-z0-9][-a-z0-9.]*[a-z0-9]:)?[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function projectProblem(p: Sourced): string | null {
  return PROJECT_ID.test(p.value)
    ? null
    : `${p.from}: '${p.value}' is not a project ID (lowercase letters, digits and hyphens, starting with a letter)`;
}

export function regionProblem(r: Sourced): string | null {
  return GCE_NAME.test(r.value) && r.value.includes('-')
    ? null
    : `${r.from}: '${r.value}' is not a GCE region (e.g. us-central1)`;
}

export function zoneProblem(z: Sourced): string | null {
  return GCE_NAME.test(z.value) && /-[a-z0-9]+-[a-z0-9]+$/.test(z.value)
    ? null
    : `${z.from}: '${z.value}' is not a GCE zone (e.g. us-central1-b)`;
}

/**
 * The longest master name whose derived names all fit GCE's 63 characters:
 * a replica is `<master>-xxx` (kube-up's set-replica-name) and its reserved
 * internal address `<replica>-internal-ip` (see domain/ops/plan.ts).
 */
export const MASTER_NAME_MAX = 63 - '-xxx'.length - '-internal-ip'.length;

/**
 * Why a master name cannot be used, or null. It goes into a list filter and
 * into resource names, so anything but an RFC 1035 label is refused rather
 * than quoted.
 */
export function masterNameProblem(m: Sourced): string | null {
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(m.value)) {
    return `${m.from}: '${m.value}' is not a GCE resource name (lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen)`;
  }
  if (m.value.length > MASTER_NAME_MAX) {
    return `${m.from}: '${m.value}' is ${m.value.length} characters; at most ${MASTER_NAME_MAX}, so that a replica's '<name>-xxx-internal-ip' fits GCE's 63`;
  }
  return null;
}

/**
 * The master name: --master-name, else kube-up's `${KUBE_GCE_INSTANCE_PREFIX}-master`
 * (kubernetes/kubernetes cluster/gce/config-default.sh: INSTANCE_PREFIX
 * defaults to `kubernetes`, MASTER_NAME="${INSTANCE_PREFIX}-master").
 */
export function pickMasterName(
  flag: string | undefined,
  prefix: string | undefined,
  /** The master this VM is a replica of (masterNameOfInstance), when the metadata server said. */
  fromInstance?: Sourced | null,
): Sourced {
  if (flag) return { value: flag, from: '--master-name' };
  const p = prefix?.trim();
  if (p) return { value: `${p}-master`, from: `KUBE_GCE_INSTANCE_PREFIX '${p}' (master name ${p}-master)` };
  if (fromInstance) return fromInstance;
  return { value: 'kubernetes-master', from: "kube-up's default master name" };
}

/**
 * The master name of the replica kube-ha runs on, from what its metadata
 * server says: kube-up names replicas `<master>` or `<master>-xxx` (three
 * characters, set-replica-name) and sets the `cluster-name` attribute to
 * CLUSTER_NAME, which defaults to INSTANCE_PREFIX (master `<prefix>-master`).
 * So `<cluster-name>-master` when the instance is named after it, else the
 * instance name itself when it ends in `-master`, or without its `-xxx`
 * suffix when that leaves one. null: the VM does not look like a kube-up
 * master (a bastion, say), and nothing is guessed.
 */
export function masterNameOfInstance(instance: string, clusterName: string | null): Sourced | null {
  const from = `the GCE metadata server (instance ${instance})`;
  const byCluster = clusterName ? `${clusterName}-master` : null;
  const suffixOf = (master: string) =>
    instance.startsWith(`${master}-`) && /^[a-z0-9]{3}$/.test(instance.slice(master.length + 1));
  if (byCluster && (instance === byCluster || suffixOf(byCluster)))
    return { value: byCluster, from: `${from}, cluster-name ${clusterName}` };
  if (instance.endsWith('-master')) return { value: instance, from };
  const m = /^(.+-master)-[a-z0-9]{3}$/.exec(instance);
  return m ? { value: m[1]!, from } : null;
}

/** The hosts of Compute's own endpoint: an override naming them is no override. */
const GOOGLE_COMPUTE_HOSTS = new Set(['compute.googleapis.com', 'www.googleapis.com']);

/**
 * A Compute endpoint for kube-ha's client, from a URL in gcloud's form
 * (`CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE`, e.g. `http://127.0.0.1:8080/compute/v1/`)
 * or a bare origin. The client adds `/compute/v1/` itself, so only that path
 * (or none) can be honoured. `endpoint: null` is Google's own API.
 */
export function computeEndpointOf(
  url: string,
  from: string,
): { endpoint: string | null } | { error: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { error: `${from}: '${url}' is not a URL` };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return { error: `${from}: '${url}' must be http or https` };
  if (u.username || u.password || u.search || u.hash)
    return { error: `${from}: '${url}' must not carry credentials, a query or a fragment` };
  if (!['/', '/compute/v1', '/compute/v1/'].includes(u.pathname)) {
    return {
      error: `${from}: '${url}' has the path ${u.pathname}; kube-ha's Compute client adds /compute/v1/ itself (give http[s]://HOST[:PORT]/compute/v1/)`,
    };
  }
  if (u.protocol === 'https:' && !u.port && GOOGLE_COMPUTE_HOSTS.has(u.hostname)) return { endpoint: null };
  return { endpoint: `${u.protocol}//${u.host}` };
}
