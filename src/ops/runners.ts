// One runner per step kind: `run` does the step, `undo` reverses it, `absent`
// checks after a failure that nothing changed. Every runner first looks at
// what exists (a resumed run repeats a step that may have half happened), and
// every etcd change goes to a member that answered just now.

import {
  clientCertRequest,
  KUBE_ENV_KEY,
  kubeEnvWithPeerCert,
  MASTER_CERTS_KEY,
  masterCertsWithApiserverEtcd,
  peerCertRequest,
  replicaCertNeed,
  serverCertRequest,
} from '../domain/master-certs.js';
import { lastSegment } from '../domain/names.js';
import {
  type BootDiskSpec,
  cloneInstanceResource,
  type InstanceInsertResource,
  type SourceInstance,
} from '../domain/ops/clone.js';
import type { Plan, PlanStep, StepKind } from '../domain/ops/plan.js';
import { peerURL } from '../domain/ops/plan.js';
import { canRemoveVoter } from '../domain/quorum.js';
import type { ClusterStatus, EtcdClusterName } from '../domain/types.js';
import { ETCD_CLUSTERS } from '../domain/types.js';
import { abortableSleep, CancelledError } from '../gce/retry.js';
import { issueWithCA } from '../pki/certs.js';
import type { ComputeOps } from './compute-ops.js';
import type { EtcdOps, LiveMember, Snapshot } from './etcd-ops.js';

export interface Timing {
  /** How long a learner may take to catch up (and to become promotable). */
  catchUpTimeoutMs: number;
  /** How long a new VM may take to be RUNNING after its insert is DONE. */
  runningTimeoutMs: number;
  /** How long a new load balancer may take to report a healthy member. */
  lbReadyTimeoutMs: number;
  /** How long the final verification waits for the cluster to look right. */
  verifyTimeoutMs: number;
  pollMs: number;
}

/**
 * A new replica gets its own etcd certificates, as kube-up's replicate flow
 * means to give it (master-helper.sh replicate-master-instance): a peer
 * certificate in kube-env (CN and DNS SAN the instance name, IP SAN
 * 127.0.0.1), signed by kube-env's ETCD_CA_*, and an apiserver↔etcd server
 * (`etcd-<name>`) and client pair in kube-master-certs, signed by
 * ETCD_APISERVER_CA_* (kube-up's own code leaves those empty). The source's,
 * copied with the rest of its metadata, name the source: the new member's
 * peers would refuse it. Returns what was done, for the call log, or null
 * when the source has no etcd certificates.
 */
async function giveReplicaCerts(resource: InstanceInsertResource, name: string): Promise<string | null> {
  const items = (resource.metadata as { items: { key: string; value: string }[] }).items;
  const env = items.find((i) => i.key === KUBE_ENV_KEY);
  const certs = items.find((i) => i.key === MASTER_CERTS_KEY);
  if (!env) throw new Error('the clone has no kube-env');
  const need = replicaCertNeed(env.value, certs?.value ?? null);
  if (need.kind === 'none') return null;
  if (need.kind === 'impossible') throw new Error(need.reason);
  const done: string[] = [];
  if (need.peerCA) {
    env.value = kubeEnvWithPeerCert(env.value, await issueWithCA(need.peerCA, peerCertRequest(name)));
    done.push(`peer certificate for ${name}, 127.0.0.1`);
  }
  if (need.apiserverCA && certs) {
    const [server, client] = await Promise.all([
      issueWithCA(need.apiserverCA, serverCertRequest(name)),
      issueWithCA(need.apiserverCA, clientCertRequest()),
    ]);
    certs.value = masterCertsWithApiserverEtcd(certs.value, server, client);
    done.push(`etcd server certificate etcd-${name}`);
  }
  return `own ${done.join(' and ')}`;
}

export const DEFAULT_TIMING: Timing = {
  catchUpTimeoutMs: 300_000,
  runningTimeoutMs: 300_000,
  lbReadyTimeoutMs: 600_000,
  verifyTimeoutMs: 60_000,
  pollMs: 250,
};

export interface RunContext {
  plan: Plan;
  compute: ComputeOps;
  etcd: Record<EtcdClusterName, EtcdOps>;
  facts: Record<string, string>;
  timing: Timing;
  signal?: AbortSignal | undefined;
  observe(): Promise<ClusterStatus>;
  /** kube-apiserver's /healthz on a host: healthy, or whether anything answered at all. */
  apiserverProbe:
    | ((host: string) => Promise<{ healthy: boolean; answered: boolean; error: string | null }>)
    | null;
  note(message: string): void;
  progress(current: number | null, target: number | null, message: string): void;
}

export interface RunOutcome {
  note?: string;
  skipped?: boolean;
}

type StepOf<K extends StepKind> = Extract<PlanStep, { kind: K }>;

interface Runner<K extends StepKind> {
  run(step: StepOf<K>, ctx: RunContext): Promise<RunOutcome>;
  undo?(step: StepOf<K>, ctx: RunContext): Promise<RunOutcome>;
  /** After a failure: true when it verifiably changed nothing. */
  absent?(step: StepOf<K>, ctx: RunContext): Promise<boolean>;
}

// One class for every cancelled wait, the Compute client's retry pauses included.
export { CancelledError };
const sleep = abortableSleep;

/** The Compute calls of a step: their retry pauses and operation waits end when the operation is cancelled. */
function compute(ctx: RunContext): ComputeOps {
  return ctx.compute.withSignal(ctx.signal);
}

