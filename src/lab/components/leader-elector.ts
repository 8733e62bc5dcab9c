// Simulated leader election of kube-controller-manager, kube-scheduler and
// cluster-autoscaler, done against etcd the way client-go's LeaseLock does it
// through kube-apiserver (a read, then a create guarded by create_revision == 0
// or an update guarded by mod_revision, which is what the apiserver's
// optimistic concurrency amounts to in etcd). Values are written with
// encodeLease, so the console reads the lab's leases exactly like a real cluster's.
import { randomUUID } from 'node:crypto';
import type { Etcd3, IKeyValue, IRequestOp } from 'etcd3';
import { decodeLeaderRecord } from '../../domain/leases/decode.js';
import { encodeLease } from '../../domain/leases/encode.js';
import { msToMicroTime, msToTime } from '../../domain/leases/time.js';
import type { DecodedLeaderRecord, LeaseSpec } from '../../domain/leases/types.js';
import { errorMessage } from '../../net/etcd-client.js';

export type LeaderComponent = 'kube-controller-manager' | 'kube-scheduler' | 'cluster-autoscaler';

export interface LeaderElectorOptions {
  /** Constructed by the caller (one per simulated process is fine); not closed here. */
  client: Etcd3;
  /** The lease name: kube-controller-manager, kube-scheduler or cluster-autoscaler. */
  component: LeaderComponent | string;
  /** The VM's hostname (its replica name). */
  hostname: string;
  prefix?: string;
  namespace?: string;
  /** Default: `<hostname>_<uuid>`, or the bare hostname for cluster-autoscaler. */
  identity?: string;
  /** client-go defaults 15 s / 10 s / 2 s; the lab uses shorter ones. */
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Deadline of one etcd call (further capped by the renew deadline). Default min(2000, renewDeadline / 2). */
  callTimeoutMs?: number;
  /** Write an empty holder on stop. Default: true for the scheduler and cluster-autoscaler, false for the controller-manager. */
  releaseOnStop?: boolean;
  apiVersion?: string;
  /** The holder's wall clock, for acquireTime/renewTime (the lab may skew it). Expiry uses a monotonic clock. */
  now?: () => number;
  log?: (line: string) => void;
  onStartedLeading?: () => void;
  onStoppedLeading?: () => void;
  /** Called when the observed holder changes (including to '' on release). */
  onNewLeader?: (identity: string) => void;
}

export interface LeaderElector {
  readonly identity: string;
  isLeader(): boolean;
  /**
   * Stops the loop and resolves when done; never rejects. A graceful stop (the
   * default) releases the lease when configured to and leading; `{ graceful:
   * false }` simulates a crash or a VM losing power: nothing more is written.
   */
  stop(opts?: { graceful?: boolean }): Promise<void>;
}

// client-go's wait.JitterUntil factor for acquisition retries.
const JITTER_FACTOR = 1.2;

interface Observed {
  modRevision: string;
  /** null when the stored value is not a readable Lease: then it is never overwritten. */
  record: DecodedLeaderRecord | null;
  /** Monotonic time (performance.now()) when this version was first seen. */
  at: number;
}

export function defaultIdentity(component: string, hostname: string): string {
  return component === 'cluster-autoscaler' ? hostname : `${hostname}_${randomUUID()}`;
}

/**
 * The sanity checks client-go makes (otherwise two leaders can overlap), as a
 * sentence for the operator, or null when the timings are sound.
 */
export function leaseTimingsProblem(t: {
  leaseDurationSeconds: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}): string | null {
  if (!Number.isInteger(t.leaseDurationSeconds) || t.leaseDurationSeconds < 1)
    return 'the lease duration must be a whole number of seconds, at least 1';
  if (!(t.retryPeriodMs > 0)) return 'the retry period must be more than 0';
  if (t.leaseDurationSeconds * 1000 <= t.renewDeadlineMs)
    return 'the lease duration must be longer than the renew deadline';
  if (t.renewDeadlineMs <= JITTER_FACTOR * t.retryPeriodMs)
    return 'the renew deadline must be longer than 1.2 x the retry period';
  return null;
}

