// Reading a journal back from disk. A journal is the only record of an
// operation left half-done, so one that cannot be read must never pass
// silently (new operations would run over a half-done one) nor crash the
// tool later on a missing field: every field the executor, the recovery
// decisions and the renderers read is checked here, and the first problem is
// reported with its place in the document. Pure.

import type { Journal, JournalState, StepRecord, StepStatus } from './journal.js';
import type { OperationHolder } from './lock.js';
import type { Plan, PlanStep, StepKind } from './plan.js';

export type JournalParse = { ok: true; journal: Journal } | { ok: false; reason: string };

export const JOURNAL_FORMAT = 1;

const STATES: readonly JournalState[] = ['running', 'rolling-back', 'done', 'rolled-back', 'failed'];
const STEP_STATUSES: readonly StepStatus[] = [
  'pending',
  'running',
  'done',
  'skipped',
  'failed',
  'undoing',
  'undone',
  'undo-failed',
];
const KINDS = ['add', 'remove', 'replace', 'reset', 'start', 'defrag'] as const;
const LOCK_PLACES = ['main', 'events', 'local'] as const;
const LOAD_BALANCER = ['create', 'teardown', 'keep', 'none'] as const;

class Bad extends Error {}

type Obj = Record<string, unknown>;

const show = (v: unknown): string => {
  if (v === undefined) return 'missing';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
};

function bad(at: string, v: unknown, expected: string): never {
  throw new Bad(`${at}: ${show(v)}, expected ${expected}`);
}

function obj(v: unknown, at: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(at, v, 'an object');
  return v as Obj;
}

function str(v: unknown, at: string): string {
  if (typeof v !== 'string' || v === '') bad(at, v, 'a non-empty string');
  return v;
}

function strOrNull(v: unknown, at: string): string | null {
  if (v === null) return null;
  if (typeof v !== 'string') bad(at, v, 'a string or null');
  return v;
}

function optStr(o: Obj, key: string, at: string): void {
  if (o[key] !== undefined && typeof o[key] !== 'string') bad(`${at}.${key}`, o[key], 'a string');
}

function bool(v: unknown, at: string): boolean {
  if (typeof v !== 'boolean') bad(at, v, 'true or false');
  return v;
}

function num(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(at, v, 'a number');
  return v;
}

function time(v: unknown, at: string): string {
  const s = str(v, at);
  if (!Number.isFinite(Date.parse(s))) bad(at, v, 'an ISO time');
  return s;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], at: string): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
    bad(at, v, `one of ${allowed.join(', ')}`);
  return v as T;
}

function arr(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) bad(at, v, 'a list');
  return v;
}

function strings(v: unknown, at: string): string[] {
  return arr(v, at).map((x, i) => str(x, `${at}[${i}]`));
}

function located(v: unknown, at: string): void {
  const o = obj(v, at);
  str(o.name, `${at}.name`);
  str(o.zone, `${at}.zone`);
}

/** What each step kind's runner reads from its args. */
type ArgType =
  | 'string'
  | 'string|null'
  | 'number'
  | 'boolean'
  | 'located'
  | 'located[]'
  | 'string[]'
  | 'cluster'
  | 'peer';

