// A GCE metadata server answering as one lab instance, for `kube-ha lab ssh`:
// the paths Google's client libraries and kube-ha ask, with GCE's rules
// (https://cloud.google.com/compute/docs/metadata/querying-metadata):
// requests need `Metadata-Flavor: Google` (403 without it, or with
// X-Forwarded-For), answers carry `Metadata-Flavor: Google`, directories end
// in `/` and list their entries, `?recursive=true` gives a directory as JSON,
// `?alt=json` a value as JSON. The instance is read from the lab's Compute
// API on each request (briefly cached), so metadata set later is seen, as on GCE.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { lastSegment } from '../domain/names.js';
import { projectNumber } from './compute/ids.js';

/** The fields of a Compute instance (REST JSON) the metadata server answers from. */
export interface MetadataInstance {
  id?: string;
  name: string;
  zone: string;
  machineType?: string;
  tags?: { items?: string[] };
  networkInterfaces?: {
    networkIP?: string;
    network?: string;
    accessConfigs?: { natIP?: string }[];
  }[];
  metadata?: { items?: { key: string; value?: string }[] };
  serviceAccounts?: { email?: string; scopes?: string[] }[];
}

export interface MetadataServerOptions {
  project: string;
  /** The instance as Compute has it now; rejects when it cannot be read. */
  instance(): Promise<MetadataInstance>;
  /** How long one read of the instance is reused (default 1 s). */
  cacheMs?: number;
}

/** A metadata tree: a leaf is a string, a directory an object. */
type Tree = { [key: string]: Tree | string };

/** The metadata tree of an instance, as GCE lays it out (the parts the lab can know). */
export function metadataTree(project: string, inst: MetadataInstance): Tree {
  const num = projectNumber(project);
  const zone = lastSegment(inst.zone);
  const attributes: Tree = {};
  for (const item of inst.metadata?.items ?? []) attributes[item.key] = item.value ?? '';
  const nics: Tree = {};
  (inst.networkInterfaces ?? []).forEach((n, i) => {
    const access: Tree = {};
    (n.accessConfigs ?? []).forEach((a, j) => {
      access[String(j)] = { 'external-ip': a.natIP ?? '' };
    });
    nics[String(i)] = {
      ip: n.networkIP ?? '',
      network: `projects/${num}/networks/${lastSegment(n.network ?? 'default')}`,
      'access-configs': access,
    };
  });
  const accounts: Tree = {};
  for (const sa of inst.serviceAccounts ?? []) {
    const entry: Tree = { email: sa.email ?? '', scopes: (sa.scopes ?? []).join('\n') };
    accounts.default = entry;
    if (sa.email) accounts[sa.email] = entry;
  }
  return {
    project: { 'project-id': project, 'numeric-project-id': num, attributes: {} },
    instance: {
      id: inst.id ?? '',
      name: inst.name,
      hostname: `${inst.name}.${zone}.c.${project}.internal`,
      zone: `projects/${num}/zones/${zone}`,
      'machine-type': `projects/${num}/machineTypes/${lastSegment(inst.machineType ?? '')}`,
      tags: JSON.stringify(inst.tags?.items ?? []),
      attributes,
      'network-interfaces': nics,
      'service-accounts': accounts,
    },
  };
}

/** One answer: status, body, content type, and a Location for a redirect. */
export interface Reply {
  status: number;
  body: string;
  type?: string;
  location?: string;
}

function send(res: ServerResponse, r: Reply): void {
  res.writeHead(r.status, {
    'Metadata-Flavor': 'Google',
    'Content-Type': r.type ?? 'application/text',
    Server: 'Metadata Server for VM',
    'X-XSS-Protection': '0',
    'X-Frame-Options': 'SAMEORIGIN',
    ...(r.location ? { Location: r.location } : {}),
  });
  res.end(r.body);
}

const NOT_FOUND: Reply = { status: 404, body: 'Not Found\n', type: 'text/html' };

