// What changed between two statuses, as timeline entries a person can read.
// Pure: the store calls it on every status change, tests call it directly.

import { apiserverWord, apiserverWords } from '../domain/apiserver-words.js';
import {
  apiserverAttachment,
  healthWord,
  hexId,
  leaderName,
  quorumSummary,
  replicaOfMember,
} from '../domain/format.js';
import type {
  ClusterStatus,
  EtcdClusterName,
  MemberView,
  ReplicaView,
  VmStatus,
  Warning,
} from '../domain/types.js';
import { ETCD_CLUSTERS } from '../domain/types.js';
import type { TimelineDraft, TimelineSeverity } from './types.js';

interface Located {
  member: MemberView;
  replica: string;
}

function membersOf(status: ClusterStatus, cluster: EtcdClusterName): Map<string, Located> {
  const out = new Map<string, Located>();
  for (const r of status.replicas) {
    const m = r.etcd[cluster];
    if (m) out.set(m.memberId, { member: m, replica: r.name });
  }
  return out;
}

function vmSeverity(s: VmStatus): TimelineSeverity {
  if (s === 'RUNNING') return 'info';
  if (s === 'MISSING' || s === 'TERMINATED' || s === 'STOPPED' || s === 'SUSPENDED') return 'error';
  return 'warning';
}

function warningKey(w: Warning): string {
  return `${w.code}|${w.cluster ?? ''}|${w.replica ?? ''}|${w.code === 'LOAD_BALANCER_MISMATCH' ? w.message : ''}`;
}

function memberLabel(l: Located): string {
  return `${l.member.name || '(unstarted)'} ${hexId(l.member.memberId)} on ${l.replica}`;
}

/** The first status of a session: one line with the picture, then each warning present. */
function baseline(next: ClusterStatus, at: number): TimelineDraft[] {
  const zones = new Set(next.replicas.flatMap((r) => (r.zone ? [r.zone] : []))).size;
  const n = next.replicas.length;
  const parts = [
    `${n} replica${n === 1 ? '' : 's'}${zones ? ` in ${zones} zone${zones === 1 ? '' : 's'}` : ''}`,
  ];
  for (const c of ETCD_CLUSTERS) {
    if (!next.etcd[c].observed) continue;
    const leader = leaderName(next, c);
    parts.push(`${c} ${quorumSummary(next.etcd[c])}, leader ${leader ?? 'none'}`);
  }
  const out: TimelineDraft[] = [
    { at, kind: 'observed', severity: 'info', message: `first observation: ${parts.join('; ')}` },
  ];
  for (const w of next.warnings) out.push(warningEvent(w, at, 'appeared'));
  return out;
}

function warningEvent(w: Warning, at: number, change: 'appeared' | 'cleared'): TimelineDraft {
  const e: TimelineDraft = {
    at,
    kind: 'warning',
    severity: change === 'cleared' ? 'info' : w.severity,
    message: change === 'cleared' ? `cleared: ${w.message}` : `${w.severity}: ${w.message}`,
    code: w.code,
  };
  if (w.replica) e.replica = w.replica;
  if (w.cluster) e.cluster = w.cluster;
  return e;
}

function replicaEvents(prev: ClusterStatus, next: ClusterStatus, at: number): TimelineDraft[] {
  const out: TimelineDraft[] = [];
  // The first Compute answer of a session is a picture, not a series of arrivals.
  if (!prev.sources.gce && next.sources.gce) {
    const vms = next.replicas.filter((r) => r.vm.status !== 'MISSING' && r.vm.status !== 'UNKNOWN').length;
    const message = `Compute API first answered: ${vms} replica VM${vms === 1 ? '' : 's'}; ${apiserverAttachment(next)}`;
    return [{ at, kind: 'observed', severity: 'info', message }];
  }
  const before = new Map(prev.replicas.map((r) => [r.name, r]));
  const after = new Map(next.replicas.map((r) => [r.name, r]));
  for (const [name, r] of after) {
    const p = before.get(name);
    if (!p) {
      out.push({
        at,
        kind: 'replica',
        severity: 'info',
        replica: name,
        message: `replica ${name} appeared${r.zone ? ` in ${r.zone}` : ''} (VM ${r.vm.status})`,
      });
      continue;
    }
    out.push(...vmEvents(p, r, at));
  }
  for (const name of before.keys()) {
    if (!after.has(name)) {
      out.push({
        at,
        kind: 'replica',
        severity: 'warning',
        replica: name,
        message: `replica ${name} is gone`,
      });
    }
  }
  return out;
}

