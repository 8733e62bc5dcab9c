// targetPools.getHealth for a pool with a health check: which members GCE
// counts HEALTHY (and so sends connections to). Asked only when the pool has a
// check: without one GCE reports every RUNNING member HEALTHY, which says
// nothing (kube-up's pool has none). One call per member, in parallel, each
// bounded by the client's deadline; the Compute clients load on first use.
import { lastSegment } from '../domain/names.js';
import type { GceTargetPool } from '../domain/types.js';
import { errorMessage } from './etcd-client.js';
import type { Target } from './target.js';

type Clients = Awaited<ReturnType<typeof import('../gce/clients.js').createComputeClients>>;

/** Instance name -> GCE's healthState (HEALTHY, UNHEALTHY), or why it could not be asked. */
export type PoolHealth = Record<string, string>;

export async function askPoolHealth(
  clients: Pick<Clients, 'targetPools'>,
  where: { project: string; region: string },
  pool: GceTargetPool,
): Promise<PoolHealth> {
  const answers = await Promise.all(
    pool.instanceUrls.map(async (url): Promise<[string, string]> => {
      try {
        const [r] = await clients.targetPools.getHealth({
          ...where,
          targetPool: pool.name,
          instanceReferenceResource: { instance: url },
        });
        return [lastSegment(url), r.healthStatus?.[0]?.healthState ?? 'UNKNOWN'];
      } catch (err) {
        return [lastSegment(url), `not asked: ${errorMessage(err)}`];
      }
    }),
  );
  return Object.fromEntries(answers);
}

export interface PoolHealthSource {
  ask(pool: GceTargetPool): Promise<PoolHealth>;
  close(): Promise<void>;
}

export function createPoolHealthSource(target: Target): PoolHealthSource | null {
  const { project, region, compute } = target;
  if (!project || !region || !compute) return null;
  let clients: Promise<Clients> | null = null;
  return {
    async ask(pool) {
      clients ??= import('../gce/clients.js').then((m) =>
        m.createComputeClients({ endpoint: compute.endpoint, timeoutMs: target.callTimeoutMs + 1500 }),
      );
      return askPoolHealth(await clients, { project, region }, pool);
    },
    async close() {
      if (clients) await (await clients).close();
    },
  };
}
