// Target flags shared by status, the console and the operator commands, with
// etcdctl's and gcloud's environment variables as fallbacks.
import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import {
  computeEndpointOf,
  type GceLocation,
  masterNameOfInstance,
  masterNameProblem,
  pickLocation,
  pickMasterName,
  projectProblem,
  regionProblem,
  zoneProblem,
} from '../domain/gce-target.js';
import { isReplicaName, regionOfZone } from '../domain/names.js';
import { APISERVER_PORT } from '../net/apiserver.js';
import type { EtcdTarget, ReplicaVantage, Target, TlsFiles } from '../sources/target.js';
import {
  fetchMetadataIdentity,
  type MetadataIdentity,
  metadataServerOf,
  readGcloudConfig,
} from './gcloud-config.js';
import { labTarget } from './lab-target.js';
import { defaultLabDir, stateDir } from './paths.js';
import { UsageError } from './usage.js';

export const TARGET_OPTIONS = {
  lab: { type: 'boolean' },
  'lab-dir': { type: 'string' },
  project: { type: 'string' },
  region: { type: 'string' },
  zone: { type: 'string' },
  'master-name': { type: 'string' },
  'compute-endpoint': { type: 'string' },
  'etcd-endpoints': { type: 'string' },
  'events-endpoints': { type: 'string' },
  cacert: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'etcd-prefix': { type: 'string' },
  'apiserver-port': { type: 'string' },
  timeout: { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export type TargetValues = Partial<Record<keyof typeof TARGET_OPTIONS, string | boolean | undefined>>;

function str(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function parseEndpoints(list: string, flag: string): string[] {
  const out = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((e) => (/^[a-z]+:\/\//.test(e) ? e : `https://${e}`));
  for (const e of out) {
    let u: URL;
    try {
      u = new URL(e);
    } catch {
      throw new UsageError(`${flag}: '${e}' is not a URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new UsageError(`${flag}: '${e}' must be http or https`);
    if (!u.port) throw new UsageError(`${flag}: '${e}' has no port`);
  }
  if (out.length === 0) throw new UsageError(`${flag}: no endpoints given`);
  return out;
}

/** Events run on the same hosts as main, plain http on 4002 (as kube-up configures them). */
export function eventsFromMain(main: string[]): string[] {
  return main.map((e) => {
    const u = new URL(e);
    return `http://${u.hostname}:4002`; // hostname keeps IPv6 brackets
  });
}

function parsePort(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new UsageError(`${flag}: '${v}' is not a port (1-65535)`);
  return n;
}

function parseTimeout(v: string | undefined): number {
  if (v === undefined) return 1500;
  const s = Number(v.replace(/s$/, ''));
  if (!Number.isFinite(s) || s <= 0 || s > 120)
    throw new UsageError(`--timeout: '${v}' is not a number of seconds (0-120]`);
  return Math.round(s * 1000);
}

function tlsFrom(values: TargetValues, env: NodeJS.ProcessEnv): TlsFiles | null {
  const caFile = str(values.cacert) ?? env.ETCDCTL_CACERT ?? null;
  const certFile = str(values.cert) ?? env.ETCDCTL_CERT ?? null;
  const keyFile = str(values.key) ?? env.ETCDCTL_KEY ?? null;
  for (const [flag, f] of [
    ['--cacert', caFile],
    ['--cert', certFile],
    ['--key', keyFile],
  ] as const) {
    if (f && !existsSync(f)) throw new UsageError(`${flag}: no such file ${f}`);
  }
  if ((certFile === null) !== (keyFile === null)) throw new UsageError('--cert and --key go together');
  if (!caFile && !certFile) return null;
  return { caFile, certFile, keyFile };
}

/** What resolveTargetAsync learned before resolving: the metadata server's project, or why not. */
export interface TargetExtras {
  metadataProject?: string | null;
  metadataError?: string | null;
  /**
   * With TLS files and a GCE target but no etcd endpoints, reach each member
   * at its VM's internal IP (EtcdTarget with no seeds). Off by default: only
   * callers whose etcd side derives seeds from the VMs (src/sources/observe.ts)
   * may ask for it; the operations' etcd clients (src/ops/etcd-ops.ts) still
   * start from seeds.
   */
  deriveEtcd?: boolean;
  /** The instance kube-ha runs on, as the metadata server named it (asked only with deriveEtcd). */
  instance?: MetadataIdentity['instance'];
  /** Where kube-up's etcd files are on a replica (default /etc/srv/kubernetes; tests give another). */
  srvDir?: string;
}

/** kube-up's /etc/srv/kubernetes: mount-master-pd links it to the master PD. */
export const KUBE_UP_SRV_DIR = '/etc/srv/kubernetes';

/**
 * The apiserver's etcd client pair as kube-up writes it on every master
 * (create-master-etcd-apiserver-auth): `tls` when all three files are there
 * and readable; `unreadable` names the first that is there but cannot be
 * read (root-only on a real replica); neither when they are not there
 * (a cluster without client mTLS: etcd main is then plain http).
 */
export function kubeUpEtcdTls(
  srvDir: string,
  canRead: (file: string) => boolean = readable,
): { tls: TlsFiles } | { unreadable: string } | null {
  const pki = join(srvDir, 'pki');
  const tls = {
    caFile: join(pki, 'etcd-apiserver-ca.crt'),
    certFile: join(pki, 'etcd-apiserver-client.crt'),
    keyFile: join(pki, 'etcd-apiserver-client.key'),
  };
  const files = [tls.caFile, tls.certFile, tls.keyFile];
  if (!files.every((f) => existsSync(f))) return null;
  const unreadable = files.find((f) => !canRead(f));
  return unreadable ? { unreadable } : { tls };
}

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** The local members kube-up configures on every master (configure-helper.sh prepare-etcd-manifest). */
const LOCAL = {
  main: (tls: boolean) => `${tls ? 'https' : 'http'}://127.0.0.1:2379`,
  // etcd main serves /metrics on 2382 (--listen-metrics-urls) only with client mTLS, else on its client URL.
  mainMetrics: (tls: boolean) => (tls ? 'http://127.0.0.1:2382/metrics' : 'http://127.0.0.1:2379/metrics'),
  events: 'http://127.0.0.1:4002',
  eventsMetrics: 'http://127.0.0.1:4002/metrics',
};

/**
 * On a replica with no etcd endpoints given: its own members on 127.0.0.1,
 * with the TLS files given, else kube-up's; etcd main left out (and said)
 * when kube-up's files cannot be read.
 */
function replicaEtcd(
  instance: NonNullable<MetadataIdentity['instance']>,
  given: TlsFiles | null,
  srvDir: string,
  eventsFlag: string | undefined,
): { main: EtcdTarget | null; events: EtcdTarget; vantage: ReplicaVantage } {
  const notes: string[] = [];
  let tls = given;
  let main: EtcdTarget | null = null;
  if (!tls) {
    const found = kubeUpEtcdTls(srvDir);
    if (found && 'unreadable' in found) {
      notes.push(`needs root to read ${found.unreadable} (run with sudo); etcd main is not observed`);
    } else {
      tls = found?.tls ?? null;
      main = { endpoints: [LOCAL.main(tls !== null)], tls };
    }
  } else {
    main = { endpoints: [LOCAL.main(true)], tls };
  }
  return {
    main,
    events: {
      endpoints: eventsFlag ? parseEndpoints(eventsFlag, '--events-endpoints') : [LOCAL.events],
      tls: null,
    },
    vantage: {
      replica: instance.name,
      zone: instance.zone,
      metrics: { main: LOCAL.mainMetrics(tls !== null), events: LOCAL.eventsMetrics },
      notes,
    },
  };
}

/** Flags and gcloud's environment that say "this is a GCE target" by themselves. */
function explicitGce(values: TargetValues, env: NodeJS.ProcessEnv): boolean {
  return Boolean(
    str(values.project) ||
      str(values.region) ||
      str(values.zone) ||
      str(values['compute-endpoint']) ||
      env.CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE?.trim(),
  );
}

function etcdEndpointsGiven(values: TargetValues, env: NodeJS.ProcessEnv): boolean {
  return Boolean(str(values['etcd-endpoints']) ?? env.ETCDCTL_ENDPOINTS?.trim());
}

function isLabTarget(values: TargetValues): boolean {
  return Boolean(str(values['lab-dir']) || values.lab);
}

function check(problem: string | null): void {
  if (problem) throw new UsageError(problem);
}

function location(
  values: TargetValues,
  env: NodeJS.ProcessEnv,
  extras: TargetExtras,
  metadataZone: string | null = null,
): GceLocation {
  return pickLocation({
    flags: { project: str(values.project), region: str(values.region), zone: str(values.zone) },
    env,
    config: readGcloudConfig(env),
    metadataProject: extras.metadataProject ?? null,
    metadataZone,
  });
}

/** Checked only for a GCE target: an etcd-only run does not care what the environment says. */
function checkLocation(loc: GceLocation, values: TargetValues): void {
  // The zone first: a region derived from a bad zone would be reported as a bad region.
  if (loc.zone) check(zoneProblem(loc.zone));
  if (loc.region) check(regionProblem(loc.region));
  if (loc.project) check(projectProblem(loc.project));
  const region = str(values.region);
  const zone = str(values.zone);
  if (region && zone && regionOfZone(zone) !== region)
    throw new UsageError(`--zone ${zone} is not in --region ${region}`);
}

/** --compute-endpoint, else gcloud's CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE, in the form the client takes. */
function computeEndpoint(values: TargetValues, env: NodeJS.ProcessEnv): string | null {
  const flag = str(values['compute-endpoint']);
  const override = env.CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE?.trim();
  const [url, from] = flag
    ? [flag, '--compute-endpoint']
    : override
      ? [override, 'CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE']
      : [null, ''];
  if (url === null) return null;
  const r = computeEndpointOf(url, from);
  if ('error' in r) throw new UsageError(r.error);
  return r.endpoint;
}

function masterName(values: TargetValues, env: NodeJS.ProcessEnv, extras: TargetExtras = {}): string {
  const i = extras.instance;
  const m = pickMasterName(
    str(values['master-name']),
    env.KUBE_GCE_INSTANCE_PREFIX,
    i ? masterNameOfInstance(i.name, i.clusterName) : null,
  );
  check(masterNameProblem(m));
  return m.value;
}

/** Where region and zone may come from, for the message that asks for one. */
const REGION_SOURCES =
  '--region, --zone, CLOUDSDK_COMPUTE_REGION, KUBE_GCE_ZONE, CLOUDSDK_COMPUTE_ZONE or the gcloud configuration';

/**
 * The target from flags, the environment (etcdctl's, gcloud's, kube-up's) and
 * the active gcloud configuration. Synchronous: the metadata server, asked
 * only when nothing else names the project, is resolveTargetAsync's.
 */
export function resolveTarget(
  values: TargetValues,
  env: NodeJS.ProcessEnv = process.env,
  extras: TargetExtras = {},
): Target {
  const timeout = parseTimeout(str(values.timeout));
  const prefix = str(values['etcd-prefix']) ?? '/registry';
  if (!prefix.startsWith('/')) throw new UsageError(`--etcd-prefix: '${prefix}' must start with /`);
  const apiserverPort = parsePort(str(values['apiserver-port']), '--apiserver-port');
  if (str(values['master-name'])) masterName(values, env);
  const labDir = str(values['lab-dir']) ?? (values.lab ? defaultLabDir(env) : undefined);
  if (labDir) {
    for (const f of ['project', 'region', 'compute-endpoint', 'etcd-endpoints', 'apiserver-port'] as const) {
      if (str(values[f])) throw new UsageError(`--${f} cannot be combined with --lab/--lab-dir`);
    }
    // --zone stays allowed: for add/remove it is the replica's zone.
    const zone = str(values.zone);
    if (zone) check(zoneProblem({ value: zone, from: '--zone' }));
    return labTarget(labDir, { etcdPrefix: prefix, stateDir: stateDir(env), callTimeoutMs: timeout });
  }

  const master = masterName(values, env, extras);
  // On one of this cluster's replicas (its metadata server named it): its zone is the cluster's region's.
  const onReplica = extras.instance && isReplicaName(master, extras.instance.name) ? extras.instance : null;
  const loc = location(values, env, extras, onReplica?.zone ?? null);
  const project = loc.project?.value ?? null;
  const region = loc.region?.value ?? null;
  const endpointsFlag = str(values['etcd-endpoints']) ?? env.ETCDCTL_ENDPOINTS;
  const tls = tlsFrom(values, env);
  const compute = computeEndpoint(values, env);
  // Flags (or gcloud's endpoint override) ask for GCE; so does a project found
  // anywhere when no etcd endpoints are given. Endpoints alone stay etcd-only,
  // as for an operator on a replica without Compute credentials.
  const wantsGce = explicitGce(values, env) || (!endpointsFlag && project !== null);
  if (wantsGce) checkLocation(loc, values);
  if (wantsGce && !project) {
    throw new UsageError(
      '--project is required for GCE (or CLOUDSDK_CORE_PROJECT, GOOGLE_CLOUD_PROJECT, the gcloud configuration' +
        (extras.metadataError ? `; ${extras.metadataError}` : '') +
        ')',
    );
  }
  if (wantsGce && !region)
    throw new UsageError(`--region is required for GCE (e.g. us-central1), or a zone: ${REGION_SOURCES}`);
  const eventsFlag = str(values['events-endpoints']);
  let main: EtcdTarget | null = null;
  let events: EtcdTarget | null = null;
  let vantage: ReplicaVantage | null = null;
  if (endpointsFlag) {
    main = { endpoints: parseEndpoints(endpointsFlag, '--etcd-endpoints'), tls };
    events = {
      endpoints: eventsFlag
        ? parseEndpoints(eventsFlag, '--events-endpoints')
        : eventsFromMain(main.endpoints),
      tls: null,
    };
  } else if (onReplica && extras.deriveEtcd) {
    // On a replica: its own members at 127.0.0.1, the others seen from them.
    ({ main, events, vantage } = replicaEtcd(onReplica, tls, extras.srvDir ?? KUBE_UP_SRV_DIR, eventsFlag));
  } else if (wantsGce && tls && extras.deriveEtcd) {
    // From a bastion: each member at its VM's internal IP on kube-up's client
    // ports (main https 2379, events http 4002), learned from Compute.
    main = { endpoints: [], tls };
    events = { endpoints: eventsFlag ? parseEndpoints(eventsFlag, '--events-endpoints') : [], tls: null };
  } else if (eventsFlag) {
    events = { endpoints: parseEndpoints(eventsFlag, '--events-endpoints'), tls: null };
  }
  if (!wantsGce && !main) {
    throw new UsageError(
      'no target: pass --lab, --lab-dir DIR, --project P --region R (or a gcloud configuration naming them), or --etcd-endpoints URLS' +
        (extras.metadataError ? ` (${extras.metadataError})` : ''),
    );
  }
  return {
    project,
    region,
    masterName: master,
    compute: wantsGce ? { endpoint: compute } : null,
    etcd: { main, events },
    etcdPrefix: prefix,
    apiserverPort: apiserverPort ?? APISERVER_PORT,
    lab: null,
    stateDir: stateDir(env),
    callTimeoutMs: timeout,
    ...(vantage ? { vantage } : {}),
  };
}

/**
 * Whether nothing but the metadata server could name the project: none from
 * flags, environment or configuration, and a GCE target is wanted or nothing
 * else is given.
 */
function projectOnlyFromMetadata(values: TargetValues, env: NodeJS.ProcessEnv): boolean {
  if (isLabTarget(values)) return false;
  if (!explicitGce(values, env) && etcdEndpointsGiven(values, env)) return false;
  return (
    pickLocation({ flags: { project: str(values.project) }, env, config: readGcloudConfig(env) }).project ===
    null
  );
}

/**
 * resolveTarget, with what the GCE metadata server says, asked only on a GCE
 * VM (or with GCE_METADATA_HOST), within about a second, when nothing else
 * names the project or, for status and the console (deriveEtcd), when no etcd
 * endpoints are given: the project, and who this VM is. On one of the
 * cluster's replicas its zone gives the region and its name the master name;
 * status and the console then observe from there (ReplicaVantage), and what
 * the replica could not give is said on stderr, one line each.
 */
export async function resolveTargetAsync(
  values: TargetValues,
  env: NodeJS.ProcessEnv = process.env,
  o: {
    metadataTimeoutMs?: number;
    productNameFile?: string;
    deriveEtcd?: boolean;
    srvDir?: string;
    warn?: (line: string) => void;
  } = {},
): Promise<Target> {
  const extras: TargetExtras = {
    deriveEtcd: o.deriveEtcd ?? false,
    ...(o.srvDir ? { srvDir: o.srvDir } : {}),
  };
  const needProject = projectOnlyFromMetadata(values, env);
  const wantIdentity = Boolean(o.deriveEtcd) && !isLabTarget(values) && !etcdEndpointsGiven(values, env);
  if (needProject || wantIdentity) {
    const server = metadataServerOf(env, o.productNameFile);
    if (server) {
      // One round: the project, and who this VM is (a replica's zone and master name serve the operations too).
      const id = await fetchMetadataIdentity(server, o.metadataTimeoutMs);
      extras.instance = id.instance;
      if ('project' in id.project) extras.metadataProject = id.project.project;
      else extras.metadataError = id.project.error;
    }
  }
  const target = resolveTarget(values, env, extras);
  const warn = o.warn ?? ((line: string) => process.stderr.write(`kube-ha: ${line}\n`));
  for (const note of target.vantage?.notes ?? []) warn(note);
  return target;
}