function vmEvents(p: ReplicaView, r: ReplicaView, at: number): TimelineDraft[] {
  const out: TimelineDraft[] = [];
  // Learning a VM's state for the first time is not a change of it.
  if (p.vm.status === 'UNKNOWN') return out;
  if (p.vm.status !== r.vm.status) {
    out.push({
      at,
      kind: 'vm',
      severity: vmSeverity(r.vm.status),
      replica: r.name,
      message: `${r.name}: VM ${p.vm.status} -> ${r.vm.status}`,
    });
  }
  for (const key of ['internalIP', 'externalIP'] as const) {
    if (p.vm[key] !== r.vm[key]) {
      const label = key === 'internalIP' ? 'internal IP' : 'external IP';
      out.push({
        at,
        kind: 'vm',
        severity: 'info',
        replica: r.name,
        message: `${r.name}: ${label} ${p.vm[key] ?? 'none'} -> ${r.vm[key] ?? 'none'}`,
      });
    }
  }
  if (p.inTargetPool !== r.inTargetPool) {
    out.push({
      at,
      kind: 'vm',
      severity: 'info',
      replica: r.name,
      message: `${r.name} ${r.inTargetPool ? 'joined' : 'left'} the load balancer's target pool`,
    });
  }
  return out;
}

function memberEvents(
  prev: ClusterStatus,
  next: ClusterStatus,
  cluster: EtcdClusterName,
  at: number,
): TimelineDraft[] {
  const out: TimelineDraft[] = [];
  if (!prev.etcd[cluster].observed) return out;
  const before = membersOf(prev, cluster);
  const after = membersOf(next, cluster);
  const ev = (severity: TimelineSeverity, replica: string, kind: 'member' | 'health', message: string) =>
    out.push({ at, kind, severity, replica, cluster, message: `${cluster}: ${message}` });
  for (const [id, now] of after) {
    const was = before.get(id);
    if (!was) {
      ev(
        'info',
        now.replica,
        'member',
        `member ${memberLabel(now)} added${now.member.learner ? ' as learner' : ''}`,
      );
      continue;
    }
    if (was.member.learner && !now.member.learner)
      ev('info', now.replica, 'member', `${memberLabel(now)} promoted to voter`);
    const h0 = healthWord(was.member);
    const h1 = healthWord(now.member);
    if (h0 !== h1) {
      const why = h1 !== 'healthy' && now.member.error ? ` (${now.member.error})` : '';
      ev(
        h1 === 'healthy' ? 'info' : 'error',
        now.replica,
        'health',
        `${memberLabel(now)} ${h0} -> ${h1}${why}`,
      );
    }
  }
  for (const [id, was] of before) {
    if (!after.has(id)) ev('warning', was.replica, 'member', `member ${memberLabel(was)} removed`);
  }
  return out;
}

