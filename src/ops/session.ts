// Everything an operation needs for one target, opened once and shared by the
// CLI commands and the console: Compute and etcd clients for changes, an
// observer for fresh status, the journal store and the call log.
import { join } from 'node:path';
import type { Journal } from '../domain/ops/journal.js';
import type { OperationHolder } from '../domain/ops/lock.js';
import { type OperationContext, type PlannedOperation, planOperation } from '../domain/ops/operation.js';
import { type LockPlace, lockPlaceFor } from '../domain/ops/plan-remedy.js';
import type { CheckResult } from '../domain/ops/preflight.js';
import type { OpRequest } from '../domain/ops/request.js';
import { type RecoveryMode, recoveryChecks } from '../domain/ops/resume-check.js';
import { buildStatus } from '../domain/status.js';
import type { ClusterStatus, EtcdClusterName } from '../domain/types.js';
import { apiserverURL, probeApiserver } from '../net/apiserver.js';
import { createGceSource } from '../sources/gce-source.js';
import { Observer } from '../sources/observe.js';
import type { Target } from '../sources/target.js';
import { ComputeOps } from './compute-ops.js';
import { EtcdOps } from './etcd-ops.js';
import { defaultHolder, type ExecDeps } from './executor.js';
import { EtcdJournals } from './journal-remote.js';
import { JournalStore } from './journal-store.js';
import { readLocalLock } from './local-lock.js';
import { readLock } from './lock.js';
import { DEFAULT_TIMING, type Timing } from './runners.js';
import { inspectCloneSource } from './source-inspect.js';

export interface OpsSessionOptions {
  timing?: Partial<Timing>;
  /** How long one Compute operation may take to be DONE. */
  opDeadlineMs?: number;
  holder?: OperationHolder;
  tool?: string;
}

export interface OpsSession {
  target: Target;
  deps: ExecDeps;
  status(): Promise<ClusterStatus>;
  /** Observes, reads the lock and the journals, and plans: what the CLI prints and the console shows. */
  plan(
    request: OpRequest,
    ctx?: Partial<OperationContext>,
  ): Promise<{ planned: PlannedOperation; status: ClusterStatus }>;
  /**
   * The fresh preflight of `operation resume | rollback`, before asking for
   * confirmation (the executor checks again under the lock).
   */
  checkRecovery(
    journal: Journal,
    mode: RecoveryMode,
  ): Promise<{ checks: CheckResult[]; status: ClusterStatus }>;
  close(): Promise<void>;
}

export class OpsTargetError extends Error {
  override name = 'OpsTargetError';
}

export async function openOpsSession(target: Target, o: OpsSessionOptions = {}): Promise<OpsSession> {
  if (!target.project || !target.region || !target.compute) {
    throw new OpsTargetError(
      'operations change VMs: pass --lab/--lab-dir, or --project and --region (Compute API)',
    );
  }
  const mainTarget = target.etcd.main;
  const eventsTarget = target.etcd.events;
  if (!mainTarget || !eventsTarget)
    throw new OpsTargetError('operations change etcd membership: etcd endpoints are needed');
  const listeners = new Set<(line: string) => void>();
  const log = (line: string) => {
    for (const l of listeners) l(line);
  };
  const { createComputeClients } = await import('../gce/clients.js');
  // The transport's timeout bounds each Compute call; operations are waited for separately.
  const clients = await createComputeClients({
    endpoint: target.compute.endpoint,
    timeoutMs: target.callTimeoutMs + 1500,
  });
  const compute = new ComputeOps(clients, {
    project: target.project,
    region: target.region,
    opDeadlineMs: o.opDeadlineMs ?? 600_000,
    log,
  });
  const etcd: Record<EtcdClusterName, EtcdOps> = {
    main: new EtcdOps('main', mainTarget, target.callTimeoutMs, log),
    events: new EtcdOps('events', eventsTarget, target.callTimeoutMs, log),
  };
  // The observer follows membership: members added since the seeds were given are asked too,
  // so that removing a seed member does not blind the verification.
  const obsTarget: Target = {
    ...target,
    etcd: {
      main: { ...mainTarget, endpoints: [...mainTarget.endpoints] },
      events: { ...eventsTarget, endpoints: [...eventsTarget.endpoints] },
    },
  };
  const syncSeeds = () => {
    for (const c of ['main', 'events'] as const) {
      const t = obsTarget.etcd[c];
      if (t) t.endpoints.splice(0, t.endpoints.length, ...etcd[c].endpoints());
    }
  };
  const observer = new Observer(obsTarget, createGceSource(target));
  // A cold process can miss the first deadlines: TLS handshakes, and the
  // Compute library parsing its 11 MB API definition on this thread while
  // the etcd status calls are in flight (seen on a loaded 2-core machine as
  // every member "unhealthy" right after a healthy status). A source that
  // failed, or any member that did not answer, is asked once more before
  // anything is judged: a member that is really down is down twice.
  const observe = async () => {
    syncSeeds();
    const first = buildStatus(await observer.observeAll());
    const doubtful =
      first.warnings.some((w) => w.code === 'ETCD_UNREACHABLE' || w.code === 'GCE_UNREACHABLE') ||
      (['main', 'events'] as const).some((c) => first.etcd[c].healthyMembers < first.etcd[c].members);
    const status = doubtful ? buildStatus(await observer.observeAll()) : first;
    // Members are reached at their VMs' addresses (peer URLs name the instance).
    for (const r of status.replicas)
      if (r.vm.internalIP && r.zone)
        for (const e of Object.values(etcd)) e.learnHost(r.name, r.vm.internalIP);
    return status;
  };
  // Journals also in etcd main: an operation started on another machine is seen, and can be finished, here.
  const store = JournalStore.forTarget(target).attachRemote(new EtcdJournals(etcd.main, log));
  const deps: ExecDeps = {
    compute,
    etcd,
    store,
    observe,
    zonesInRegion: () => compute.zonesInRegion(),
    holder: o.holder ?? defaultHolder(o.tool ?? 'kube-ha'),
    timing: { ...DEFAULT_TIMING, ...o.timing },
    snapshotDir: join(target.stateDir, 'snapshots'),
    apiserverProbe: (host) =>
      probeApiserver(host, apiserverURL(host, target.apiserverPort), { timeoutMs: target.callTimeoutMs }),
    subscribeCalls(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  /** The lock where this request would take it: a remedy without quorum in main falls back (plan-remedy.ts). */
  const readPlannedLock = (place: LockPlace) =>
    place === 'local' ? Promise.resolve(readLocalLock(store.dir)) : readLock(etcd[place]).catch(() => null);
  return {
    target,
    deps,
    status: observe,
    async plan(request, extra = {}) {
      const status = await observe();
      const [zones, lock, source] = await Promise.all([
        compute.zonesInRegion().catch(() => null),
        readPlannedLock(lockPlaceFor(status, request.kind)),
        inspectCloneSource(compute, status, request),
        store.refresh(),
      ]);
      const planned = planOperation(status, request, {
        zonesInRegion: zones,
        lock,
        source,
        // An unfinished operation, and journals that cannot be read, refuse new ones.
        ...store.preflightContext(),
        ...extra,
      });
      return { planned, status };
    },
    async checkRecovery(journal, mode) {
      const [status, lock] = await Promise.all([observe(), readLock(etcd.main).catch(() => null)]);
      return { checks: recoveryChecks(journal, status, mode, { lock }), status };
    },
    async close() {
      for (const e of Object.values(etcd)) e.close();
      await observer.close();
      await clients.close();
    },
  };
}