const ARGS: Record<StepKind, Record<string, ArgType>> = {
  'etcd.snapshot': { cluster: 'cluster' },
  'etcd.compact': { cluster: 'cluster' },
  'etcd.defrag': { cluster: 'cluster', replica: 'string', memberId: 'string' },
  'etcd.disarm': { cluster: 'cluster' },
  'etcd.verify-space': { cluster: 'cluster', replicas: 'string[]' },
  'lb.create-health-check': { name: 'string', port: 'number', path: 'string' },
  'lb.create-target-pool': {
    name: 'string',
    region: 'string',
    healthCheck: 'string|null',
    instances: 'located[]',
  },
  'lb.detach-static-ip': { replica: 'located', address: 'string', region: 'string' },
  'lb.create-forwarding-rule': { name: 'string', region: 'string', address: 'string', pool: 'string' },
  'lb.wait-ready': { forwardingRule: 'string', region: 'string', pool: 'string' },
  'address.reserve-internal': { name: 'string', region: 'string', replica: 'string' },
  'disk.create': { name: 'string', zone: 'string', like: 'located' },
  'etcd.add-learner': { cluster: 'cluster', replica: 'string', peer: 'peer', host: 'string|null' },
  'instance.insert': {
    name: 'string',
    zone: 'string',
    source: 'located',
    initialCluster: 'string[]',
    internalAddress: 'string|null',
  },
  'etcd.wait-caught-up': { cluster: 'cluster', replica: 'string' },
  'etcd.promote': { cluster: 'cluster', replica: 'string' },
  'apiserver.wait-healthy': { replica: 'string' },
  'lb.add-instance': { pool: 'string', region: 'string', replica: 'located' },
  'etcd.move-leader': { cluster: 'cluster', replica: 'string', memberId: 'string' },
  'lb.remove-instance': { pool: 'string', region: 'string', replica: 'located' },
  'etcd.remove-member': { cluster: 'cluster', replica: 'string', memberId: 'string', peerURLs: 'string[]' },
  'instance.delete': { name: 'string', zone: 'string' },
  'disk.delete': { name: 'string', zone: 'string' },
  'address.delete': { name: 'string', region: 'string' },
  'lb.delete-forwarding-rule': { name: 'string', region: 'string' },
  'lb.attach-static-ip': { replica: 'located', address: 'string', region: 'string' },
  'lb.delete-target-pool': { name: 'string', region: 'string' },
  'lb.delete-health-check': { name: 'string' },
  verify: { replicas: 'string[]', loadBalancer: 'boolean', pool: 'string|null' },
  'instance.reset': { name: 'string', zone: 'string', force: 'boolean' },
  'instance.start': { name: 'string', zone: 'string' },
  'etcd.wait-member-healthy': { cluster: 'cluster', replica: 'string', memberId: 'string', until: 'string' },
};

function arg(v: unknown, type: ArgType, at: string): void {
  switch (type) {
    case 'string':
      str(v, at);
      return;
    case 'string|null':
      strOrNull(v, at);
      return;
    case 'number':
      num(v, at);
      return;
    case 'boolean':
      bool(v, at);
      return;
    case 'located':
      located(v, at);
      return;
    case 'located[]':
      arr(v, at).forEach((x, i) => {
        located(x, `${at}[${i}]`);
      });
      return;
    case 'string[]':
      strings(v, at);
      return;
    case 'cluster':
      oneOf(v, ['main', 'events'], at);
      return;
    case 'peer': {
      const o = obj(v, at);
      oneOf(o.scheme, ['http', 'https'], `${at}.scheme`);
      num(o.port, `${at}.port`);
      return;
    }
  }
}

function step(v: unknown, at: string): PlanStep {
  const o = obj(v, at);
  str(o.id, `${at}.id`);
  const kind = o.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(ARGS, kind))
    bad(`${at}.kind`, kind, 'a step kind this kube-ha knows');
  str(o.title, `${at}.title`);
  str(o.changes, `${at}.changes`);
  strOrNull(o.undo, `${at}.undo`);
  str(o.manual, `${at}.manual`);
  strOrNull(o.manualUndo, `${at}.manualUndo`);
  bool(o.reversible, `${at}.reversible`);
  bool(o.checkpoint, `${at}.checkpoint`);
  const args = obj(o.args, `${at}.args`);
  for (const [key, type] of Object.entries(ARGS[kind as StepKind])) arg(args[key], type, `${at}.args.${key}`);
  return o as unknown as PlanStep;
}

function plan(v: unknown, operationId: string): Plan {
  const o = obj(v, 'plan');
  if (str(o.operationId, 'plan.operationId') !== operationId)
    bad('plan.operationId', o.operationId, `the journal's operation ${operationId}`);
  const kind = oneOf(o.kind, KINDS, 'plan.kind');
  const request = obj(o.request, 'plan.request');
  if (request.kind !== kind) bad('plan.request.kind', request.kind, kind);
  for (const k of ['summary', 'project', 'region', 'masterName'] as const) str(o[k], `plan.${k}`);
  strings(o.replicasBefore, 'plan.replicasBefore');
  strings(o.replicasAfter, 'plan.replicasAfter');
  oneOf(o.loadBalancer, LOAD_BALANCER, 'plan.loadBalancer');
  if (o.add !== null) {
    const a = obj(o.add, 'plan.add');
    str(a.name, 'plan.add.name');
    str(a.zone, 'plan.add.zone');
    located(a.source, 'plan.add.source');
    strings(a.initialCluster, 'plan.add.initialCluster');
  }
  if (o.remove !== null) {
    const r = obj(o.remove, 'plan.remove');
    str(r.name, 'plan.remove.name');
    strOrNull(r.zone, 'plan.remove.zone');
  }
  if ((kind === 'add' || kind === 'replace') && o.add === null)
    bad('plan.add', null, `the replica a ${kind} adds`);
  if ((kind === 'remove' || kind === 'replace') && o.remove === null)
    bad('plan.remove', null, `the replica a ${kind} removes`);
  if (kind === 'reset' || kind === 'start') {
    const r = obj(o.remedy, 'plan.remedy');
    str(r.replica, 'plan.remedy.replica');
    str(r.zone, 'plan.remedy.zone');
    oneOf(r.lockPlace, LOCK_PLACES, 'plan.remedy.lockPlace');
    strings(r.notes, 'plan.remedy.notes');
  }
  const steps = arr(o.steps, 'plan.steps').map((s, i) => step(s, `plan.steps[${i}]`));
  if (steps.length === 0) bad('plan.steps', [], 'at least one step');
  const seen = new Set<string>();
  for (const [i, s] of steps.entries()) {
    if (seen.has(s.id)) bad(`plan.steps[${i}].id`, s.id, 'an id no other step has');
    seen.add(s.id);
  }
  return o as unknown as Plan;
}

