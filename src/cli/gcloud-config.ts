// Reads what gcloud would: the active configuration's properties under
// $CLOUDSDK_CONFIG (default ~/.config/gcloud), and, on a GCE VM only, the
// project from the metadata server. The parsing is pure (src/domain/gcloud-config.ts).
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  activeConfigName,
  CONFIG_NAME,
  type GcloudProperties,
  gcloudProperties,
  parseIni,
} from '../domain/gcloud-config.js';
import { UsageError } from './usage.js';

export function gcloudConfigDir(env: NodeJS.ProcessEnv): string {
  // HOME from the given environment, so that a caller's (or a test's) env is the whole input.
  return env.CLOUDSDK_CONFIG || join(env.HOME || homedir(), '.config', 'gcloud');
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * The active configuration and its properties; null when it has no file
 * (gcloud never set up here). A configuration name that is not one of
 * gcloud's is an error: it would name a file elsewhere.
 */
export function readGcloudConfig(
  env: NodeJS.ProcessEnv,
): { name: string; path: string; props: GcloudProperties } | null {
  const dir = gcloudConfigDir(env);
  const name = activeConfigName(env.CLOUDSDK_ACTIVE_CONFIG_NAME, readOrNull(join(dir, 'active_config')));
  if (!CONFIG_NAME.test(name)) {
    const from = env.CLOUDSDK_ACTIVE_CONFIG_NAME?.trim()
      ? 'CLOUDSDK_ACTIVE_CONFIG_NAME'
      : join(dir, 'active_config');
    throw new UsageError(`${from}: '${name}' is not a gcloud configuration name`);
  }
  const path = join(dir, 'configurations', `config_${name}`);
  const text = readOrNull(path);
  return text === null ? null : { name, path, props: gcloudProperties(parseIni(text)) };
}

/** The default metadata server, as Google's libraries address it. */
export const METADATA_IP = '169.254.169.254';
export const METADATA_TIMEOUT_MS = 1000;

/**
 * Whether to ask a metadata server at all: GCE_METADATA_HOST names one (as
 * Google's libraries honour it), or the machine says it is a GCE VM. Anywhere
 * else 169.254.169.254 is someone else's address, or nothing.
 */
export function metadataServerOf(
  env: NodeJS.ProcessEnv,
  productNameFile = '/sys/class/dmi/id/product_name',
): string | null {
  const host = env.GCE_METADATA_HOST?.trim();
  if (host) return host;
  const product = readOrNull(productNameFile)?.trim() ?? '';
  return product.startsWith('Google') ? METADATA_IP : null;
}

/** `HOST[:PORT]` or a URL, as GCE_METADATA_HOST may give it, as a base URL; null if it is neither. */
function metadataBase(host: string): URL | null {
  try {
    return new URL(/^https?:\/\//.test(host) ? host : `http://${host}`);
  } catch {
    return null;
  }
}

/**
 * One value from the metadata server at `host` (`HOST[:PORT]` or a URL),
 * e.g. `project/project-id`, or why not; bounded by `timeoutMs`. The answer
 * must carry `Metadata-Flavor: Google`, as a real metadata server's does.
 */
export function fetchMetadataValue(
  host: string,
  path: string,
  timeoutMs = METADATA_TIMEOUT_MS,
  maxBytes = 1024,
): Promise<{ value: string } | { error: string; status?: number }> {
  const base = metadataBase(host);
  if (!base) return Promise.resolve({ error: `GCE_METADATA_HOST: '${host}' is not HOST[:PORT]` });
  const url = new URL(`/computeMetadata/v1/${path}`, base);
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: { value: string } | { error: string; status?: number }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const req = request(url, { headers: { 'Metadata-Flavor': 'Google' }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > maxBytes)
          finish({ error: `the metadata server answered more than ${path} can hold` });
      });
      res.on('end', () => {
        if (res.headers['metadata-flavor'] !== 'Google')
          return finish({ error: `${url.host} is not a GCE metadata server (no Metadata-Flavor: Google)` });
        if (res.statusCode !== 200)
          return finish({
            error: `the metadata server answered HTTP ${res.statusCode} for ${path}`,
            status: res.statusCode ?? 0,
          });
        finish({ value: body.trim() });
      });
      res.on('error', (err) => finish({ error: err.message }));
    });
    const timer = setTimeout(
      () => finish({ error: `the metadata server at ${url.host} did not answer in ${timeoutMs} ms` }),
      timeoutMs,
    );
    req.on('error', (err) => finish({ error: `the metadata server at ${url.host}: ${err.message}` }));
    req.end();
  });
}

/** The project ID from the metadata server at `host`, or why not. */
export async function fetchMetadataProject(
  host: string,
  timeoutMs = METADATA_TIMEOUT_MS,
): Promise<{ project: string } | { error: string }> {
  const r = await fetchMetadataValue(host, 'project/project-id', timeoutMs);
  if ('error' in r) return { error: r.error };
  return r.value ? { project: r.value } : { error: 'the metadata server named no project' };
}

/** Who and where this VM is, as its metadata server says. */
export interface MetadataIdentity {
  project: { project: string } | { error: string };
  /** null when the metadata server did not name the instance (then nothing below is known). */
  instance: {
    name: string;
    /** The zone's name (the server says `projects/<number>/zones/<zone>`). */
    zone: string | null;
    /** The `cluster-name` attribute kube-up sets on its masters (CLUSTER_NAME, default INSTANCE_PREFIX). */
    clusterName: string | null;
  } | null;
}

/** Project, instance name, zone and cluster-name, asked at once; the whole within `timeoutMs`. */
export async function fetchMetadataIdentity(
  host: string,
  timeoutMs = METADATA_TIMEOUT_MS,
): Promise<MetadataIdentity> {
  const [project, name, zone, clusterName] = await Promise.all([
    fetchMetadataProject(host, timeoutMs),
    fetchMetadataValue(host, 'instance/name', timeoutMs),
    fetchMetadataValue(host, 'instance/zone', timeoutMs),
    fetchMetadataValue(host, 'instance/attributes/cluster-name', timeoutMs),
  ]);
  const value = (r: { value: string } | { error: string }) => ('value' in r && r.value ? r.value : null);
  const instance = value(name);
  const zonePath = value(zone);
  return {
    project,
    instance: instance
      ? {
          name: instance,
          zone: zonePath ? (zonePath.split('/').pop() ?? null) : null,
          clusterName: value(clusterName),
        }
      : null,
  };
}
