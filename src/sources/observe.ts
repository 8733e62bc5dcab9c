// One observation of everything a Target names: GCE (when configured) and both
// etcd clusters, each bounded by its own deadlines, none waiting on another.
import type { Observations } from '../domain/status.js';
import type { EtcdClusterName, EtcdObservation, GceObservation } from '../domain/types.js';
import { ETCD_CLUSTERS } from '../domain/types.js';
import { EtcdClusterSource } from './etcd.js';
import { errorMessage } from './etcd-client.js';
import type { Target } from './target.js';

export interface GceSourceLike {
  observe(): Promise<GceObservation>;
  close(): Promise<void> | void;
}

export class Observer {
  readonly etcd: Partial<Record<EtcdClusterName, EtcdClusterSource>> = {};

  constructor(
    readonly target: Target,
    readonly gce: GceSourceLike | null,
  ) {
    for (const c of ETCD_CLUSTERS) {
      const t = target.etcd[c];
      if (t) this.etcd[c] = new EtcdClusterSource(c, t, target.callTimeoutMs);
    }
  }

  async observeGce(): Promise<{ gce: GceObservation | null; gceError: string | null }> {
    if (!this.gce) return { gce: null, gceError: null };
    try {
      return { gce: await this.gce.observe(), gceError: null };
    } catch (err) {
      return { gce: null, gceError: errorMessage(err) };
    }
  }

  async observeEtcd(cluster: EtcdClusterName): Promise<EtcdObservation | null> {
    return (await this.etcd[cluster]?.observe()) ?? null;
  }

  async observeAll(): Promise<Observations> {
    const [g, main, events] = await Promise.all([
      this.observeGce(),
      this.observeEtcd('main'),
      this.observeEtcd('events'),
    ]);
    return {
      project: this.target.project,
      region: this.target.region,
      masterName: this.target.masterName,
      ...g,
      etcd: { main, events },
    };
  }

  async close(): Promise<void> {
    for (const s of Object.values(this.etcd)) s?.close();
    await this.gce?.close();
  }
}
