// Target flags shared by status, the console and the operator commands, with
// etcdctl's and gcloud's environment variables as fallbacks.
import { existsSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { readLabApiserverPort, readLabContext } from '../lab/context.js';
import { APISERVER_PORT } from '../net/apiserver.js';
import type { EtcdTarget, Target, TlsFiles } from '../sources/target.js';
import { defaultLabDir, stateDir } from './paths.js';
import { UsageError } from './usage.js';

export const TARGET_OPTIONS = {
  lab: { type: 'boolean' },
  'lab-dir': { type: 'string' },
  project: { type: 'string' },
  region: { type: 'string' },
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

export function resolveTarget(values: TargetValues, env: NodeJS.ProcessEnv = process.env): Target {
  const timeout = parseTimeout(str(values.timeout));
  const prefix = str(values['etcd-prefix']) ?? '/registry';
  if (!prefix.startsWith('/')) throw new UsageError(`--etcd-prefix: '${prefix}' must start with /`);
  const apiserverPort = parsePort(str(values['apiserver-port']), '--apiserver-port');
  const labDir = str(values['lab-dir']) ?? (values.lab ? defaultLabDir(env) : undefined);
  if (labDir) {
    for (const f of ['project', 'region', 'compute-endpoint', 'etcd-endpoints', 'apiserver-port'] as const) {
      if (str(values[f])) throw new UsageError(`--${f} cannot be combined with --lab/--lab-dir`);
    }
    const ctx = readLabContext(labDir);
    return {
      project: ctx.project,
      region: ctx.region,
      masterName: ctx.masterName,
      compute: { endpoint: ctx.computeEndpoint },
      etcd: {
        main: {
          endpoints: ctx.etcd.main.endpoints,
          tls: {
            caFile: ctx.etcd.main.caFile,
            certFile: ctx.etcd.main.certFile,
            keyFile: ctx.etcd.main.keyFile,
          },
        },
        events: { endpoints: ctx.etcd.events.endpoints, tls: null },
      },
      etcdPrefix: prefix,
      // The lab's own port: 443 when it could bind it, else 6443.
      apiserverPort: readLabApiserverPort(labDir),
      lab: { dir: labDir, controlURL: ctx.controlURL },
      stateDir: stateDir(env),
      callTimeoutMs: timeout,
    };
  }

  const project = str(values.project) ?? env.CLOUDSDK_CORE_PROJECT ?? env.GOOGLE_CLOUD_PROJECT ?? null;
  const region = str(values.region) ?? env.CLOUDSDK_COMPUTE_REGION ?? null;
  const endpointsFlag = str(values['etcd-endpoints']) ?? env.ETCDCTL_ENDPOINTS;
  const main: EtcdTarget | null = endpointsFlag
    ? { endpoints: parseEndpoints(endpointsFlag, '--etcd-endpoints'), tls: tlsFrom(values, env) }
    : null;
  const eventsFlag = str(values['events-endpoints']);
  const events: EtcdTarget | null = eventsFlag
    ? { endpoints: parseEndpoints(eventsFlag, '--events-endpoints'), tls: null }
    : main
      ? { endpoints: eventsFromMain(main.endpoints), tls: null }
      : null;
  const computeEndpoint = str(values['compute-endpoint']) ?? null;
  if (computeEndpoint) {
    try {
      new URL(computeEndpoint);
    } catch {
      throw new UsageError(`--compute-endpoint: '${computeEndpoint}' is not a URL`);
    }
  }
  const wantsGce = Boolean(str(values.project) || str(values.region) || computeEndpoint);
  if (wantsGce && !project) throw new UsageError('--project is required for GCE (or CLOUDSDK_CORE_PROJECT)');
  if (wantsGce && !region) throw new UsageError('--region is required for GCE (e.g. us-central1)');
  if (!wantsGce && !main) {
    throw new UsageError(
      'no target: pass --lab, --lab-dir DIR, --project P --region R, or --etcd-endpoints URLS',
    );
  }
  return {
    project,
    region,
    masterName: str(values['master-name']) ?? 'kubernetes-master',
    compute: wantsGce ? { endpoint: computeEndpoint } : null,
    etcd: { main, events },
    etcdPrefix: prefix,
    apiserverPort: apiserverPort ?? APISERVER_PORT,
    lab: null,
    stateDir: stateDir(env),
    callTimeoutMs: timeout,
  };
}
