// Helpers for the operator-flow tests against real labs: the CLI with a
// private state dir (journals of one file never block another), the cluster's
// consistency as the issue defines it, the lab's Compute API for what status
// does not show (disks, addresses), and a CLI run in the background to kill.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, onTestFailed } from 'vitest';
import { resolveTarget } from '../../src/cli/target-flags.js';
import type { Journal } from '../../src/domain/ops/journal.js';
import { parseJournal } from '../../src/domain/ops/journal-parse.js';
import { buildStatus } from '../../src/domain/status.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { readLabContext } from '../../src/lab/context.js';
import { createGceSource } from '../../src/sources/gce-source.js';
import { Observer } from '../../src/sources/observe.js';
import { BIN, type CliResult, eventually, lastLookUntil, runCli } from '../helpers/cli.js';

export interface OpsLab {
  dir: string;
  env: NodeJS.ProcessEnv;
  stateDir: string;
}

export function opsLab(dir: string): OpsLab {
  // Beside the lab's (temporary) directory, which holds only the lab; labDown removes both.
  const xdg = mkdtempSync(`${dir}.state-`);
  return { dir, env: { XDG_STATE_HOME: xdg }, stateDir: join(xdg, 'kube-ha') };
}

/** `kube-ha <args> --lab-dir DIR` with the lab's private state dir. */
export function cli(lab: OpsLab, args: string[], timeoutMs = 120_000): Promise<CliResult> {
  return runCli([...args, '--lab-dir', lab.dir], { env: lab.env, timeoutMs });
}

/** One observer per lab, rebuilt when the lab's supervisor points its endpoints elsewhere. */
const observers = new Map<string, { key: string; observer: Observer }>();

afterAll(async () => {
  for (const { observer } of observers.values()) await observer.close();
  observers.clear();
});

/**
 * The lab's status as `kube-ha status --json` builds it (same Observer and
 * buildStatus; leases read, apiservers not probed: consistency leaves them
 * to the apiservers' own tests), in this process: a CLI per look costs a Node
 * start and the Compute client's load, seconds each on a loaded 2-core
 * machine, and the operator tests look dozens of times. What the CLI prints is
 * checked by the tests of `kube-ha status` itself.
 */
export async function status(lab: OpsLab): Promise<ClusterStatus> {
  // A look whose Compute call missed its deadline (a loaded machine: 1.5 s) has no
  // zones, no VM states and no load balancer. The lab's Compute is never down in
  // these tests, so that is the machine, not the cluster: look again, bounded.
  let s = await look(lab);
  for (let i = 0; i < 3 && !computeAnswered(s); i++) s = await look(lab);
  return s;
}

/**
 * A look once every member of both clusters answers healthy, bounded: right
 * after `lab up` on a loaded machine one member's first answer can miss the
 * look's deadline. The last look is returned either way, for the test to
 * assert on, so a member that never becomes healthy still fails it.
 */
export function healthyStatus(lab: OpsLab, timeoutMs = 30_000): Promise<ClusterStatus> {
  return lastLookUntil(
    () => status(lab),
    (s) =>
      (['main', 'events'] as const).every(
        (c) => s.etcd[c].members > 0 && s.etcd[c].healthyMembers === s.etcd[c].members,
      ),
    timeoutMs,
  );
}

function computeAnswered(s: ClusterStatus): boolean {
  return s.sources.gce && !s.warnings.some((w) => w.code === 'GCE_UNREACHABLE');
}

async function look(lab: OpsLab): Promise<ClusterStatus> {
  const ctx = readLabContext(lab.dir);
  const key = JSON.stringify([ctx.supervisorPid, ctx.etcd.main.endpoints, ctx.etcd.events.endpoints]);
  let entry = observers.get(lab.dir);
  if (entry?.key !== key) {
    await entry?.observer.close();
    const target = resolveTarget({ 'lab-dir': lab.dir, timeout: '3' });
    entry = { key, observer: new Observer(target, createGceSource(target)) };
    observers.set(lab.dir, entry);
  }
  return buildStatus(await entry.observer.observeAll({ leases: true }));
}

