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

/**
 * The project ID from the metadata server at `host` (`HOST[:PORT]` or a URL),
 * or why not; bounded by `timeoutMs`. The answer must carry
 * `Metadata-Flavor: Google`, as a real metadata server's does.
 */
export function fetchMetadataProject(
  host: string,
  timeoutMs = METADATA_TIMEOUT_MS,
): Promise<{ project: string } | { error: string }> {
  let url: URL;
  try {
    url = new URL(
      '/computeMetadata/v1/project/project-id',
      /^https?:\/\//.test(host) ? host : `http://${host}`,
    );
  } catch {
    return Promise.resolve({ error: `GCE_METADATA_HOST: '${host}' is not HOST[:PORT]` });
  }
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: { project: string } | { error: string }) => {
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
        if (body.length > 1024) finish({ error: 'the metadata server answered more than a project ID' });
      });
      res.on('end', () => {
        if (res.statusCode !== 200)
          return finish({ error: `the metadata server answered HTTP ${res.statusCode}` });
        if (res.headers['metadata-flavor'] !== 'Google')
          return finish({ error: `${url.host} is not a GCE metadata server (no Metadata-Flavor: Google)` });
        const project = body.trim();
        finish(project ? { project } : { error: 'the metadata server named no project' });
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