/**
 * Right before an etcd membership change: a cancelled operation, or one whose
 * lock was lost (the executor folds the lock's signal into ctx.signal), changes
 * nothing more. Compute calls check the same signal before every request.
 */
function mayChange(ctx: RunContext): void {
  if (ctx.signal?.aborted) throw new CancelledError('cancelled');
}

/** A failure that waiting will not fix: `until` stops at once. */
class Permanent extends Error {}

/** Polls until `probe` returns a value; throws with `what` and the last reason at the deadline. */
async function until<T>(
  ctx: RunContext,
  timeoutMs: number,
  what: string,
  probe: () => Promise<{ value: T } | { reason: string }>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let reason = 'no answer yet';
  for (;;) {
    try {
      const r = await probe();
      if ('value' in r) return r.value;
      reason = r.reason;
    } catch (err) {
      if (err instanceof Permanent || err instanceof CancelledError) throw err;
      reason = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline)
      throw new Error(`${what}: not done in ${Math.round(timeoutMs / 1000)} s (${reason})`);
    await sleep(ctx.timing.pollMs, ctx.signal);
  }
}

const memberFact = (cluster: EtcdClusterName) => `member.${cluster}`;
/** The health checks the target pool listed when it was deleted (names, comma-separated). */
const POOL_CHECKS_FACT = 'lb.poolHealthChecks';
/** Between two HTTPS tries of the load balancer's IP. */
const LB_RETRY_PAUSE_MS = 1000;
const peerFact = (cluster: EtcdClusterName) => `peerURL.${cluster}`;

// ------------------------------------------------------------------ helpers

interface Nic {
  name?: string | null;
  subnetwork?: string | null;
  networkIP?: string | null;
  accessConfigs?: { name?: string | null; natIP?: string | null; type?: string | null }[] | null;
}

function nic0(inst: { networkInterfaces?: Nic[] | null }): Nic | null {
  return inst.networkInterfaces?.[0] ?? null;
}

async function staticIP(ctx: RunContext, address: string): Promise<string> {
  const a = await compute(ctx).getAddress(address);
  if (!a?.address) throw new Error(`static address ${address} does not exist in ${compute(ctx).region}`);
  ctx.facts.staticIP = a.address;
  return a.address;
}

/** Swaps the replica's external access config for one with `natIP` (null: ephemeral). */
async function setExternalIP(
  ctx: RunContext,
  zone: string,
  name: string,
  natIP: string | null,
): Promise<void> {
  const c = compute(ctx);
  const inst = await c.getInstance(zone, name);
  if (!inst) throw new Error(`VM ${name} does not exist in ${zone}`);
  const nic = nic0(inst);
  const nicName = nic?.name ?? 'nic0';
  const current = nic?.accessConfigs?.[0];
  const acName = current?.name ?? 'External NAT';
  if (current) {
    await c.mutate(
      `instances.deleteAccessConfig zone=${zone} name=${name} accessConfig="${acName}"`,
      (requestId) =>
        c.c.instances.deleteAccessConfig({
          requestId,
          project: c.project,
          zone,
          instance: name,
          accessConfig: acName,
          networkInterface: nicName,
        }),
      { absent: true },
    );
  }
  await c.mutate(
    `instances.addAccessConfig zone=${zone} name=${name} natIP=${natIP ?? 'ephemeral'}`,
    (requestId) =>
      c.c.instances.addAccessConfig({
        requestId,
        project: c.project,
        zone,
        instance: name,
        networkInterface: nicName,
        accessConfigResource: { name: acName, type: 'ONE_TO_ONE_NAT', ...(natIP ? { natIP } : {}) },
      }),
  );
}

function holds(inst: { networkInterfaces?: Nic[] | null } | null, ip: string): boolean {
  return Boolean(inst && nic0(inst)?.accessConfigs?.some((a) => a.natIP === ip));
}

/**
 * KubeadmControlPlane's rule at run time, on a fresh look: removing this
 * member must leave a healthy majority of the voters that remain.
 */
function assertRemovalSafe(etcd: EtcdOps, snap: Snapshot, m: LiveMember): void {
  if (m.isLearner) return;
  const voters = snap.members.filter((x) => !x.isLearner);
  const healthy = voters.filter((x) => snap.statuses.has(x.id)).length;
  const res = canRemoveVoter(voters.length, healthy, snap.statuses.has(m.id));
  if (!res.ok) {
    throw new Error(
      `removing ${m.id} from etcd ${etcd.cluster} now would leave ${res.healthyLeft} healthy of ${res.votersLeft} voters (${res.needed} needed): refused`,
    );
  }
}

/** Hands leadership to another healthy voter when `m` leads, and waits for the new leader. */
async function moveLeadershipOff(ctx: RunContext, etcd: EtcdOps, m: LiveMember): Promise<string | null> {
  const snap = await etcd.snapshot(true);
  if (snap.leader !== m.id) return null;
  const leaderEndpoint = snap.statuses.get(m.id)?.endpoint;
  if (!leaderEndpoint) return null;
  const target = etcd.pickHealthy(snap, (x) => x.id === m.id).member;
  mayChange(ctx);
  await etcd.moveLeader(target.id, leaderEndpoint);
  await until(ctx, 15_000, `etcd ${etcd.cluster} leadership moving to ${target.id}`, async () => {
    const s = await etcd.snapshot(true);
    return s.leader && s.leader !== m.id
      ? { value: s.leader }
      : { reason: `leader still ${s.leader ?? 'none'}` };
  });
  return target.id;
}