function leaderEvents(
  prev: ClusterStatus,
  next: ClusterStatus,
  cluster: EtcdClusterName,
  at: number,
): TimelineDraft[] {
  if (!prev.etcd[cluster].observed) {
    if (!next.etcd[cluster].observed) return [];
    // First answer from this cluster: its picture, instead of one "added" per member.
    const leader = leaderName(next, cluster);
    return [
      {
        at,
        kind: 'observed',
        severity: 'info',
        cluster,
        message: `${cluster} first answered: ${quorumSummary(next.etcd[cluster])}, leader ${leader ?? 'none'}`,
      },
    ];
  }
  const a = prev.etcd[cluster].leaderId;
  const b = next.etcd[cluster].leaderId;
  if (a === b) return [];
  const from = leaderName(prev, cluster);
  const to = leaderName(next, cluster);
  const holder = b ? replicaOfMember(next, cluster, b) : undefined;
  const term = holder?.etcd[cluster]?.raftTerm ?? null;
  const termText = term !== null ? ` (term ${term})` : '';
  let message: string;
  let severity: TimelineSeverity = 'warning';
  if (a === null) {
    message = `leader elected: ${to}${termText}`;
    severity = 'info';
  } else if (b === null) {
    message = `no leader (was ${from})`;
    severity = 'error';
  } else {
    message = `leader changed: ${from} -> ${to}${termText}`;
  }
  const e: TimelineDraft = { at, kind: 'leader', severity, cluster, message: `${cluster}: ${message}` };
  if (holder) e.replica = holder.name;
  return [e];
}

function warningEvents(prev: ClusterStatus, next: ClusterStatus, at: number): TimelineDraft[] {
  const out: TimelineDraft[] = [];
  const before = new Map(prev.warnings.map((w) => [warningKey(w), w]));
  const after = new Map(next.warnings.map((w) => [warningKey(w), w]));
  for (const [k, w] of after) if (!before.has(k)) out.push(warningEvent(w, at, 'appeared'));
  for (const [k, w] of before) if (!after.has(k)) out.push(warningEvent(w, at, 'cleared'));
  return out;
}

/**
 * The apiserver through the load balancer changing state (a replica's has its
 * APISERVER_UNHEALTHY warning; this one has none: it is what clients reach).
 */
function loadBalancerApiserverEvents(prev: ClusterStatus, next: ClusterStatus, at: number): TimelineDraft[] {
  const a = prev.loadBalancer?.apiserver;
  const b = next.loadBalancer?.apiserver;
  // Not probed, or the first probe: nothing changed.
  if (!a || !b || a.state === b.state) return [];
  return [
    {
      at,
      kind: 'apiserver',
      severity: b.state === 'ready' ? 'info' : 'warning',
      message: `apiserver through the load balancer ${next.loadBalancer?.ip ?? ''}: ${apiserverWord(a)} -> ${apiserverWords(b)}`,
    },
  ];
}

function apiserverEvents(prev: ClusterStatus, next: ClusterStatus, at: number): TimelineDraft[] {
  const a = prev.apiserverIP;
  const b = next.apiserverIP;
  if ((a?.address ?? null) === (b?.address ?? null) && (a?.attachedTo ?? null) === (b?.attachedTo ?? null)) {
    return [];
  }
  // Unknown to known (Compute's first answer) is covered by its summary.
  if (!a || !b) return [];
  const where = b.attachedTo === 'load-balancer' ? 'the load balancer' : (b.attachedTo ?? 'nothing');
  return [
    {
      at,
      kind: 'apiserver',
      severity: b.attachedTo ? 'info' : 'warning',
      message: `apiserver IP ${b.address ?? '(none)'} now attached to ${where}`,
    },
  ];
}

/**
 * Timeline entries for the change from `prev` to `next`. With no previous
 * status, a baseline: one summary line and the warnings already present.
 */
export function diffStatus(prev: ClusterStatus | null, next: ClusterStatus, at: number): TimelineDraft[] {
  if (!prev) return baseline(next, at);
  const out: TimelineDraft[] = [...replicaEvents(prev, next, at)];
  for (const c of ETCD_CLUSTERS) {
    out.push(...leaderEvents(prev, next, c, at));
    out.push(...memberEvents(prev, next, c, at));
  }
  out.push(...apiserverEvents(prev, next, at));
  out.push(...loadBalancerApiserverEvents(prev, next, at));
  out.push(...warningEvents(prev, next, at));
  return out;
}
