// The lab's Compute-API-compatible request handler. The lab owns the
// http.Server and passes requests in; anything outside /compute/v1/ goes to
// `fallthrough` (the lab's own /lab/... routes) or gets Google's 404.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isObject } from './body.js';
import { ServiceContext } from './context.js';
import { ApiError, type GoogleErrorBody, invalid, notFound, urlNotFound } from './errors.js';
import { type ComputeFault, type FaultHandle, FaultRegistry } from './faults.js';
import { parseFields, project as partialResponse } from './fields.js';
import { faultError } from './handlers/common.js';
import { defaultImages, deleteImage } from './handlers/images.js';
import { beginStop } from './handlers/instance-power.js';
import { Links, Locations, regionOfZone } from './names.js';
import { OperationEngine } from './operations.js';
import { ACTIONS, isMutation, matchRoute, ROUTE_APIS } from './routes.js';
import { validateBody } from './schema.js';
import { ComputeState } from './state.js';
import {
  type ComputeHooks,
  type ComputeTiming,
  DEFAULT_TIMING,
  type InstanceResource,
  type IPKind,
  type OperationResource,
} from './types.js';

export interface ComputeServiceOptions {
  /** Default 'kube-ha-lab'. Other projects in paths get 404, as an unknown project does. */
  project?: string;
  /** JSON file the state lives in; null (default) keeps it in memory only. */
  stateFile?: string | null;
  /** Zones besides the built-in ones (`<region>-<letter>`). */
  zones?: string[];
  timing?: Partial<ComputeTiming>;
  hooks?: Partial<ComputeHooks>;
  /** Handles requests outside /compute/v1/. */
  fallthrough?: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
}

export interface LoadBalancerView {
  forwardingRule: string;
  portRange: string | null;
  /** The rule has existed for lbReadyDelayMs. */
  programmed: boolean;
  members: { instance: string; networkIP: string | null; status: string | null; ready: boolean }[];
}

export interface ComputeService {
  readonly project: string;
  readonly state: ComputeState;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  setFault(fault: ComputeFault): FaultHandle;
  clearFaults(): void;
  listFaults(): ReturnType<FaultRegistry['list']>;
  /** What the forwarding rule holding `ip` sends traffic to, for the lab's load balancer. */
  loadBalancer(ip: string): LoadBalancerView | null;
  /** The internal IP of the instance with this name (the lab's stand-in for GCE's internal DNS); null if none or ambiguous. */
  resolveInstanceIP(name: string): string | null;
  /**
   * Calls onInstanceRunning for every RUNNING instance: after a restart of the
   * lab, the VMs are gone but GCE would still show them RUNNING. A failure is
   * reported, and the instance stays RUNNING (as a VM whose software broke would).
   */
  resumeRunningInstances(): Promise<{ resumed: string[]; failed: { instance: string; error: string }[] }>;
  /**
   * Removes a public image from the catalog (a source VM's image that no longer
   * exists); false if it was not there. Also `POST /lab/v1/images/delete {project, image}`.
   */
  deleteImage(project: string, image: string): boolean;
  /**
   * `lab stop NAME`: GCE itself terminates the instance (as when its guest
   * shuts down, or a preemption), through instances.stop's own path: STOPPING,
   * then TERMINATED with its disks kept. Resolves with the operation once DONE
   * (or after `maxWaitMs`); throws when no single instance has that name or it
   * is busy (resourceNotReady).
   */
  stopInstance(name: string, maxWaitMs?: number): Promise<OperationResource>;
  close(): Promise<void>;
}

const MAX_BODY = 4 * 1024 * 1024;

/** Hands out 10.128.x.y (internal), 10.200.x.y (ephemeral external), 10.210.x.y (static), skipping IPs in use. */
function defaultAllocator(inUse: () => Set<string>): Pick<ComputeHooks, 'allocateIP' | 'releaseIP'> {
  const base: Record<IPKind, string> = { internal: '10.128', external: '10.200', static: '10.210' };
  const handed = new Set<string>();
  return {
    allocateIP(kind) {
      const used = inUse();
      for (let i = 2; i < 65_000; i++) {
        const ip = `${base[kind]}.${Math.floor(i / 256)}.${i % 256}`;
        if (!handed.has(ip) && !used.has(ip)) {
          handed.add(ip);
          return ip;
        }
      }
      throw new Error(`no ${kind} address left`);
    },
    releaseIP(ip) {
      handed.delete(ip);
    },
  };
}

