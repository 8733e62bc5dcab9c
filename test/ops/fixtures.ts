// Observed statuses for the pure ops tests: the shared healthy-cluster
// builders, broken in specific ways.
import type { OperationContext } from '../../src/domain/ops/operation.js';
import { buildStatus, type Observations } from '../../src/domain/status.js';
import type { ClusterStatus, EtcdClusterName } from '../../src/domain/types.js';
import { crash, etcd, healthy } from '../helpers/observations.js';

export const REGION_ZONES = ['us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f'];

/** Fresh each time: its random source names new replicas -aaa, then -bbb... */
export function ctx(over: Partial<OperationContext> = {}): OperationContext {
  let i = 0;
  return {
    zonesInRegion: REGION_ZONES,
    lock: null,
    unfinished: null,
    now: new Date('2025-01-01T00:00:00Z'),
    operationId: 'op-test',
    random: () => (Math.floor(i++ / 3) % 26) / 36,
    ...over,
  };
}

export function status(n = 3): ClusterStatus {
  return buildStatus(healthy(n));
}

/** Replica i's VM is gone and its etcd members stop answering (a crashed host). */
export function crashed(n: number, ...down: number[]): ClusterStatus {
  const obs = healthy(n);
  const broken = (c: EtcdClusterName) => {
    const leader = [...Array(n).keys()].find((i) => !down.includes(i)) ?? 0;
    let o = etcd(c, n, leader);
    for (const i of down) o = crash(o, i);
    return o;
  };
  return buildStatus({ ...obs, etcd: { main: broken('main'), events: broken('events') } });
}

/** Peer URLs by name, as kube-up configures them (the shared builders' default). */
export function hostnameStyle(n = 3): ClusterStatus {
  return status(n);
}

/** Peer URLs by VM IP, as some installs (not kube-up) configure them. */
export function ipStyle(n = 3): ClusterStatus {
  const obs: Observations = healthy(n);
  for (const c of ['main', 'events'] as const) {
    for (const [i, m] of (obs.etcd[c]?.members ?? []).entries()) {
      const port = c === 'main' ? 2380 : 2381;
      m.peerURLs = [`https://127.20.1.${i + 1}:${port}`];
    }
  }
  return buildStatus(obs);
}

/** Replica i's VM in `vmStatus` (TERMINATED, STOPPED...): its etcd members do not answer. */
export function vmStopped(n: number, vmStatus: string, ...down: number[]): ClusterStatus {
  return withObs((o) => {
    for (const i of down) {
      o.gce!.instances[i]!.status = vmStatus as 'TERMINATED';
      o.etcd.main = crash(o.etcd.main!, i);
      o.etcd.events = crash(o.etcd.events!, i);
    }
  }, n);
}

export function withObs(mutate: (o: Observations) => void, n = 3): ClusterStatus {
  const obs = healthy(n);
  mutate(obs);
  return buildStatus(obs);
}
