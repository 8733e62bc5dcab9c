// The GCE side of an observation: one aggregated instance list filtered on the
// master name (replicas live in several zones), plus the regional load balancer
// pieces kube-up creates. The Compute client library is imported lazily: it
// costs ~2 s and ~175 MB, and must never delay the first frame.
import { lastSegment } from '../domain/names.js';
import type { GceAddress, GceInstance, GceObservation } from '../domain/types.js';
import type { GceSourceLike } from './observe.js';
import type { Target } from './target.js';

type Clients = Awaited<ReturnType<typeof import('../gce/clients.js').createComputeClients>>;

interface RawInstance {
  name?: string | null;
  zone?: string | null;
  status?: string | null;
  selfLink?: string | null;
  machineType?: string | null;
  creationTimestamp?: string | null;
  networkInterfaces?:
    | { networkIP?: string | null; accessConfigs?: { natIP?: string | null }[] | null }[]
    | null;
  metadata?: { items?: { key?: string | null; value?: string | null }[] | null } | null;
}

export function toGceInstance(raw: RawInstance): GceInstance {
  const nic = raw.networkInterfaces?.[0];
  const metadata: Record<string, string> = {};
  for (const item of raw.metadata?.items ?? []) if (item.key) metadata[item.key] = item.value ?? '';
  return {
    name: raw.name ?? '',
    zone: lastSegment(raw.zone ?? ''),
    // As GCE sent it: a status this version does not know is shown, with a warning, as it is.
    status: raw.status || 'PROVISIONING',
    internalIP: nic?.networkIP ?? null,
    externalIP: nic?.accessConfigs?.find((a) => a.natIP)?.natIP ?? null,
    metadata,
    ...(raw.machineType ? { machineType: lastSegment(raw.machineType) } : {}),
    ...(raw.creationTimestamp ? { creationTimestamp: raw.creationTimestamp } : {}),
    ...(raw.selfLink ? { selfLink: raw.selfLink } : {}),
  };
}

/** GCE list filters take RE2 on the whole name. */
export function replicaFilter(masterName: string): string {
  return `name eq "${masterName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(-[a-z0-9]+)?"`;
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: number | string; status?: number };
  return (
    e?.code === 404 ||
    e?.code === 5 ||
    e?.status === 404 ||
    /not found/i.test(String((err as Error)?.message))
  );
}

async function orNull<T>(p: Promise<[T, ...unknown[]]>): Promise<T | null> {
  try {
    return (await p)[0];
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

export interface ObserveGceOptions {
  /**
   * Reuse the forwarding rule, target pool and address when read less than
   * this long ago (default 0: read them every time). The console's quiet
   * cadence: the instances are what changes in an incident.
   */
  lbMaxAgeMs?: number;
}

export interface GceSourceOptions {
  /**
   * Load the Compute clients through V8's code cache (src/gce/cached-clients.ts):
   * only where nothing else in the process loads them (the console's GCE worker).
   */
  codeCache?: boolean;
}

export function createGceSource(
  target: Target,
  sourceOpts: GceSourceOptions = {},
): GceSourceLike & {
  observe(opts?: ObserveGceOptions): Promise<GceObservation>;
  /** Loads and makes the Compute clients now (a failure is observe()'s to report). */
  prepare(): Promise<void>;
} {
  const project = target.project;
  const region = target.region;
  if (!project || !region || !target.compute)
    throw new Error('GCE source needs a project, a region and a Compute target');
  const endpoint = target.compute.endpoint;
  let clients: Promise<Clients> | null = null;
  const getClients = () => {
    clients ??= (async () => {
      const cached = sourceOpts.codeCache
        ? await import('../gce/cached-clients.js').then((m) => m.cachedComputeClients())
        : null;
      const m = cached ?? (await import('../gce/clients.js'));
      return m.createComputeClients({ endpoint, timeoutMs: target.callTimeoutMs + 1500 });
    })();
    return clients;
  };
  let cachesWritten = !sourceOpts.codeCache;
  const master = target.masterName;
  const readLb = (c: Clients) =>
    Promise.all([
      orNull(c.forwardingRules.get({ project, region, forwardingRule: master })),
      orNull(c.targetPools.get({ project, region, targetPool: master })),
      orNull(c.addresses.get({ project, region, address: `${master}-ip` })),
    ]);
  let lastLb: { at: number; pieces: Awaited<ReturnType<typeof readLb>> } | null = null;
  return {
    async prepare(): Promise<void> {
      await getClients().then(
        () => undefined,
        () => undefined,
      );
    },
    async observe(opts: ObserveGceOptions = {}): Promise<GceObservation> {
      const c = await getClients();
      // Partial success: a zone GCE cannot reach comes back as a warning, not an
      // error; its VMs are then unknown, which is not the same as missing.
      const unreachableZones: string[] = [];
      const listInstances = async () => {
        const out: GceInstance[] = [];
        const iter = c.instances.aggregatedListAsync(
          { project, filter: replicaFilter(master), returnPartialSuccess: true },
          { autoPaginate: false },
        );
        for await (const [scope, scoped] of iter) {
          if (scoped.warning?.code === 'UNREACHABLE') unreachableZones.push(lastSegment(scope));
          for (const i of scoped.instances ?? []) out.push(toGceInstance(i as RawInstance));
        }
        return out;
      };
      const lb = async () => {
        const reused = lastLb;
        if (reused && Date.now() - reused.at < (opts.lbMaxAgeMs ?? 0)) return reused.pieces;
        const at = Date.now();
        const pieces = await readLb(c);
        lastLb = { at, pieces };
        return pieces;
      };
      const [instances, [rule, pool, address]] = await Promise.all([listInstances(), lb()]);
      if (!cachesWritten) {
        // After the first calls, so that the cache holds what they compiled.
        cachesWritten = true;
        void import('../gce/cached-clients.js').then((m) => m.writeCodeCaches());
      }
      const staticAddress: GceAddress | null = address
        ? {
            name: address.name ?? '',
            address: address.address ?? '',
            status: address.status ?? '',
            users: address.users ?? [],
          }
        : null;
      return {
        project,
        region,
        masterName: master,
        instances,
        forwardingRule: rule
          ? {
              name: rule.name ?? master,
              ip: rule.IPAddress ?? '',
              target: lastSegment(rule.target ?? ''),
              ...(rule.portRange ? { portRange: rule.portRange } : {}),
            }
          : null,
        targetPool: pool
          ? {
              name: pool.name ?? master,
              instances: (pool.instances ?? []).map(lastSegment),
              instanceUrls: pool.instances ?? [],
              healthChecks: pool.healthChecks ?? [],
            }
          : null,
        staticAddress,
        ...(unreachableZones.length ? { unreachableZones } : {}),
        fetchedAt: Date.now(),
      };
    },
    async close() {
      if (clients) await (await clients).close();
    },
  };
}