export function startLeaderElector(opts: LeaderElectorOptions): LeaderElector {
  const leaseDurationSeconds = opts.leaseDurationSeconds ?? 15;
  const renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = opts.retryPeriodMs ?? 2000;
  const problem = leaseTimingsProblem({ leaseDurationSeconds, renewDeadlineMs, retryPeriodMs });
  if (problem) throw new RangeError(problem);
  const callTimeoutMs = opts.callTimeoutMs ?? Math.min(2000, renewDeadlineMs / 2);
  const identity = opts.identity ?? defaultIdentity(opts.component, opts.hostname);
  const releaseOnStop = opts.releaseOnStop ?? opts.component !== 'kube-controller-manager';
  const apiVersion = opts.apiVersion ?? 'coordination.k8s.io/v1';
  const namespace = opts.namespace ?? 'kube-system';
  const name = opts.component;
  const key = `${(opts.prefix ?? '/registry').replace(/\/+$/, '')}/leases/${namespace}/${name}`;
  const wall = opts.now ?? Date.now;
  const log = (line: string) => {
    try {
      opts.log?.(`${name} ${identity}: ${line}`);
    } catch {
      // A failing logger must not stop the election.
    }
  };
  const callback = (what: string, fn: (() => void) | undefined) => {
    try {
      fn?.();
    } catch (err) {
      log(`${what} callback failed: ${errorMessage(err)}`);
    }
  };
  const client = opts.client;

  let leader = false;
  let stopped = false;
  let observed: Observed | null = null;
  let lastHolder: string | null = null;
  const wakers = new Set<() => void>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopped) return resolve();
      const done = () => {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakers.add(done);
    });

  const observe = (kv: IKeyValue | undefined) => {
    if (kv === undefined) {
      observed = null;
      return;
    }
    const modRevision = String(kv.mod_revision);
    if (observed?.modRevision === modRevision) return;
    const rec = decodeLeaderRecord(key, kv.value);
    const record = rec.state === 'decoded' && rec.source === 'lease' ? rec : null;
    if (record === null) log(`cannot read ${key}: ${rec.state === 'undecodable' ? rec.reason : rec.state}`);
    observed = { modRevision, record, at: performance.now() };
    noteHolder(record?.spec.holderIdentity ?? null);
  };

  const noteHolder = (holder: string | null) => {
    if (holder === null || holder === lastHolder) return;
    lastHolder = holder;
    callback('onNewLeader', () => opts.onNewLeader?.(holder));
  };

  const valueFor = (spec: LeaseSpec, prev: DecodedLeaderRecord | null, nowMs: number) =>
    Buffer.from(
      encodeLease(
        {
          name,
          namespace,
          // The apiserver keeps uid and creationTimestamp across updates.
          uid: prev?.uid || randomUUID(),
          creationTimestamp: prev?.creationTimestamp ?? msToTime(nowMs),
          spec,
        },
        apiVersion,
      ),
    );

  const decodeOwn = (value: Buffer): DecodedLeaderRecord | null => {
    const rec = decodeLeaderRecord(key, value);
    return rec.state === 'decoded' ? rec : null;
  };

  /** client-go's tryAcquireOrRenew. True when this replica holds the lease afterwards. */
  const tryAcquireOrRenew = async (deadline: number): Promise<boolean> => {
    const callOpts = () => ({ deadline: Math.min(deadline, Date.now() + callTimeoutMs) });
    const nowMs = wall();
    const now = msToMicroTime(nowMs);
    // A leader renews from what it wrote last (the mod_revision guard catches
    // any other writer); everyone else reads first.
    if (!(leader && observed !== null)) {
      const res = await client.get(key).options(callOpts()).exec();
      const kv = res.kvs[0];
      if (kv === undefined) {
        const spec: LeaseSpec = {
          holderIdentity: identity,
          leaseDurationSeconds,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: 0,
          strategy: null,
          preferredHolder: null,
        };
        const value = valueFor(spec, null, nowMs);
        const txn = await client
          .if(key, 'Create', '==', 0)
          .then(client.put(key).value(value))
          .options(callOpts())
          .commit();
        if (!txn.succeeded) {
          log('lost the race to create the lease');
          observed = null;
          return false;
        }
        observed = {
          modRevision: String(txn.header.revision),
          record: decodeOwn(value),
          at: performance.now(),
        };
        noteHolder(identity);
        return true;
      }
      observe(kv);
    }
    const current = observed as Observed | null;
    if (current === null || current.record === null) return false;
    const old = current.record.spec;
    const holder = old.holderIdentity ?? '';
    const duration = old.leaseDurationSeconds ?? leaseDurationSeconds;
    // Held by someone else whose record changed less than its lease duration ago (by our clock): wait.
    if (holder !== '' && holder !== identity && current.at + duration * 1000 > performance.now())
      return false;
    const renewing = holder === identity;
    const spec: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: renewing ? (old.acquireTime ?? now) : now,
      renewTime: now,
      leaseTransitions: renewing ? (old.leaseTransitions ?? 0) : (old.leaseTransitions ?? 0) + 1,
      strategy: null,
      preferredHolder: null,
    };
    const value = valueFor(spec, current.record, nowMs);
    const txn = await client
      .if(key, 'Mod', '==', current.modRevision)
      .then(client.put(key).value(value))
      .else(client.get(key))
      .options(callOpts())
      .commit();
    if (txn.succeeded) {
      observed = {
        modRevision: String(txn.header.revision),
        record: decodeOwn(value),
        at: performance.now(),
      };
      if (!renewing) log(`acquired the lease from ${holder || '(released)'}`);
      noteHolder(identity);
      return true;
    }
    observe(txn.responses[0]?.response_range?.kvs[0]);
    return false;
  };

  const attempt = async (deadline: number): Promise<boolean> => {
    try {
      return await tryAcquireOrRenew(deadline);
    } catch (err) {
      log(`etcd call failed: ${errorMessage(err)}`);
      return false;
    }
  };

  const setLeader = (value: boolean) => {
    if (leader === value) return;
    leader = value;
    log(value ? 'became leader' : 'stopped leading');
    callback(
      value ? 'onStartedLeading' : 'onStoppedLeading',
      value ? opts.onStartedLeading : opts.onStoppedLeading,
    );
  };

  const run = async () => {
    while (!stopped) {
      while (!stopped && !leader) {
        if (await attempt(Date.now() + callTimeoutMs * 2)) setLeader(true);
        else await sleep(retryPeriodMs * (1 + Math.random() * JITTER_FACTOR));
      }
      while (!stopped && leader) {
        await sleep(retryPeriodMs);
        if (stopped) break;
        // Retry every retryPeriod until renewDeadline; then give the lease up
        // (the real binaries exit here and are restarted; the simulation re-enters the election).
        const started = performance.now();
        const deadline = Date.now() + renewDeadlineMs;
        let renewed = false;
        while (!stopped) {
          renewed = await attempt(deadline);
          if (renewed || performance.now() - started + retryPeriodMs >= renewDeadlineMs) break;
          await sleep(retryPeriodMs);
        }
        if (!renewed && !stopped) {
          log(`failed to renew within ${renewDeadlineMs} ms`);
          setLeader(false);
        }
      }
    }
  };

  const loop = run().catch((err) => log(`election loop failed: ${errorMessage(err)}`));

  const release = async () => {
    const current = observed;
    if (current === null || current.record === null) return;
    const nowMs = wall();
    const now = msToMicroTime(nowMs);
    const spec: LeaseSpec = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: current.record.spec.leaseTransitions ?? 0,
      strategy: null,
      preferredHolder: null,
    };
    try {
      const txn = await client
        .if(key, 'Mod', '==', current.modRevision)
        .then(client.put(key).value(valueFor(spec, current.record, nowMs)))
        .options({ deadline: Date.now() + callTimeoutMs })
        .commit();
      log(txn.succeeded ? 'released the lease' : 'did not release: the lease changed meanwhile');
    } catch (err) {
      log(`release failed: ${errorMessage(err)}`);
    }
  };

  let stopping: Promise<void> | null = null;
  return {
    identity,
    isLeader: () => leader,
    stop(stopOpts = {}) {
      stopping ??= (async () => {
        stopped = true;
        for (const wake of [...wakers]) wake();
        await loop;
        if (leader && releaseOnStop && stopOpts.graceful !== false) await release();
        setLeader(false);
      })();
      return stopping;
    },
  };
}

