// The Compute API clients kube-ha uses, against real GCE (Application Default
// Credentials) or the lab's plain-HTTP server on loopback. Loaded lazily: the
// client library costs seconds and ~100 MB, and must stay off startup paths.
// Only the clients used are imported (not the package index, which loads all
// ~120 of them); the package is pinned, so their paths are stable. They load
// the trimmed API definition the build makes (scripts/trim-compute-protos.mjs).

import { existsSync, readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { fileURLToPath } from 'node:url';
import type {
  AddressesClient,
  DisksClient,
  ForwardingRulesClient,
  GlobalOperationsClient,
  ImagesClient,
  InstancesClient,
  RegionOperationsClient,
  RegionsClient,
  TargetPoolsClient,
  ZoneOperationsClient,
  ZonesClient,
} from '@google-cloud/compute';
import type { ClientOptions } from 'google-gax';
import { type GceOperation, toGceApiError } from './operations.js';

export interface ComputeClientOptions {
  /**
   * null: real GCE. Otherwise another Compute endpoint (gcloud's
   * CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE): plain http on a loopback address
   * is an emulator (the lab), asked without credentials, as Google's libraries
   * treat their *_EMULATOR_HOST variables; anything else gets the credentials.
   */
  endpoint: string | null;
  /**
   * gcloud's CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: a file holding an OAuth access
   * token, sent instead of Application Default Credentials (and to an
   * emulator too, as gcloud sends it to any endpoint). Default: from the environment.
   */
  accessTokenFile?: string | null;
  /** Per-request timeout (the library ignores per-call timeouts in REST mode; this one is the transport's). */
  timeoutMs: number;
}

/** The legacy health check resource (REST JSON of compute#httpHealthCheck). */
export interface HttpHealthCheck {
  kind?: string;
  id?: string;
  creationTimestamp?: string;
  name?: string;
  description?: string;
  host?: string;
  requestPath?: string;
  port?: number;
  checkIntervalSec?: number;
  timeoutSec?: number;
  unhealthyThreshold?: number;
  healthyThreshold?: number;
  selfLink?: string;
}

/** What `insert`/`delete` resolve to, shaped like the generated clients' first tuple element. */
export interface OperationHandle {
  latestResponse: GceOperation;
  name: string;
  done: boolean;
}

/** Whatever can send an authenticated request: google-auth-library's GoogleAuth or PassThroughClient. */
interface RequestSender {
  request(opts: {
    url: string;
    method: string;
    data?: unknown;
    responseType: 'json';
  }): Promise<{ data: unknown }>;
}

/**
 * The legacy global httpHealthChecks API, the only health checks target pools
 * accept. @google-cloud/compute 6.15.0 no longer ships a client for it, so
 * this one speaks its REST paths directly, with the same auth and timeout.
 */
export class HttpHealthChecksClient {
  constructor(
    private readonly base: string,
    private readonly auth: RequestSender,
  ) {}

  private async call<T>(
    method: string,
    path: string,
    query: Record<string, string | undefined>,
    data?: unknown,
  ): Promise<T> {
    const qs = Object.entries(query)
      .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join('&');
    try {
      const res = await this.auth.request({
        url: `${this.base}/compute/v1/${path}${qs ? `?${qs}` : ''}`,
        method,
        ...(data === undefined ? {} : { data }),
        responseType: 'json',
      });
      return res.data as T;
    } catch (err) {
      throw toGceApiError(err);
    }
  }

  private handle(op: GceOperation): [OperationHandle] {
    return [{ latestResponse: op, name: op.name ?? '', done: op.status === 'DONE' }];
  }

  async get(r: { project: string; httpHealthCheck: string }): Promise<[HttpHealthCheck]> {
    return [
      await this.call(
        'GET',
        `projects/${enc(r.project)}/global/httpHealthChecks/${enc(r.httpHealthCheck)}`,
        {},
      ),
    ];
  }

  /** Every page, like the generated clients' `list` with autoPaginate. */
  async list(r: {
    project: string;
    filter?: string;
    orderBy?: string;
    maxResults?: number;
  }): Promise<[HttpHealthCheck[]]> {
    const out: HttpHealthCheck[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.call<{ items?: HttpHealthCheck[]; nextPageToken?: string }>(
        'GET',
        `projects/${enc(r.project)}/global/httpHealthChecks`,
        { filter: r.filter, orderBy: r.orderBy, maxResults: r.maxResults?.toString(), pageToken },
      );
      out.push(...(page.items ?? []));
      pageToken = page.nextPageToken || undefined;
    } while (pageToken);
    return [out];
  }

  async insert(r: {
    project: string;
    httpHealthCheckResource: Omit<HttpHealthCheck, 'kind' | 'id' | 'selfLink'>;
    requestId?: string;
  }) {
    const op = await this.call<GceOperation>(
      'POST',
      `projects/${enc(r.project)}/global/httpHealthChecks`,
      { requestId: r.requestId },
      r.httpHealthCheckResource,
    );
    return this.handle(op);
  }

  async delete(r: { project: string; httpHealthCheck: string; requestId?: string }) {
    const op = await this.call<GceOperation>(
      'DELETE',
      `projects/${enc(r.project)}/global/httpHealthChecks/${enc(r.httpHealthCheck)}`,
      { requestId: r.requestId },
    );
    return this.handle(op);
  }

  async close(): Promise<void> {}
}

/** Plain http on a loopback address: an emulator such as the lab (no credentials). */
export function isEmulator(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return (
    url.protocol === 'http:' && (host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host))
  );
}