function listing(dir: Tree): string {
  return Object.entries(dir)
    .map(([k, v]) => (typeof v === 'string' ? k : `${k}/`))
    .join('\n')
    .concat('\n');
}

/**
 * JSON of a directory, as `?recursive=true` gives it: GCE's own keys in
 * camelCase (`network-interfaces` -> `networkInterfaces`), attribute keys as
 * they were set.
 */
function recursiveJson(dir: Tree | string, userKeys = false): unknown {
  if (typeof dir === 'string') return dir;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(dir)) {
    const key = userKeys ? k : k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    out[key] = recursiveJson(v, k === 'attributes');
  }
  return out;
}

/** The answer to one request, from a tree. Pure. */
export function reply(
  method: string | undefined,
  path: string,
  headers: IncomingMessage['headers'],
  tree: Tree,
): Reply {
  const url = new URL(path, 'http://metadata.google.internal');
  if (method !== 'GET' && method !== 'HEAD') return { status: 405, body: 'Method Not Allowed\n' };
  // The root answers without the header: Google's libraries ping it to detect GCE.
  if (url.pathname === '/') return { status: 200, body: 'computeMetadata/\n' };
  if (headers['x-forwarded-for'] !== undefined)
    return {
      status: 403,
      body: 'Metadata requests must not be forwarded (X-Forwarded-For)\n',
      type: 'text/html',
    };
  if (headers['metadata-flavor'] !== 'Google')
    return {
      status: 403,
      body: 'Your client does not have permission to get URL from this server. Missing Metadata-Flavor:Google header.\n',
      type: 'text/html',
    };
  const prefix = '/computeMetadata/v1/';
  if (url.pathname === '/computeMetadata/') return { status: 200, body: 'v1/\n' };
  if (!url.pathname.startsWith(prefix)) return NOT_FOUND;
  const rest = url.pathname.slice(prefix.length);
  const wantsDir = rest === '' || rest.endsWith('/');
  const parts = rest.split('/').filter(Boolean);
  let node: Tree | string = tree;
  for (const p of parts) {
    if (typeof node === 'string' || !(p in node)) return NOT_FOUND;
    node = node[p]!;
  }
  if (typeof node === 'string') {
    if (wantsDir) return NOT_FOUND;
    return url.searchParams.get('alt') === 'json'
      ? { status: 200, body: JSON.stringify(node), type: 'application/json' }
      : { status: 200, body: node };
  }
  // GCE redirects a directory asked without its slash.
  if (!wantsDir) return { status: 301, body: '', location: `${url.pathname}/${url.search}` };
  if (url.searchParams.get('recursive') === 'true')
    return {
      status: 200,
      body: JSON.stringify(recursiveJson(node, parts.at(-1) === 'attributes')),
      type: 'application/json',
    };
  return { status: 200, body: listing(node) };
}

export interface RunningMetadataServer {
  server: Server;
  /** host:port, as GCE_METADATA_HOST takes it. */
  host: string;
  close(): Promise<void>;
}

/** Starts the server on host:port (port 0: any free one). */
export async function startMetadataServer(
  opts: MetadataServerOptions,
  listen: { host: string; port?: number },
): Promise<RunningMetadataServer> {
  const cacheMs = opts.cacheMs ?? 1000;
  let cached: { at: number; tree: Promise<Tree> } | null = null;
  const tree = (): Promise<Tree> => {
    if (!cached || Date.now() - cached.at > cacheMs) {
      const t = opts.instance().then((inst) => metadataTree(opts.project, inst));
      cached = { at: Date.now(), tree: t };
      t.catch(() => {
        cached = null;
      });
    }
    return cached.tree;
  };
  const server = createServer((req, res) => {
    tree().then(
      (t) => send(res, reply(req.method, req.url ?? '/', req.headers, t)),
      (err) =>
        send(res, { status: 503, body: `the lab's Compute API did not say this instance: ${String(err)}\n` }),
    );
  });
  // A client that never finishes its request holds nothing for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    server,
    host: `${listen.host}:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
