// `kube-ha status` as text: a compact per-zone table a person reads at a glance.
import { formatBytes, leaderReplica, memberHealthWord, quorumSummary } from '../domain/format.js';
import type { ClusterStatus, MemberView } from '../domain/types.js';
import { ETCD_CLUSTERS } from '../domain/types.js';

function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  return rows.map((row) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

function memberCell(m: MemberView | null): string {
  if (!m) return '-';
  const marks = [
    memberHealthWord(m),
    m.leader ? 'leader' : '',
    m.learner && m.healthy ? '' : m.learner ? 'learner' : '',
  ]
    .filter(Boolean)
    .join(' ');
  return `${marks} ${m.memberId}`;
}

export function renderStatusText(s: ClusterStatus): string {
  const lines: string[] = [];
  const where = [s.project && `project ${s.project}`, s.region && `region ${s.region}`]
    .filter(Boolean)
    .join(' · ');
  const ip = s.apiserverIP?.address
    ? ` · apiserver ${s.apiserverIP.address} (${s.apiserverIP.attachedTo === 'load-balancer' ? 'load balancer' : (s.apiserverIP.attachedTo ?? 'unattached')})`
    : '';
  lines.push(`${s.masterName ?? 'control plane'}${where ? ` · ${where}` : ''}${ip}`);
  for (const c of ETCD_CLUSTERS) {
    const h = s.etcd[c];
    if (!h.observed) continue;
    const leader = leaderReplica(s.replicas, c);
    lines.push(`etcd ${quorumSummary(c, h)}${h.error ? '' : ` · leader ${leader ?? 'none'}`}`);
  }
  lines.push('');
  const rows = [['ZONE', 'REPLICA', 'VM', 'INTERNAL IP', 'MAIN', 'EVENTS', 'TERM', 'INDEX', 'DB', 'LB']];
  for (const r of s.replicas) {
    const m = r.etcd.main;
    rows.push([
      r.zone ?? '-',
      r.name,
      r.vm.status,
      r.vm.internalIP ?? '-',
      memberCell(m),
      memberCell(r.etcd.events),
      m?.raftTerm?.toString() ?? '-',
      m?.raftIndex?.toString() ?? '-',
      formatBytes(m?.dbSizeBytes),
      s.loadBalancer ? (r.inTargetPool ? 'in pool' : 'not in pool') : '-',
    ]);
  }
  lines.push(...table(rows));
  if (s.loadBalancer) {
    lines.push('');
    lines.push(
      `load balancer: forwarding rule ${s.loadBalancer.forwardingRule} ${s.loadBalancer.ip} -> pool ${s.loadBalancer.targetPool ?? '-'} [${s.loadBalancer.instances.join(', ')}]`,
    );
  }
  const errors = s.replicas.flatMap((r) =>
    ETCD_CLUSTERS.flatMap((c) => {
      const m = r.etcd[c];
      return m?.error ? [`  ${r.name} ${c}: ${m.error}`] : [];
    }),
  );
  if (s.warnings.length) {
    lines.push('');
    lines.push('WARNINGS');
    lines.push(...table(s.warnings.map((w) => [`  ${w.severity.toUpperCase()}`, w.code, w.message])));
  } else {
    lines.push('', 'no warnings');
  }
  if (errors.length) lines.push('', 'MEMBER ERRORS', ...errors);
  return `${lines.join('\n')}\n`;
}