function readAccessToken(file: string): string {
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new Error(
      `CLOUDSDK_AUTH_ACCESS_TOKEN_FILE=${file} cannot be read: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (!token) throw new Error(`CLOUDSDK_AUTH_ACCESS_TOKEN_FILE=${file} is empty`);
  return token;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

export interface ComputeClients {
  instances: InstancesClient;
  disks: DisksClient;
  addresses: AddressesClient;
  targetPools: TargetPoolsClient;
  forwardingRules: ForwardingRulesClient;
  httpHealthChecks: HttpHealthChecksClient;
  zones: ZonesClient;
  regions: RegionsClient;
  zoneOperations: ZoneOperationsClient;
  regionOperations: RegionOperationsClient;
  globalOperations: GlobalOperationsClient;
  /** A clone's boot image: does the source's still exist, else its family's current one. */
  images: ImagesClient;
  /** Closes every client made so far; using one afterwards throws. */
  close(): Promise<void>;
}

/**
 * Puts the build's trimmed Compute definition (dist/gce/compute-protos-<version>.json,
 * made by scripts/trim-compute-protos.mjs from this very package version: the
 * methods kube-ha calls) in Node's require cache in the place of the
 * package's protos.json, which every generated client requires: parsing and
 * hashing the full 11.7 MB one cost ~1 s of CPU and ~75 MB per process.
 * Returns the file used, or null (no build, or protos.json already loaded).
 * The commands, run from the build, call it; code run from the sources (the
 * tests, whose lab conformance checks call methods kube-ha does not) gets the
 * full definition unless it calls it first.
 */
export function loadTrimmedComputeDefinition(): string | null {
  if (trimmedInUse !== undefined) return trimmedInUse;
  const require = createRequire(import.meta.url);
  const full = require.resolve('@google-cloud/compute/build/protos/protos.json');
  const { version } = require('@google-cloud/compute/package.json') as { version: string };
  // From src/gce/ and dist/gce/ alike (and from a bundle in dist/cli/): the project root is two up.
  const trimmed = new URL(`../../dist/gce/compute-protos-${version}.json`, import.meta.url);
  trimmedInUse = null;
  if (require.cache[full] || !existsSync(trimmed)) return null;
  const m = new Module(full);
  m.filename = full;
  m.loaded = true;
  m.exports = JSON.parse(readFileSync(trimmed, 'utf8'));
  require.cache[full] = m;
  trimmedInUse = fileURLToPath(trimmed);
  return trimmedInUse;
}
let trimmedInUse: string | null | undefined;
/** dist/ (the modules tsc writes, and the bundles in dist/bundle/, status-gce.cjs included), not src/. */
const RUNNING_FROM_BUILD = /\/dist\/[^/]+\/[^/]+\.c?js$/.test(import.meta.url);

/**
 * module.exports of a CommonJS module from import(): Node's namespace has it
 * as `default` beside the named exports it detects; the bundle's
 * (scripts/bundle.mjs) has only `default`.
 */
function commonJs<T>(ns: T): T {
  return (ns as { default?: T }).default ?? ns;
}

export async function createComputeClients(o: ComputeClientOptions): Promise<ComputeClients> {
  if (!(o.timeoutMs > 0)) throw new Error('createComputeClients: timeoutMs must be positive');
  if (RUNNING_FROM_BUILD) loadTrimmedComputeDefinition();
  const [gax, inst, disk, addr, tp, fr, zone, region, zop, rop, gop, img] = await Promise.all([
    import('google-gax').then(commonJs),
    import('@google-cloud/compute/build/src/v1/instances_client.js').then(commonJs),
    import('@google-cloud/compute/build/src/v1/disks_client.js').then(commonJs),
    import('@google-cloud/compute/build/src/v1/addresses_client.js').then(commonJs),
    import('@google-cloud/compute/build/src/v1/target_pools_client.js').then(commonJs),
    import('@google-cloud/compute/build/src/v1/forwarding_rules_client.js').then(commonJs),
    import('@google-cloud/compute/build/src/v1/zones_client.js').then(commonJs),
    import('@google-cloud/compute/build/src/v1/regions_client.js').then(commonJs),
    import('@google-cloud/compute/build/src/v1/zone_operations_client.js').then(commonJs),
    import('@google-cloud/compute/build/src/v1/region_operations_client.js').then(commonJs),
    import('@google-cloud/compute/build/src/v1/global_operations_client.js').then(commonJs),
    import('@google-cloud/compute/build/src/v1/images_client.js').then(commonJs),
  ]);
  const transporterOptions = { timeout: o.timeoutMs };
  const tokenFile =
    o.accessTokenFile === undefined
      ? (process.env.CLOUDSDK_AUTH_ACCESS_TOKEN_FILE ?? null)
      : o.accessTokenFile;
  let url: URL | null = null;
  if (o.endpoint !== null) {
    try {
      url = new URL(o.endpoint);
    } catch {
      throw new Error(`not a Compute endpoint URL: ${o.endpoint}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new Error(`Compute endpoint must be http(s): ${o.endpoint}`);
  }
  let authClient: unknown;
  if (tokenFile) {
    const token = readAccessToken(tokenFile);
    const client = new gax.googleAuthLibrary.OAuth2Client({ transporterOptions });
    client.setCredentials({ access_token: token });
    authClient = client;
  } else if (url && isEmulator(url)) {
    // No credentials: without an auth client the library rejects *and* raises an unhandled rejection.
    authClient = new gax.googleAuthLibrary.PassThroughClient({ transporterOptions });
  } else {
    // One GoogleAuth for all clients: one token cache, one transport timeout.
    authClient = new gax.GoogleAuth({
      scopes: ['https://www.googleapis.com/auth/cloud-platform'],
      clientOptions: { transporterOptions },
    });
  }
  const auth = authClient instanceof gax.GoogleAuth ? { auth: authClient } : { authClient };
  const sender = authClient as RequestSender;
  let opts: ClientOptions;
  let base: string;
  if (url === null) {
    opts = { fallback: true, ...auth } as ClientOptions;
    base = 'https://compute.googleapis.com';
  } else {
    const protocol = url.protocol.slice(0, -1);
    const port = url.port ? Number(url.port) : protocol === 'http' ? 80 : 443;
    opts = { apiEndpoint: url.hostname, port, protocol, fallback: true, ...auth } as ClientOptions;
    base = `${protocol}://${url.host}`;
  }
  // Each client gets its own copy of the options (the library writes defaults
  // into them), and is built on first use: every construction hashes the
  // API definition (~80 ms of CPU for the full one), and most callers need a few.
  const made: { close(): Promise<void> }[] = [];
  const lazy = <T extends { close(): Promise<void> }>(make: () => T): (() => T) => {
    let client: T | undefined;
    return () => {
      if (!client) {
        client = make();
        made.push(client);
      }
      return client;
    };
  };
  const c = <T extends { close(): Promise<void> }>(Ctor: new (o: ClientOptions) => T) =>
    lazy(() => new Ctor({ ...opts }));
  const get = {
    instances: c(inst.InstancesClient),
    disks: c(disk.DisksClient),
    addresses: c(addr.AddressesClient),
    targetPools: c(tp.TargetPoolsClient),
    forwardingRules: c(fr.ForwardingRulesClient),
    httpHealthChecks: lazy(() => new HttpHealthChecksClient(base, sender)),
    zones: c(zone.ZonesClient),
    regions: c(region.RegionsClient),
    zoneOperations: c(zop.ZoneOperationsClient),
    regionOperations: c(rop.RegionOperationsClient),
    globalOperations: c(gop.GlobalOperationsClient),
    images: c(img.ImagesClient),
  };
  let closed = false;
  const live =
    <T>(f: () => T) =>
    () => {
      if (closed) throw new Error('the Compute clients are closed');
      return f();
    };
  return {
    get instances() {
      return live(get.instances)();
    },
    get disks() {
      return live(get.disks)();
    },
    get addresses() {
      return live(get.addresses)();
    },
    get targetPools() {
      return live(get.targetPools)();
    },
    get forwardingRules() {
      return live(get.forwardingRules)();
    },
    get httpHealthChecks() {
      return live(get.httpHealthChecks)();
    },
    get zones() {
      return live(get.zones)();
    },
    get regions() {
      return live(get.regions)();
    },
    get zoneOperations() {
      return live(get.zoneOperations)();
    },
    get regionOperations() {
      return live(get.regionOperations)();
    },
    get globalOperations() {
      return live(get.globalOperations)();
    },
    get images() {
      return live(get.images)();
    },
    async close() {
      closed = true;
      await Promise.all(made.map((x) => x.close()));
    },
  };
}