/** A call to the lab's Compute API (REST JSON), thrown on an error status. */
export async function compute<T>(lab: OpsLab, path: string, init?: RequestInit): Promise<T> {
  const ctx = readLabContext(lab.dir);
  const res = await fetch(`${ctx.computeEndpoint}/compute/v1/projects/${ctx.project}/${path}`, {
    ...init,
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as T;
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Names in one of the lab's aggregated Compute collections (every zone or region). */
export async function aggregatedNames(
  lab: OpsLab,
  collection: 'disks' | 'addresses' | 'instances',
): Promise<string[]> {
  const res = await compute<{ items?: Record<string, Record<string, { name: string }[] | undefined>> }>(
    lab,
    `aggregated/${collection}`,
  );
  return Object.values(res.items ?? {}).flatMap((scope) => (scope[collection] ?? []).map((x) => x.name));
}

/**
 * The consistency: every replica a running VM with healthy voting
 * members in main and events, no learner, no member without a VM or VM without
 * a member, no orphan disk or internal address, the target pool holding
 * exactly the replicas (2+) or the static IP on the only replica (1).
 */
export async function inconsistencies(lab: OpsLab, observed?: ClusterStatus): Promise<string[]> {
  const s = observed ?? (await status(lab));
  const out: string[] = [];
  const names = new Set(s.replicas.map((r) => r.name));
  for (const r of s.replicas) {
    if (r.vm.status !== 'RUNNING') out.push(`${r.name}: VM ${r.vm.status}`);
    for (const c of ['main', 'events'] as const) {
      const m = r.etcd[c];
      if (!m) out.push(`${r.name}: no ${c} member`);
      else if (m.learner) out.push(`${r.name}: ${c} learner`);
      else if (!m.healthy) out.push(`${r.name}: ${c} unhealthy (${m.error})`);
    }
  }
  for (const c of ['main', 'events'] as const) {
    if (s.etcd[c].members !== names.size)
      out.push(`etcd ${c} has ${s.etcd[c].members} members for ${names.size} replicas`);
  }
  // Degraded, not merely advised against; apiserver health is the apiserver's business (a bare lab has none).
  for (const w of s.warnings) {
    if (w.severity === 'error' && w.code !== 'APISERVER_UNHEALTHY') out.push(`${w.code}: ${w.message}`);
  }
  const master = s.masterName ?? 'kubernetes-master';
  for (const d of await aggregatedNames(lab, 'disks')) {
    if (d.endsWith('-pd') && !names.has(d.slice(0, -3))) out.push(`orphan disk ${d}`);
  }
  for (const a of await aggregatedNames(lab, 'addresses')) {
    if (a.endsWith('-internal-ip') && !names.has(a.slice(0, -'-internal-ip'.length)))
      out.push(`orphan address ${a}`);
  }
  for (const i of await aggregatedNames(lab, 'instances')) {
    if (i.startsWith(master) && !names.has(i)) out.push(`VM ${i} is not a replica`);
  }
  if (names.size >= 2) {
    const pool = new Set(s.loadBalancer?.instances ?? []);
    if (!s.loadBalancer) out.push('no load balancer');
    else if (pool.size !== names.size || [...names].some((n) => !pool.has(n))) {
      out.push(`target pool holds ${[...pool].join(',')}, replicas are ${[...names].join(',')}`);
    }
    if (s.apiserverIP?.attachedTo !== 'load-balancer') out.push(`static IP on ${s.apiserverIP?.attachedTo}`);
  } else {
    if (s.loadBalancer) out.push('a load balancer with one replica');
    if (s.apiserverIP?.attachedTo !== [...names][0]) out.push(`static IP on ${s.apiserverIP?.attachedTo}`);
  }
  return out;
}

/**
 * Waits (a loaded machine can miss a status deadline right after a membership
 * change) until the cluster is consistent with `replicas` replicas; otherwise
 * what was wrong at the last look, or why there was no look (a status that
 * did not parse), and that it timed out. Never empty unless it saw consistency.
 */
export async function settle(lab: OpsLab, replicas: number | null, timeoutMs = 20_000): Promise<string[]> {
  let last: string[] = ['never observed'];
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const s = await status(lab);
      const now = await inconsistencies(lab, s);
      if (replicas !== null && s.replicas.length !== replicas)
        now.push(`${s.replicas.length} replicas, not ${replicas}`);
      if (now.length === 0) return [];
      last = now;
    } catch (e) {
      last = [`could not observe: ${(e as Error).message}`];
    }
    if (Date.now() > until) return [...last, `not consistent within ${timeoutMs} ms`];
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Sets (or, with null, removes) one metadata item on every replica VM, through the lab's Compute API. */
export async function setMetadataOnReplicas(lab: OpsLab, key: string, value: string | null): Promise<void> {
  // Every replica's zone comes from Compute: a look whose Compute call failed (a loaded machine) has none.
  const s = await eventually(async () => {
    const x = await status(lab);
    return x.replicas.length > 0 && x.replicas.every((r) => r.zone) ? x : null;
  }, 30_000);
  for (const r of s.replicas) {
    const path = `zones/${r.zone}/instances/${r.name}`;
    // As GCE, the lab answers resourceNotReady while an operation on the VM runs: try again (bounded).
    for (let attempt = 1; ; attempt++) {
      const inst = await compute<{
        metadata: { fingerprint: string; items?: { key: string; value: string }[] };
      }>(lab, path);
      const items = (inst.metadata.items ?? []).filter((i) => i.key !== key);
      if (value !== null) items.push({ key, value });
      try {
        await compute(lab, `${path}/setMetadata`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ fingerprint: inst.metadata.fingerprint, items }),
        });
        break;
      } catch (e) {
        if (attempt >= 20 || !/resourceNotReady/.test((e as Error).message)) throw e;
        await new Promise((res) => setTimeout(res, 500));
      }
    }
  }
}