/** Removes a member (found by ID or peer URL) through another healthy member, leadership moved first. */
/**
 * etcd refuses membership changes for a few seconds after one (until every
 * voter has been connected for its 5 s health interval: "unhealthy cluster"),
 * and a promotion until the learner is in sync. Those refusals change nothing;
 * the attempt is made again, each time from a fresh look.
 */
const MEMBERSHIP_RETRY_MS = 20_000;
// Also network failures: each attempt first looks whether the last one took effect.
const TRANSIENT_ETCD =
  /unhealthy cluster|not enough started members|not in sync|not ready|leader changed|no leader|deadline|unavailable|ECONNREFUSED|endpoint answered/i;

async function retryingMembership<T>(ctx: RunContext, what: string, attempt: () => Promise<T>): Promise<T> {
  return until<T>(ctx, MEMBERSHIP_RETRY_MS, what, async () => {
    try {
      return { value: await attempt() };
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (TRANSIENT_ETCD.test(msg)) return { reason: msg };
      throw new Permanent(msg);
    }
  }).catch((err) => {
    throw err instanceof Permanent ? new Error(err.message) : err;
  });
}

async function removeMember(
  ctx: RunContext,
  etcd: EtcdOps,
  by: { id?: string | null; peerURLs?: string[] },
): Promise<string> {
  return retryingMembership(ctx, `etcd ${etcd.cluster} member remove`, async () => {
    const snap = await etcd.snapshot();
    const m = etcd.find(snap, by);
    if (!m) return 'not a member (already removed)';
    assertRemovalSafe(etcd, snap, m);
    const moved = await moveLeadershipOff(ctx, etcd, m);
    const fresh = moved ? await etcd.snapshot(true) : snap;
    const via = etcd.pickHealthy(fresh, (x) => x.id === m.id);
    mayChange(ctx);
    await etcd.remove(m.id, via.endpoint);
    return `removed ${m.id}${m.isLearner ? ' (learner)' : ''}${moved ? `, leadership moved to ${moved} first` : ''}`;
  });
}

function newMemberPeerURL(ctx: RunContext, step: StepOf<'etcd.add-learner'>): string {
  const host = step.args.host ?? ctx.facts.internalIP;
  if (!host)
    throw new Error(`no internal IP reserved for ${step.args.replica} (the reserve step has not run)`);
  return peerURL(step.args.peer, host);
}

/**
 * The learner's peer URL for its undo: the fact its run saved, else rebuilt as
 * the run builds it. A kill after etcd accepted the member but before the step
 * was journalled loses the fact; with peers by IP the address comes from the
 * reserve step's fact, journalled before (found by the plan simulator).
 */
function learnerPeerURL(ctx: RunContext, step: StepOf<'etcd.add-learner'>): string | null {
  const saved = ctx.facts[peerFact(step.args.cluster)];
  if (saved) return saved;
  const host = step.args.host ?? ctx.facts.internalIP ?? null;
  return host ? peerURL(step.args.peer, host) : null;
}

// ------------------------------------------------------------------ runners