function holder(v: unknown): OperationHolder {
  const o = obj(v, 'holder');
  str(o.user, 'holder.user');
  str(o.host, 'holder.host');
  num(o.pid, 'holder.pid');
  str(o.tool, 'holder.tool');
  return o as unknown as OperationHolder;
}

function record(v: unknown, at: string, expectedId: string): StepRecord {
  const o = obj(v, at);
  if (o.id !== expectedId)
    bad(`${at}.id`, o.id, `${JSON.stringify(expectedId)} (the plan's step at this place)`);
  oneOf(o.status, STEP_STATUSES, `${at}.status`);
  for (const k of ['startedAt', 'endedAt', 'error', 'note']) optStr(o, k, at);
  if (o.applied !== undefined) bool(o.applied, `${at}.applied`);
  if (o.requestIds !== undefined) {
    const ids = obj(o.requestIds, `${at}.requestIds`);
    for (const [k, v] of Object.entries(ids)) str(v, `${at}.requestIds[${JSON.stringify(k)}]`);
  }
  return o as unknown as StepRecord;
}

/** Checks a decoded document; the journal, or the first thing wrong with it. */
export function validateJournal(value: unknown): JournalParse {
  try {
    const o = obj(value, 'journal');
    if (o.format !== JOURNAL_FORMAT)
      return {
        ok: false,
        reason: `unknown format ${show(o.format)} (this kube-ha reads format ${JOURNAL_FORMAT}: a newer kube-ha may have written it)`,
      };
    const operationId = str(o.operationId, 'operationId');
    const p = plan(o.plan, operationId);
    holder(o.holder);
    oneOf(o.state, STATES, 'state');
    time(o.startedAt, 'startedAt');
    time(o.updatedAt, 'updatedAt');
    const steps = arr(o.steps, 'steps');
    if (steps.length !== p.steps.length)
      bad('steps', `${steps.length} records`, `one per plan step (${p.steps.length})`);
    steps.forEach((s, i) => {
      record(s, `steps[${i}]`, p.steps[i]!.id);
    });
    const facts = obj(o.facts, 'facts');
    for (const [k, v] of Object.entries(facts)) if (typeof v !== 'string') bad(`facts.${k}`, v, 'a string');
    optStr(o, 'error', 'journal');
    return { ok: true, journal: o as unknown as Journal };
  } catch (e) {
    if (e instanceof Bad) return { ok: false, reason: e.message };
    throw e;
  }
}

/** A journal file's text: the journal, or why it cannot be used. */
export function parseJournal(text: string): JournalParse {
  if (text.trim() === '') return { ok: false, reason: 'empty file' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `not JSON (${(e as Error).message}): truncated or not a journal` };
  }
  return validateJournal(value);
}

/**
 * What can still be made out of an unreadable journal (its steps' ids and
 * statuses, when those are there), so that an operator discarding it sees
 * what it may have done. Never throws.
 */
export function salvageSteps(text: string): string[] {
  try {
    const v = JSON.parse(text) as { steps?: unknown };
    if (!Array.isArray(v.steps)) return [];
    return v.steps.flatMap((s: unknown) => {
      const r = s as { id?: unknown; status?: unknown } | null;
      return r && typeof r.id === 'string'
        ? [`${r.id}: ${typeof r.status === 'string' ? r.status : '?'}`]
        : [];
    });
  } catch {
    return [];
  }
}
