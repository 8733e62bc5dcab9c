// `kube-ha status` as text: a compact per-zone table a person reads at a glance.
import { apiserverWord, apiserverWords } from '../domain/apiserver-words.js';
import { formatBytes, leaderName, learnerMark, memberWords, quorumSummary } from '../domain/format.js';
import { downHolderText, othersUp } from '../domain/leases/holder-health.js';
import { rfc3339ToMs } from '../domain/leases/time.js';
import type {
  ClusterStatus,
  LeaseStatus,
  LoadBalancerView,
  MemberView,
  ReplicaView,
} from '../domain/types.js';
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
  if (!m) return memberWords(m);
  const marks = [memberWords(m), m.leader ? 'leader' : '', learnerMark(m) ? 'learner' : '']
    .filter(Boolean)
    .join(' ');
  return `${marks} ${m.memberId}${m.seenFrom ? ' (seen)' : ''}`;
}

/** On a replica: which members were not asked but seen from its own member, under the table. */
function seenNote(s: ClusterStatus): string[] {
  const from = new Set(
    s.replicas.flatMap((r) =>
      [r.etcd.main?.seenFrom, r.etcd.events?.seenFrom].filter((x): x is string => Boolean(x)),
    ),
  );
  if (!from.size) return [];
  return [
    '',
    `(seen): not asked (their client ports listen on their own loopback); seen from ${[...from].join(', ')}'s member: ` +
      'its leader and term, and whether it is connected to them (etcd_network_active_peers)',
  ];
}

/** DB size and its share of the quota: `1.1 MB 27%`. */
function dbCell(m: MemberView | null): string {
  if (!m) return '-';
  const c = m.capacity;
  if (!c) return formatBytes(m.dbSizeBytes);
  return `${formatBytes(c.dbSizeBytes)} ${Math.round((100 * c.dbSizeBytes) / c.quotaBytes)}%`;
}

/** Where the quotas came from, under the table. */
function quotaNote(s: ClusterStatus): string[] {
  const caps = s.replicas.flatMap((r) => (r.etcd.main?.capacity ? [r.etcd.main.capacity] : []));
  if (!caps.length) return [];
  const quotas = [
    ...new Set(
      caps.map(
        (c) =>
          `${formatBytes(c.quotaBytes)} (${c.quotaFrom === 'metrics' ? "the members' metrics" : "kube-up's default: no member's /metrics answered in time"})`,
      ),
    ),
  ];
  return ['', `DB: main's size and its share of --quota-backend-bytes, ${quotas.join(', ')}`];
}

function apiserverCell(r: ReplicaView): string {
  if (r.apiserver === undefined) return '-';
  if (r.apiserver === null) return 'no address';
  // ready / not ready (it answered /readyz with a failure) / not answering.
  return apiserverWord(r.apiserver);
}

/** ` · no health check · apiserver through it: ready`, as far as known. */
function loadBalancerNotes(lb: LoadBalancerView): string {
  const notes: string[] = [];
  if (lb.targetPool && lb.healthChecks?.length === 0) notes.push('no health check');
  if (lb.apiserver !== undefined) notes.push(`apiserver through it: ${apiserverWords(lb.apiserver)}`);
  return notes.map((n) => ` · ${n}`).join('');
}

function renewedCell(l: LeaseStatus, observedAt: string): string {
  const renew = l.renewTime === null ? null : rfc3339ToMs(l.renewTime);
  const at = Date.parse(observedAt);
  if (renew === null || Number.isNaN(at)) return '-';
  const s = Math.round((at - renew) / 1000);
  return s < 0 ? `in ${-s}s` : `${s}s ago`;
}

function leaseLines(s: ClusterStatus): string[] {
  if (s.leases === undefined) return [];
  const byClock = s.leases.some((l) => l.judgedBy === 'clock');
  const lines = [
    '',
    `LEASES${byClock ? " (alive or stale judged by renewTime against this machine's clock)" : ''}`,
  ];
  if (s.leasesError) lines.push(`  unknown: ${s.leasesError}`);
  if (s.leases.length === 0) return lines;
  const rows = [['  COMPONENT', 'STATE', 'REPLICA', 'RENEWED', 'TRANSITIONS', 'SOURCE', 'HOLDER']];
  for (const l of s.leases) {
    const held = l.state === 'held' || l.state === 'stale';
    rows.push([
      `  ${l.name}`,
      l.state === 'held' ? 'held' : l.state.toUpperCase(),
      held ? (l.holderReplica ?? '(unknown)') : '-',
      held ? renewedCell(l, s.leasesReadAt ?? s.observedAt) : '-',
      l.leaseTransitions?.toString() ?? '-',
      l.source,
      l.holderIdentity || '-',
    ]);
  }
  return [...lines, ...table(rows), ...downHolderLines(s)];
}

/** A lease held by a replica that is down: until it expires the component has no working leader. */
function downHolderLines(s: ClusterStatus): string[] {
  const readAt = Date.parse(s.leasesReadAt ?? s.observedAt);
  return (s.leases ?? []).flatMap((l) => {
    if (l.holderHealthy !== false || l.holderReplica === null) return [];
    const expires = l.expiresAt === null ? null : rfc3339ToMs(l.expiresAt);
    const text = downHolderText({
      holder: l.holderReplica,
      why: l.holderDown ?? null,
      expiresInS: expires === null || Number.isNaN(readAt) ? null : (expires - readAt) / 1000,
      othersUp: othersUp(s.replicas, l.holderReplica),
    });
    return [`  ${l.name}: ${text}`];
  });
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
    const leader = leaderName(s, c);
    lines.push(`etcd ${c} ${quorumSummary(h, ' · ')} · ${leader ? `leader ${leader}` : 'NO LEADER'}`);
  }
  lines.push('');
  const probed = s.replicas.some((r) => r.apiserver !== undefined);
  const rows = [
    ['ZONE', 'REPLICA', 'VM', 'INTERNAL IP', 'MAIN', 'EVENTS', 'TERM', 'INDEX', 'DB', 'LB'].concat(
      probed ? ['APISERVER'] : [],
    ),
  ];
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
      dbCell(m),
      s.loadBalancer
        ? r.inTargetPool
          ? `in pool${r.poolHealth ? `, ${r.poolHealth}` : ''}`
          : 'not in pool'
        : '-',
      ...(probed ? [apiserverCell(r)] : []),
    ]);
  }
  lines.push(...table(rows));
  lines.push(...seenNote(s));
  lines.push(...quotaNote(s));
  if (s.loadBalancer) {
    lines.push('');
    lines.push(
      `load balancer: forwarding rule ${s.loadBalancer.forwardingRule} ${s.loadBalancer.ip} -> pool ${s.loadBalancer.targetPool ?? '-'} [${s.loadBalancer.instances.join(', ')}]${loadBalancerNotes(s.loadBalancer)}`,
    );
  }
  lines.push(...leaseLines(s));
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