const RUNNERS: { [K in StepKind]: Runner<K> } = {
  'lb.create-health-check': {
    async run(step, ctx) {
      const c = compute(ctx);
      const a = step.args;
      if (await c.getHealthCheck(a.name)) return { note: 'already exists' };
      await c.mutate(
        `httpHealthChecks.insert name=${a.name} port=${a.port} path=${a.path}`,
        (requestId) =>
          c.c.httpHealthChecks.insert({
            requestId,
            project: c.project,
            httpHealthCheckResource: {
              name: a.name,
              port: a.port,
              requestPath: a.path,
              checkIntervalSec: 2,
              timeoutSec: 1,
            },
          }),
        { exists: true },
      );
      return {};
    },
    async undo(step, ctx) {
      const c = compute(ctx);
      const r = await c.mutate(
        `httpHealthChecks.delete name=${step.args.name}`,
        (requestId) =>
          c.c.httpHealthChecks.delete({ requestId, project: c.project, httpHealthCheck: step.args.name }),
        { absent: true },
      );
      return r === 'absent' ? { note: 'already gone' } : {};
    },
    async absent(step, ctx) {
      return (await compute(ctx).getHealthCheck(step.args.name)) === null;
    },
  },

  'lb.create-target-pool': {
    async run(step, ctx) {
      const c = compute(ctx);
      const a = step.args;
      const urls = a.instances.map((i) => c.instanceUrl(i.zone, i.name));
      const existing = await c.getTargetPool(a.name);
      if (existing) {
        const have = new Set((existing.instances ?? []).map(lastSegment));
        for (const i of a.instances.filter((x) => !have.has(x.name))) {
          await c.mutate(`targetPools.addInstance pool=${a.name} instance=${i.name}`, (requestId) =>
            c.c.targetPools.addInstance({
              requestId,
              project: c.project,
              region: a.region,
              targetPool: a.name,
              targetPoolsAddInstanceRequestResource: {
                instances: [{ instance: c.instanceUrl(i.zone, i.name) }],
              },
            }),
          );
        }
        return { note: 'already exists' };
      }
      await c.mutate(
        `targetPools.insert region=${a.region} name=${a.name}${a.healthCheck ? ` healthCheck=${a.healthCheck}` : ''} instances=${a.instances.map((i) => i.name).join(',')}`,
        (requestId) =>
          c.c.targetPools.insert({
            requestId,
            project: c.project,
            region: a.region,
            targetPoolResource: {
              name: a.name,
              // New plans attach none, as kube-up; only an operation journalled before names one.
              ...(a.healthCheck
                ? { healthChecks: [`projects/${c.project}/global/httpHealthChecks/${a.healthCheck}`] }
                : {}),
              instances: urls,
            },
          }),
        { exists: true },
      );
      return {};
    },
    async undo(step, ctx) {
      const c = compute(ctx);
      const r = await c.mutate(
        `targetPools.delete region=${step.args.region} name=${step.args.name}`,
        (requestId) =>
          c.c.targetPools.delete({
            requestId,
            project: c.project,
            region: step.args.region,
            targetPool: step.args.name,
          }),
        { absent: true },
      );
      return r === 'absent' ? { note: 'already gone' } : {};
    },
    async absent(step, ctx) {
      return (await compute(ctx).getTargetPool(step.args.name)) === null;
    },
  },

  'lb.detach-static-ip': {
    async run(step, ctx) {
      const { replica, address } = step.args;
      const ip = await staticIP(ctx, address);
      const inst = await compute(ctx).getInstance(replica.zone, replica.name);
      if (!holds(inst, ip)) return { note: `${replica.name} does not hold ${ip}` };
      await setExternalIP(ctx, replica.zone, replica.name, null);
      return { note: `${ip} released by ${replica.name}` };
    },
    async undo(step, ctx) {
      const { replica, address } = step.args;
      const ip = await staticIP(ctx, address);
      const inst = await compute(ctx).getInstance(replica.zone, replica.name);
      if (!inst) throw new Error(`VM ${replica.name} is gone: ${ip} cannot go back to it`);
      if (holds(inst, ip)) return { note: `${replica.name} already holds ${ip}` };
      await setExternalIP(ctx, replica.zone, replica.name, ip);
      return { note: `${ip} back on ${replica.name}` };
    },
  },

  'lb.create-forwarding-rule': {
    async run(step, ctx) {
      const c = compute(ctx);
      const a = step.args;
      if (await c.getForwardingRule(a.name)) return { note: 'already exists' };
      const ip = await staticIP(ctx, a.address);
      await c.mutate(
        `forwardingRules.insert region=${a.region} name=${a.name} IPAddress=${ip} ports=443 target=${a.pool}`,
        (requestId) =>
          c.c.forwardingRules.insert({
            requestId,
            project: c.project,
            region: a.region,
            forwardingRuleResource: {
              name: a.name,
              IPAddress: ip,
              IPProtocol: 'TCP',
              portRange: '443',
              target: `projects/${c.project}/regions/${a.region}/targetPools/${a.pool}`,
            },
          }),
        { exists: true },
      );
      return {};
    },
    async undo(step, ctx) {
      const c = compute(ctx);
      const r = await c.mutate(
        `forwardingRules.delete region=${step.args.region} name=${step.args.name}`,
        (requestId) =>
          c.c.forwardingRules.delete({
            requestId,
            project: c.project,
            region: step.args.region,
            forwardingRule: step.args.name,
          }),
        { absent: true },
      );
      return r === 'absent' ? { note: 'already gone' } : {};
    },
    async absent(step, ctx) {
      return (await compute(ctx).getForwardingRule(step.args.name)) === null;
    },
  },

  'lb.wait-ready': {
    // kube-up's wait: `curl -k -m1 https://<static IP>` until it answers. Any
    // HTTP answer counts (an anonymous client may get 401 or 403); a refused,
    // reset or timed-out connection or a failed TLS handshake does not. The
    // certificate is not verified: it names the static IP, but this tool may
    // not trust its CA. Each try has the call deadline (--timeout, 1.5 s).
    async run(step, ctx) {
      const probe = ctx.apiserverProbe;
      if (!probe) throw new Error('no HTTPS probe of the apiserver available to wait for the load balancer');
      const rule = await compute(ctx).getForwardingRule(step.args.forwardingRule);
      const ip = rule?.IPAddress;
      if (!ip) throw new Error(`forwarding rule ${step.args.forwardingRule} does not exist or has no IP`);
      const started = Date.now();
      const elapsed = () => Math.round((Date.now() - started) / 1000);
      let tries = 0;
      for (;;) {
        tries++;
        const p = await probe(ip);
        if (p.answered) {
          return {
            note: `https://${ip} answered (${p.healthy ? 'ok' : p.error}) after ${elapsed()} s, ${tries} ${tries === 1 ? 'try' : 'tries'}`,
          };
        }
        const why = p.error ?? 'no answer';
        if (Date.now() - started >= ctx.timing.lbReadyTimeoutMs) {
          throw new Error(
            `load balancer ${step.args.forwardingRule}: https://${ip} did not answer in ${Math.round(ctx.timing.lbReadyTimeoutMs / 1000)} s (${tries} tries, last: ${why})`,
          );
        }
        ctx.progress(
          null,
          null,
          `waiting for https://${ip} to answer (${elapsed()} s, ${tries} tries: ${why})`,
        );
        await sleep(LB_RETRY_PAUSE_MS, ctx.signal);
      }
    },
  },

  'address.reserve-internal': {
    async run(step, ctx) {
      const c = compute(ctx);
      const a = step.args;
      const existing = await c.getAddress(a.name);
      if (existing?.address) {
        ctx.facts.internalIP = existing.address;
        return { note: `already reserved: ${existing.address}` };
      }
      const src = ctx.plan.add?.source;
      const inst = src ? await c.getInstance(src.zone, src.name) : null;
      const subnetwork = inst ? nic0(inst)?.subnetwork : null;
      await c.mutate(
        `addresses.insert region=${a.region} name=${a.name} addressType=INTERNAL`,
        (requestId) =>
          c.c.addresses.insert({
            requestId,
            project: c.project,
            region: a.region,
            addressResource: { name: a.name, addressType: 'INTERNAL', ...(subnetwork ? { subnetwork } : {}) },
          }),
        { exists: true },
      );
      const got = await c.getAddress(a.name);
      if (!got?.address) throw new Error(`internal address ${a.name} has no IP after its insert`);
      ctx.facts.internalIP = got.address;
      return { note: got.address };
    },
    async undo(step, ctx) {
      const c = compute(ctx);
      const r = await c.mutate(
        `addresses.delete region=${step.args.region} name=${step.args.name}`,
        (requestId) =>
          c.c.addresses.delete({
            requestId,
            project: c.project,
            region: step.args.region,
            address: step.args.name,
          }),
        { absent: true },
      );
      return r === 'absent' ? { note: 'already gone' } : {};
    },
    async absent(step, ctx) {
      return (await compute(ctx).getAddress(step.args.name)) === null;
    },
  },

  'disk.create': {
    async run(step, ctx) {
      const c = compute(ctx);
      const a = step.args;
      if (await c.getDisk(a.zone, a.name)) return { note: 'already exists' };
      const like = await c.getDisk(a.like.zone, a.like.name);
      const type = lastSegment(like?.type ?? 'pd-ssd');
      const sizeGb = String(like?.sizeGb ?? '20');
      await c.mutate(
        `disks.insert zone=${a.zone} name=${a.name} type=${type} sizeGb=${sizeGb}`,
        (requestId) =>
          c.c.disks.insert({
            requestId,
            project: c.project,
            zone: a.zone,
            diskResource: {
              name: a.name,
              sizeGb,
              type: `projects/${c.project}/zones/${a.zone}/diskTypes/${type}`,
            },
          }),
        { exists: true },
      );
      return like ? {} : { note: `${a.like.name} not found: pd-ssd 20 GB` };
    },
    async undo(step, ctx) {
      const c = compute(ctx);
      const r = await c.mutate(
        `disks.delete zone=${step.args.zone} name=${step.args.name}`,
        (requestId) =>
          c.c.disks.delete({ requestId, project: c.project, zone: step.args.zone, disk: step.args.name }),
        { absent: true },
      );
      return r === 'absent' ? { note: 'already gone' } : {};
    },
    async absent(step, ctx) {
      return (await compute(ctx).getDisk(step.args.zone, step.args.name)) === null;
    },
  },

  'etcd.add-learner': {
    async run(step, ctx) {
      const etcd = ctx.etcd[step.args.cluster];
      const url = newMemberPeerURL(ctx, step);
      ctx.facts[peerFact(step.args.cluster)] = url;
      return retryingMembership(ctx, `etcd ${step.args.cluster} member add`, async () => {
        const snap = await etcd.snapshot();
        const existing = etcd.find(snap, { peerURLs: [url] });
        if (existing) {
          ctx.facts[memberFact(step.args.cluster)] = existing.id;
          return { note: `already a member: ${existing.id}${existing.isLearner ? ' (learner)' : ''}` };
        }
        const via = etcd.pickHealthy(snap);
        mayChange(ctx);
        const m = await etcd.addLearner(url, via.endpoint);
        ctx.facts[memberFact(step.args.cluster)] = m.id;
        return { note: `learner ${m.id} ${url}` };
      });
    },
    async undo(step, ctx) {
      const etcd = ctx.etcd[step.args.cluster];
      const id = ctx.facts[memberFact(step.args.cluster)] ?? null;
      const url = learnerPeerURL(ctx, step);
      if (!id && !url) return { note: 'never added' };
      return { note: await removeMember(ctx, etcd, { id, peerURLs: url ? [url] : [] }) };
    },
    async absent(step, ctx) {
      const etcd = ctx.etcd[step.args.cluster];
      const url = learnerPeerURL(ctx, step);
      if (!url) return true;
      return etcd.find(await etcd.snapshot(true), { peerURLs: [url] }) === null;
    },
  },

  'instance.insert': {
    async run(step, ctx) {
      const c = compute(ctx);
      const a = step.args;
      const inst = await c.getInstance(a.zone, a.name);
      let note: string | undefined;
      if (inst) {
        note = 'already exists';
      } else {
        const src = (await c.getInstance(a.source.zone, a.source.name)) as SourceInstance | null;
        if (!src) throw new Error(`source VM ${a.source.name} is gone`);
        const bootRef = src.disks?.find((d) => d.boot)?.source;
        const boot = bootRef ? await c.getDisk(a.source.zone, lastSegment(bootRef)) : null;
        if (!boot?.sourceImage) throw new Error(`cannot tell the image of ${a.source.name}'s boot disk`);
        const bootDisk: BootDiskSpec = {
          sourceImage: boot.sourceImage,
          sizeGb: boot.sizeGb ? String(boot.sizeGb) : null,
          type: boot.type ?? null,
        };
        let networkIP: string | null = null;
        if (a.internalAddress) {
          networkIP = ctx.facts.internalIP ?? (await c.getAddress(a.internalAddress))?.address ?? null;
          if (!networkIP) throw new Error(`internal address ${a.internalAddress} is not reserved`);
        }
        const resource = cloneInstanceResource(src, {
          project: c.project,
          zone: a.zone,
          name: a.name,
          initialCluster: a.initialCluster,
          bootDisk,
          dataDisk: `${a.name}-pd`,
          networkIP,
        });
        const ownCert = await giveReplicaCerts(resource, a.name);
        await c.mutate(
          `instances.insert zone=${a.zone} name=${a.name} (clone of ${a.source.name}, INITIAL_ETCD_CLUSTER=${a.initialCluster.join(',')}${ownCert ? `, ${ownCert}` : ''})`,
          (requestId) =>
            c.c.instances.insert({ requestId, project: c.project, zone: a.zone, instanceResource: resource }),
          { exists: true },
        );
      }
      const running = await until<NonNullable<typeof inst>>(
        ctx,
        ctx.timing.runningTimeoutMs,
        `VM ${a.name} RUNNING`,
        async () => {
          const i = await c.getInstance(a.zone, a.name);
          if (!i) return { reason: 'not found' };
          return i.status === 'RUNNING' ? { value: i } : { reason: `status ${i.status}` };
        },
      );
      const ip = nic0(running)?.networkIP;
      if (ip) {
        ctx.facts.instanceIP = ip;
        // Its members' peer URLs name it: this is where they are asked for their status.
        for (const e of Object.values(ctx.etcd)) e.learnHost(a.name, ip);
      }
      return { note: [note, `RUNNING at ${ip ?? '?'}`].filter(Boolean).join('; ') };
    },
    async undo(step, ctx) {
      const c = compute(ctx);
      const r = await c.mutate(
        `instances.delete zone=${step.args.zone} name=${step.args.name}`,
        (requestId) =>
          c.c.instances.delete({
            requestId,
            project: c.project,
            zone: step.args.zone,
            instance: step.args.name,
          }),
        { absent: true },
      );
      return r === 'absent' ? { note: 'already gone' } : {};
    },
    async absent(step, ctx) {
      return (await compute(ctx).getInstance(step.args.zone, step.args.name)) === null;
    },
  },

  'etcd.wait-caught-up': {
    async run(step, ctx) {
      const etcd = ctx.etcd[step.args.cluster];
      const id = ctx.facts[memberFact(step.args.cluster)] ?? null;
      const url = ctx.facts[peerFact(step.args.cluster)];
      let goal: number | null = null;
      const started = Date.now();
      const result = await until(
        ctx,
        ctx.timing.catchUpTimeoutMs,
        `${step.args.replica} catching up in etcd ${step.args.cluster}`,
        async () => {
          const snap = await etcd.snapshot(true);
          const m = etcd.find(snap, { id, peerURLs: url ? [url] : [] });
          if (!m)
            throw new Permanent(
              `the learner for ${step.args.replica} is not a member of etcd ${step.args.cluster}`,
            );
          if (!m.isLearner) return { value: 'already a voter' };
          const leader = snap.leader ? snap.statuses.get(snap.leader) : undefined;
          const own = snap.statuses.get(m.id);
          const secs = Math.round((Date.now() - started) / 1000);
          if (!m.name || !own) {
            ctx.progress(
              null,
              leader?.appliedIndex ?? null,
              `waiting for etcd on ${step.args.replica} to start (${secs} s)`,
            );
            return { reason: m.name ? 'its endpoint does not answer' : 'it has not started (no name yet)' };
          }
          if (!leader) return { reason: 'no leader visible' };
          // The goal is the leader's applied index when the learner first answers: it keeps moving.
          goal ??= leader.appliedIndex;
          ctx.progress(
            own.appliedIndex,
            leader.appliedIndex,
            `applied ${own.appliedIndex} of leader's ${leader.appliedIndex}`,
          );
          return own.appliedIndex >= goal
            ? { value: `caught up: applied ${own.appliedIndex} / leader ${leader.appliedIndex}` }
            : { reason: `applied ${own.appliedIndex} of ${goal}` };
        },
      );
      return { note: result };
    },
  },

  'etcd.promote': {
    async run(step, ctx) {
      const etcd = ctx.etcd[step.args.cluster];
      const id = ctx.facts[memberFact(step.args.cluster)] ?? null;
      const url = ctx.facts[peerFact(step.args.cluster)];
      let tries = 0;
      return await until<RunOutcome>(
        ctx,
        ctx.timing.catchUpTimeoutMs,
        `promoting ${step.args.replica} in etcd ${step.args.cluster}`,
        async () => {
          const snap = await etcd.snapshot(true);
          const m = etcd.find(snap, { id, peerURLs: url ? [url] : [] });
          if (!m)
            throw new Permanent(
              `the learner for ${step.args.replica} is not a member of etcd ${step.args.cluster}`,
            );
          if (!m.isLearner) return { value: { note: tries ? `voter ${m.id}` : `already a voter (${m.id})` } };
          tries++;
          try {
            mayChange(ctx);
            await etcd.promote(m.id, etcd.pickHealthy(snap).endpoint);
            return { value: { note: `voter ${m.id}` } };
          } catch (err) {
            // "learner not in sync with leader": etcd wants it closer; try again shortly.
            const msg = err instanceof Error ? err.message : String(err);
            if (TRANSIENT_ETCD.test(msg)) return { reason: msg };
            throw new Permanent(msg);
          }
        },
      );
    },
  },

  'apiserver.wait-healthy': {
    async run(step, ctx) {
      const probe = ctx.apiserverProbe;
      const host = ctx.facts.instanceIP;
      if (!probe || !host) return { skipped: true, note: 'no apiserver health endpoint to ask: skipped' };
      // Where no replica runs an apiserver (a bare etcd lab) there is nothing to wait for.
      const others = (await ctx.observe()).replicas
        .filter((r) => r.name !== step.args.replica && r.vm.internalIP)
        .map((r) => r.vm.internalIP as string);
      const answers = await Promise.all(others.map((h) => probe(h)));
      if (!answers.some((a) => a.answered)) {
        return {
          skipped: true,
          note: `no kube-apiserver answers on the other replicas (${answers[0]?.error ?? 'none'}): skipped`,
        };
      }
      await until(
        ctx,
        ctx.timing.runningTimeoutMs,
        `${step.args.replica}'s apiserver at ${host}`,
        async () => {
          const p = await probe(host);
          return p.healthy ? { value: true } : { reason: p.error ?? 'not healthy' };
        },
      );
      return { note: `https://${host}/healthz ok` };
    },
  },

  'lb.add-instance': {
    async run(step, ctx) {
      const c = compute(ctx);
      const { pool, region, replica } = step.args;
      const p = await c.getTargetPool(pool);
      if (!p) throw new Error(`target pool ${pool} does not exist`);
      if ((p.instances ?? []).some((u) => lastSegment(u) === replica.name))
        return { note: 'already in the pool' };
      await c.mutate(`targetPools.addInstance pool=${pool} instance=${replica.name}`, (requestId) =>
        c.c.targetPools.addInstance({
          requestId,
          project: c.project,
          region,
          targetPool: pool,
          targetPoolsAddInstanceRequestResource: {
            instances: [{ instance: c.instanceUrl(replica.zone, replica.name) }],
          },
        }),
      );
      return {};
    },
    async undo(step, ctx) {
      return poolRemove(ctx, step.args.pool, step.args.region, step.args.replica);
    },
  },

  'etcd.move-leader': {
    async run(step, ctx) {
      const etcd = ctx.etcd[step.args.cluster];
      const snap = await etcd.snapshot();
      const m = etcd.find(snap, { id: step.args.memberId });
      if (!m) return { note: 'not a member' };
      if (snap.leader !== m.id)
        return { note: `not the leader (leader is ${snap.leader ?? 'unknown'}): nothing to move` };
      const to = await moveLeadershipOff(ctx, etcd, m);
      return { note: `leader is now ${to}` };
    },
  },

  'lb.remove-instance': {
    async run(step, ctx) {
      return poolRemove(ctx, step.args.pool, step.args.region, step.args.replica);
    },
    async undo(step, ctx) {
      const c = compute(ctx);
      const { pool, region, replica } = step.args;
      const p = await c.getTargetPool(pool);
      if (!p) throw new Error(`target pool ${pool} is gone: ${replica.name} cannot go back into it`);
      if ((p.instances ?? []).some((u) => lastSegment(u) === replica.name))
        return { note: 'already in the pool' };
      await c.mutate(`targetPools.addInstance pool=${pool} instance=${replica.name}`, (requestId) =>
        c.c.targetPools.addInstance({
          requestId,
          project: c.project,
          region,
          targetPool: pool,
          targetPoolsAddInstanceRequestResource: {
            instances: [{ instance: c.instanceUrl(replica.zone, replica.name) }],
          },
        }),
      );
      return {};
    },
  },

  'etcd.remove-member': {
    async run(step, ctx) {
      const etcd = ctx.etcd[step.args.cluster];
      return {
        note: await removeMember(ctx, etcd, { id: step.args.memberId, peerURLs: step.args.peerURLs }),
      };
    },
    async absent(step, ctx) {
      const etcd = ctx.etcd[step.args.cluster];
      const snap = await etcd.snapshot(true);
      return etcd.find(snap, { id: step.args.memberId, peerURLs: step.args.peerURLs }) !== null;
    },
  },

  'instance.delete': {
    async run(step, ctx) {
      const c = compute(ctx);
      const r = await c.mutate(
        `instances.delete zone=${step.args.zone} name=${step.args.name}`,
        (requestId) =>
          c.c.instances.delete({
            requestId,
            project: c.project,
            zone: step.args.zone,
            instance: step.args.name,
          }),
        { absent: true },
      );
      return r === 'absent' ? { note: 'already gone' } : {};
    },
  },

  'disk.delete': {
    async run(step, ctx) {
      const c = compute(ctx);
      const r = await c.mutate(
        `disks.delete zone=${step.args.zone} name=${step.args.name}`,
        (requestId) =>
          c.c.disks.delete({ requestId, project: c.project, zone: step.args.zone, disk: step.args.name }),
        { absent: true },
      );
      return r === 'absent' ? { note: 'no such disk' } : {};
    },
  },

  'address.delete': {
    async run(step, ctx) {
      const c = compute(ctx);
      const r = await c.mutate(
        `addresses.delete region=${step.args.region} name=${step.args.name}`,
        (requestId) =>
          c.c.addresses.delete({
            requestId,
            project: c.project,
            region: step.args.region,
            address: step.args.name,
          }),
        { absent: true },
      );
      return r === 'absent' ? { note: 'no such address' } : {};
    },
  },

  'lb.delete-forwarding-rule': {
    async run(step, ctx) {
      const c = compute(ctx);
      const r = await c.mutate(
        `forwardingRules.delete region=${step.args.region} name=${step.args.name}`,
        (requestId) =>
          c.c.forwardingRules.delete({
            requestId,
            project: c.project,
            region: step.args.region,
            forwardingRule: step.args.name,
          }),
        { absent: true },
      );
      return r === 'absent' ? { note: 'already gone' } : {};
    },
  },

  'lb.attach-static-ip': {
    async run(step, ctx) {
      const { replica, address } = step.args;
      const ip = await staticIP(ctx, address);
      const inst = await compute(ctx).getInstance(replica.zone, replica.name);
      if (!inst) throw new Error(`VM ${replica.name} does not exist`);
      if (holds(inst, ip)) return { note: `${replica.name} already holds ${ip}` };
      await setExternalIP(ctx, replica.zone, replica.name, ip);
      return { note: `${ip} on ${replica.name}` };
    },
  },

  'lb.delete-target-pool': {
    async run(step, ctx) {
      const c = compute(ctx);
      // Which health check it used, for the next step: the pool is gone by then.
      const pool = await c.getTargetPool(step.args.name);
      if (pool) ctx.facts[POOL_CHECKS_FACT] = (pool.healthChecks ?? []).map(lastSegment).join(',');
      const r = await c.mutate(
        `targetPools.delete region=${step.args.region} name=${step.args.name}`,
        (requestId) =>
          c.c.targetPools.delete({
            requestId,
            project: c.project,
            region: step.args.region,
            targetPool: step.args.name,
          }),
        { absent: true },
      );
      return r === 'absent' ? { note: 'already gone' } : {};
    },
  },

  'lb.delete-health-check': {
    // Only a pool made by an earlier kube-ha has one; kube-up's and today's have none.
    async run(step, ctx) {
      const c = compute(ctx);
      const had = ctx.facts[POOL_CHECKS_FACT];
      if (had !== undefined && !had.split(',').includes(step.args.name)) {
        return { skipped: true, note: `the target pool had no health check ${step.args.name}` };
      }
      const r = await c.mutate(
        `httpHealthChecks.delete name=${step.args.name}`,
        (requestId) =>
          c.c.httpHealthChecks.delete({ requestId, project: c.project, httpHealthCheck: step.args.name }),
        { absent: true },
      );
      return r === 'absent' ? { note: 'already gone' } : {};
    },
  },

  verify: {
    async run(step, ctx) {
      const want = new Set(step.args.replicas);
      const result = await until(ctx, ctx.timing.verifyTimeoutMs, 'verification', async () => {
        const s = await ctx.observe();
        const problems = verifyProblems(s, want, step.args.loadBalancer);
        return problems.length ? { reason: problems.join('; ') } : { value: `${want.size} replicas healthy` };
      });
      return { note: result };
    },
  },
};