function ipsInUse(state: ComputeState): Set<string> {
  const out = new Set<string>();
  for (const [, e] of state.instances.entries()) {
    for (const n of e.res.networkInterfaces) {
      out.add(n.networkIP);
      for (const a of n.accessConfigs ?? []) if (a.natIP) out.add(a.natIP);
    }
  }
  for (const [, e] of state.addresses.entries()) out.add(e.res.address);
  for (const [, e] of state.forwardingRules.entries()) out.add(e.res.IPAddress);
  return out;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendError(res: ServerResponse, err: ApiError): void {
  send(res, err.code, err.body() satisfies GoogleErrorBody);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'uploadTooLarge', 'The request is too large.');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError(400, 'parseError', 'Invalid JSON payload received.');
  }
}

export function createComputeService(options: ComputeServiceOptions = {}): ComputeService {
  const project = options.project ?? 'kube-ha-lab';
  const timing: ComputeTiming = { ...DEFAULT_TIMING, ...options.timing };
  const state = new ComputeState(project, options.stateFile ?? null, defaultImages);
  const fallbackIPs = defaultAllocator(() => ipsInUse(state));
  const h = options.hooks ?? {};
  const hooks = {
    allocateIP: h.allocateIP ?? fallbackIPs.allocateIP,
    releaseIP: h.releaseIP ?? fallbackIPs.releaseIP,
    onInstanceRunning: h.onInstanceRunning ?? (async () => {}),
    onInstanceStopping: h.onInstanceStopping ?? (async () => {}),
    onInstanceReset:
      h.onInstanceReset ??
      (async (inst: InstanceResource) => {
        await (h.onInstanceStopping ?? (async () => {}))(inst);
        await (h.onInstanceRunning ?? (async () => {}))(inst);
      }),
    onChange: h.onChange ?? (() => {}),
    ...(h.checkHealth ? { checkHealth: h.checkHealth } : {}),
  };
  const faults = new FaultRegistry(isMutation);
  const ctx = new ServiceContext(
    project,
    new Links(project),
    new Locations(options.zones),
    state,
    faults,
    hooks,
    timing,
  );
  for (const [type, spec] of Object.entries(ACTIONS)) ctx.actions.set(type, spec);
  ctx.ops = new OperationEngine(ctx);
  ctx.ops.recover();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://lab.invalid');
    if (url.pathname === '/lab/v1/images/delete' && req.method === 'POST') return imageControl(req, res);
    if (!url.pathname.startsWith('/compute/v1/')) {
      if (options.fallthrough) return options.fallthrough(req, res);
      return sendError(res, urlNotFound(url.pathname));
    }
    try {
      if (ctx.closed) throw new ApiError(503, 'backendError', "The lab's Compute server is shutting down.");
      const method = req.method ?? 'GET';
      const body =
        method === 'POST' || method === 'PUT' || method === 'PATCH' ? await readBody(req) : undefined;
      let segments: string[];
      try {
        segments = url.pathname.slice('/compute/v1/'.length).split('/').map(decodeURIComponent);
      } catch {
        throw invalid(`Invalid URL path: ${url.pathname}`);
      }
      if (segments[0] !== 'projects' || !segments[1]) throw urlNotFound(url.pathname);
      const m = matchRoute(method, segments.slice(2));
      if (!m?.route.anyProject && segments[1] !== project) throw notFound(`projects/${segments[1]}`);
      if (!m) throw urlNotFound(url.pathname);
      m.params.project = segments[1];
      // GCE rejects unknown or mistyped body fields (400 INVALID_ARGUMENT) instead of ignoring them.
      validateBody(m.route.api, body, ROUTE_APIS);
      const zone = m.params.zone;
      const region = m.params.region ?? (zone ? regionOfZone(zone) : undefined);
      const name =
        m.params.name ??
        m.params.op ??
        (isObject(body) && typeof body.name === 'string' ? body.name : undefined);
      const fault = faults.take(m.route.api, 'http', { zone, region, name });
      if (fault) throw faultError(fault, { region });
      const fieldsParam = url.searchParams.get('fields');
      const selection = fieldsParam ? parseFields(fieldsParam) : null;
      const abort = new AbortController();
      res.on('close', () => abort.abort());
      const out = await m.route.handler(ctx, {
        method,
        params: m.params,
        query: url.searchParams,
        body,
        signal: abort.signal,
      });
      // Applied, and now the answer is lost on the way back.
      const lost = faults.peek(m.route.api, 'lost', { zone, region, name });
      if (lost) {
        faults.use(lost);
        if (typeof lost.code === 'number') return sendError(res, faultError(lost, { region }));
        res.socket?.destroy();
        return;
      }
      // GCE answers a partial response when `fields` selects some fields.
      send(res, out.status ?? 200, selection ? partialResponse(out.body, selection) : out.body);
    } catch (err) {
      if (err instanceof ApiError) return sendError(res, err);
      const msg = err instanceof Error ? err.message : String(err);
      sendError(res, new ApiError(500, 'backendError', `Internal error in the lab's Compute server: ${msg}`));
    }
  }

  /** The lab's control route for the image catalog, beside the rest of /lab/v1 (control-routes.ts). */
  async function imageControl(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: unknown;
    try {
      body = await readBody(req);
    } catch {
      return send(res, 400, { error: 'the body must be JSON: {"project": "...", "image": "..."}' });
    }
    const p = isObject(body) ? body.project : undefined;
    const image = isObject(body) ? body.image : undefined;
    if (typeof p !== 'string' || typeof image !== 'string')
      return send(res, 400, { error: 'the body must be JSON: {"project": "...", "image": "..."}' });
    if (!deleteImage(ctx, p, image))
      return send(res, 404, { error: `no image ${p}/${image} in the catalog` });
    return send(res, 200, { ok: true, deleted: `projects/${p}/global/images/${image}` });
  }

  function loadBalancer(ip: string): LoadBalancerView | null {
    const rule = state.forwardingRules
      .entries()
      .find(([, e]) => e.res.IPAddress === ip && !e.meta.pending)?.[1];
    if (!rule) return null;
    const pool = state.targetPools.entries().find(([, e]) => e.res.selfLink === rule.res.target)?.[1];
    const now = ctx.now();
    const programmed = now - (rule.meta.createdAtMs ?? 0) >= timing.lbReadyDelayMs;
    const members = (pool?.res.instances ?? []).map((u) => {
      const inst = state.instances.entries().find(([, e]) => e.res.selfLink === u)?.[1];
      const since = pool?.meta.memberSince?.[u] ?? 0;
      return {
        instance: u,
        networkIP: inst?.res.networkInterfaces[0]?.networkIP ?? null,
        status: inst?.res.status ?? null,
        ready: programmed && inst?.res.status === 'RUNNING' && now - since >= timing.lbReadyDelayMs,
      };
    });
    return { forwardingRule: rule.res.selfLink, portRange: rule.res.portRange ?? null, programmed, members };
  }

  function resolveInstanceIP(name: string): string | null {
    const found = state.instances.entries().filter(([, e]) => e.res.name === name);
    if (found.length !== 1) return null;
    return found[0]?.[1].res.networkInterfaces[0]?.networkIP ?? null;
  }

  async function resumeRunningInstances() {
    const running = state.instances.entries().filter(([, e]) => e.res.status === 'RUNNING' && !e.meta.busyOp);
    const resumed: string[] = [];
    const failed: { instance: string; error: string }[] = [];
    await Promise.all(
      running.map(async ([, e]) => {
        try {
          await ctx.guard(hooks.onInstanceRunning(structuredClone(e.res)));
          resumed.push(e.res.selfLink);
        } catch (err) {
          failed.push({ instance: e.res.selfLink, error: err instanceof Error ? err.message : String(err) });
        }
      }),
    );
    return { resumed, failed };
  }

  async function stopInstance(name: string, maxWaitMs = 60_000): Promise<OperationResource> {
    const found = state.instances.entries().filter(([, e]) => e.res.name === name);
    if (found.length !== 1) {
      throw new Error(
        found.length === 0 ? `no instance named ${name}` : `${found.length} instances are named ${name}`,
      );
    }
    const [key, e] = found[0]!;
    const zone = key.slice(0, key.indexOf('/'));
    // GCE records what it did by itself as user `system`; a kube-up master (automaticRestart) that
    // stays TERMINATED was shut down from inside or preempted.
    const op = beginStop(ctx, zone, key, e, {
      operationType: 'compute.instances.guestTerminate',
      user: 'system',
    });
    await ctx.ops.wait(op.name, maxWaitMs, new AbortController().signal);
    return structuredClone(ctx.ops.get(op.name)?.op ?? op);
  }

  return {
    project,
    state,
    handle,
    stopInstance,
    resolveInstanceIP,
    resumeRunningInstances,
    setFault: (f) => faults.set(f),
    clearFaults: () => faults.clear(),
    listFaults: () => faults.list(),
    loadBalancer,
    deleteImage: (p, image) => deleteImage(ctx, p, image),
    async close() {
      ctx.close();
      ctx.ops.releaseWaiters();
    },
  };
}