/**
 * Writes `count` kubelet-style node heartbeat leases under
 * `<prefix>/leases/kube-node-lease/`, as a large cluster has; for benchmarks
 * and lab scenarios that check nothing ranges over /registry/leases/.
 */
export async function seedNodeLeases(
  client: Etcd3,
  count: number,
  opts: { prefix?: string; now?: number; batch?: number; timeoutMs?: number } = {},
): Promise<void> {
  const prefix = (opts.prefix ?? '/registry').replace(/\/+$/, '');
  const nowMs = opts.now ?? Date.now();
  const batch = Math.min(opts.batch ?? 100, 120);
  for (let i = 0; i < count; i += batch) {
    const puts: IRequestOp[] = [];
    for (let j = i; j < Math.min(count, i + batch); j++) {
      const node = `node-${String(j).padStart(5, '0')}`;
      const value = encodeLease(
        {
          name: node,
          namespace: 'kube-node-lease',
          uid: randomUUID(),
          creationTimestamp: msToTime(nowMs),
          spec: {
            holderIdentity: node,
            leaseDurationSeconds: 40,
            acquireTime: null,
            renewTime: msToMicroTime(nowMs),
            leaseTransitions: null,
            strategy: null,
            preferredHolder: null,
          },
        },
        'coordination.k8s.io/v1',
      );
      puts.push({
        request_put: {
          key: Buffer.from(`${prefix}/leases/kube-node-lease/${node}`),
          value: Buffer.from(value),
        },
      });
    }
    await client.kv.txn(
      { compare: [], success: puts, failure: [] },
      { deadline: Date.now() + (opts.timeoutMs ?? 10_000) },
    );
  }
}