async function poolRemove(
  ctx: RunContext,
  pool: string,
  region: string,
  replica: { name: string; zone: string },
): Promise<RunOutcome> {
  const c = compute(ctx);
  const p = await c.getTargetPool(pool);
  if (!p || !(p.instances ?? []).some((u) => lastSegment(u) === replica.name))
    return { note: 'not in the pool' };
  await c.mutate(`targetPools.removeInstance pool=${pool} instance=${replica.name}`, (requestId) =>
    c.c.targetPools.removeInstance({
      requestId,
      project: c.project,
      region,
      targetPool: pool,
      targetPoolsRemoveInstanceRequestResource: {
        instances: [{ instance: c.instanceUrl(replica.zone, replica.name) }],
      },
    }),
  );
  return {};
}

/** What is still wrong with the result: empty when every expectation holds. */
export function verifyProblems(s: ClusterStatus, want: Set<string>, loadBalancer: boolean): string[] {
  const out: string[] = [];
  const have = new Set(s.replicas.map((r) => r.name));
  for (const n of want) if (!have.has(n)) out.push(`${n} missing`);
  for (const r of s.replicas) {
    if (!want.has(r.name)) {
      out.push(`${r.name} still present`);
      continue;
    }
    if (r.vm.status !== 'RUNNING') out.push(`${r.name} VM ${r.vm.status}`);
    for (const c of ETCD_CLUSTERS) {
      const m = r.etcd[c];
      if (!m) out.push(`${r.name} not in etcd ${c}`);
      else if (m.learner) out.push(`${r.name} still a learner in etcd ${c}`);
      else if (!m.healthy) out.push(`${r.name} unhealthy in etcd ${c}`);
    }
  }
  if (loadBalancer) {
    if (!s.loadBalancer) out.push('no forwarding rule');
    else {
      const pool = new Set(s.loadBalancer.instances);
      for (const n of want) if (!pool.has(n)) out.push(`${n} not in the target pool`);
      for (const n of pool) if (!want.has(n)) out.push(`${n} still in the target pool`);
    }
  } else {
    if (s.loadBalancer) out.push('the forwarding rule still exists');
    const only = [...want][0];
    if (s.apiserverIP && s.apiserverIP.attachedTo !== only) {
      out.push(`the static IP is on ${s.apiserverIP.attachedTo ?? 'nothing'}, not ${only}`);
    }
  }
  return out;
}

export function runnerFor(step: PlanStep): Runner<StepKind> {
  return RUNNERS[step.kind] as unknown as Runner<StepKind>;
}