export async function labFault(lab: OpsLab, fault: Record<string, unknown> | null): Promise<void> {
  const ctx = readLabContext(lab.dir);
  const res = await fetch(`${ctx.controlURL}/faults`, {
    method: fault ? 'POST' : 'DELETE',
    headers: { 'content-type': 'application/json' },
    ...(fault ? { body: JSON.stringify(fault) } : {}),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`fault: ${res.status} ${await res.text()}`);
}

/** The lab's armed faults and how often each struck. */
export async function labFaults(
  lab: OpsLab,
): Promise<{ fault: { method: string; mode: string }; hits: number }[]> {
  const ctx = readLabContext(lab.dir);
  const res = await fetch(`${ctx.controlURL}/faults`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`faults: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { faults: { fault: { method: string; mode: string }; hits: number }[] })
    .faults;
}

/**
 * The journals the CLI left in this lab's state dir. A `.json` file that is
 * not a readable journal fails the test: the store writes a temporary file and
 * renames it, so a half-written journal is never seen here, and "no journal
 * left" must not pass beside a corrupt one.
 */
export function journals(lab: OpsLab): Journal[] {
  const root = join(lab.stateDir, 'operations');
  if (!existsSync(root)) return [];
  const out: Journal[] = [];
  for (const d of readdirSync(root)) {
    for (const f of readdirSync(join(root, d))) {
      if (!f.endsWith('.json')) continue;
      const path = join(root, d, f);
      const res = parseJournal(readFileSync(path, 'utf8'));
      if (!res.ok) throw new Error(`journal ${path} cannot be read: ${res.reason}`);
      out.push(res.journal);
    }
  }
  return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

export interface Background {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Background CLIs still running: a failed test must not leave one holding the lock for the next. */
const running = new Set<ChildProcess>();

/** SIGKILLs every background CLI still running (after each test, and when a test fails). */
export function killBackground(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

afterEach(killBackground);

/** The CLI in the background, to run concurrently with another or to be killed. */
export function background(lab: OpsLab, args: string[]): Background {
  const child = spawn(process.execPath, [BIN, ...args, '--lab-dir', lab.dir], {
    env: { ...process.env, ...lab.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
  // At once on failure, before the test's own finally blocks wait on anything.
  onTestFailed(() => {
    child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Polls (every 20 ms) until the newest journal has a step in one of the given states. */
export async function untilStep(
  lab: OpsLab,
  stepId: string,
  states: string[],
  timeoutMs = 60_000,
): Promise<Journal> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const j = journals(lab).at(-1);
    if (j?.steps.some((s) => s.id === stepId && states.includes(s.status))) return j;
    if (Date.now() > until) throw new Error(`step ${stepId} never reached ${states.join('|')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
