// Warnings about what etcd members report of themselves: alarms, slowness,
// space, versions and certificates (issue 15). An alarm is an error with its
// remedy, never a quorum loss. Pure.
import { formatBytes } from './format.js';
import type { EtcdAlarm } from './member-health.js';
import type { EtcdClusterName, MemberView, ReplicaView, ServingCert, Warning } from './types.js';
import { ETCD_CLUSTERS } from './types.js';

/** DB size at this share of the quota: warn well before NOSPACE. */
export const SPACE_WARN_RATIO = 0.8;
/** A DB at least this full, with at most this share in use, is worth a defragment. */
export const FRAGMENTED_FULL_RATIO = 0.5;
export const FRAGMENTED_IN_USE_RATIO = 0.5;
/** Certificates: a warning within 30 days of notAfter, an error within 7. */
export const CERT_WARN_DAYS = 30;
export const CERT_ERROR_DAYS = 7;

const DAY_MS = 86_400_000;

export interface EtcdWarningInput {
  replicas: ReplicaView[];
  /** Alarms as etcd lists them (who raised each), per cluster; absent: only the members' alarm names. */
  alarms?: Partial<Record<EtcdClusterName, EtcdAlarm[]>>;
  now: Date;
}

interface Placed {
  replica: string;
  m: MemberView;
}

function membersOf(replicas: ReplicaView[], cluster: EtcdClusterName): Placed[] {
  return replicas.flatMap((r) => {
    const m = r.etcd[cluster];
    return m ? [{ replica: r.name, m }] : [];
  });
}

const names = (ps: Placed[]) => ps.map((p) => p.replica).join(', ');

/** The remedy etcd's maintenance guide gives for each alarm. */
export function alarmRemedy(
  alarm: string,
  cluster: EtcdClusterName,
  members: Placed[],
  raisedBy: string[],
): string {
  if (alarm === 'NOSPACE') {
    // Followers first: defragmenting blocks the member, and the leader's turn last keeps leadership stable.
    const order = [...members].sort((a, b) => Number(a.m.leader) - Number(b.m.leader));
    const endpoints = order.map((p) => p.m.endpoint).filter((e): e is string => Boolean(e));
    const defrag = endpoints.length
      ? endpoints.map((e) => `etcdctl defrag --endpoints ${e}`).join('; ')
      : 'etcdctl defrag --endpoints <each member>';
    return (
      'writes are refused until it is cleared; compact to the current revision, defragment each member (followers first), then disarm: ' +
      `etcdctl compact $(rev); ${defrag}; etcdctl alarm disarm` +
      ` (rev: the revision \`etcdctl endpoint status -w json\` shows; or raise --quota-backend-bytes, ETCD_QUOTA_BACKEND_BYTES in kube-env, if the data really grew)` +
      `; all three as one confirmed flow: kube-ha defrag${cluster === 'events' ? ' --cluster events' : ''} (console: D)`
    );
  }
  if (alarm === 'CORRUPT') {
    const bad = raisedBy.length ? raisedBy.join(', ') : 'the member named by `etcdctl alarm list`';
    const good = members.filter((p) => p.m.healthy && !raisedBy.includes(p.replica));
    const from = good[0]?.m.endpoint ? ` --endpoints ${good[0].m.endpoint}` : '';
    return (
      `stop writes, take a snapshot from a healthy member (etcdctl snapshot save${from} snap.db) and replace the corrupt member (${bad}: ` +
      `kube-ha replace --replica NAME${cluster === 'events' ? ', which replaces both of its members' : ''})`
    );
  }
  return 'see `etcdctl alarm list`; disarm it (etcdctl alarm disarm) once its cause is fixed';
}

/** ETCD_ALARM: one per cluster and alarm, naming the members and what to do. */
export function alarmWarnings(input: EtcdWarningInput): Warning[] {
  const out: Warning[] = [];
  for (const cluster of ETCD_CLUSTERS) {
    const members = membersOf(input.replicas, cluster);
    const kinds = [...new Set(members.flatMap((p) => p.m.alarms))].sort();
    for (const alarm of kinds) {
      const reporting = members.filter((p) => p.m.alarms.includes(alarm));
      const raisedIds = (input.alarms?.[cluster] ?? [])
        .filter((a) => a.alarm === alarm)
        .map((a) => a.memberId);
      const raisedBy = members.filter((p) => raisedIds.includes(p.m.memberId)).map((p) => p.replica);
      const who = `reported by ${names(reporting)}${raisedBy.length ? `, raised by ${raisedBy.join(', ')}` : ''}`;
      out.push({
        code: 'ETCD_ALARM',
        severity: 'error',
        cluster,
        message: `etcd ${cluster} in alarm ${alarm} (${who}); quorum is not lost: ${alarmRemedy(alarm, cluster, members, raisedBy)}`,
      });
    }
  }
  return out;
}

/** ETCD_SLOW: a member that answers, slowly (Status latency, WAL fsync, backend commit). */
export function slowWarnings(input: EtcdWarningInput): Warning[] {
  const out: Warning[] = [];
  for (const cluster of ETCD_CLUSTERS) {
    for (const p of membersOf(input.replicas, cluster)) {
      if (!p.m.slow?.length) continue;
      out.push({
        code: 'ETCD_SLOW',
        severity: 'warning',
        replica: p.replica,
        cluster,
        message: `${p.replica}: etcd ${cluster} member ${p.m.memberId} slow: ${p.m.slow.join('; ')}`,
      });
    }
  }
  return out;
}

const pct = (r: number) => `${Math.round(r * 100)}%`;

/** ETCD_SPACE: a DB near its quota, or one mostly free pages (defragment). Not with NOSPACE raised: that is ETCD_ALARM. */
export function spaceWarnings(input: EtcdWarningInput): Warning[] {
  const out: Warning[] = [];
  for (const cluster of ETCD_CLUSTERS) {
    const members = membersOf(input.replicas, cluster).filter((p) => p.m.capacity);
    if (members.some((p) => p.m.alarms.includes('NOSPACE'))) continue;
    const full = members
      .map((p) => ({ p, c: p.m.capacity!, ratio: p.m.capacity!.dbSizeBytes / p.m.capacity!.quotaBytes }))
      .sort((a, b) => b.ratio - a.ratio);
    const top = full[0];
    if (top && top.ratio >= SPACE_WARN_RATIO) {
      const near = full.filter((f) => f.ratio >= SPACE_WARN_RATIO);
      const inUse = top.c.dbSizeInUseBytes;
      out.push({
        code: 'ETCD_SPACE',
        severity: 'warning',
        cluster,
        message:
          `etcd ${cluster} DB at ${pct(top.ratio)} of its ${formatBytes(top.c.quotaBytes)} quota (${top.c.quotaFrom}) on ` +
          `${near.map((f) => `${f.p.replica} ${formatBytes(f.c.dbSizeBytes)}`).join(', ')}` +
          `${inUse !== null ? `, ${formatBytes(inUse)} in use` : ''}: at 100% etcd raises NOSPACE and refuses writes; ` +
          `compact and defragment (followers first: kube-ha defrag${cluster === 'events' ? ' --cluster events' : ''}, console: D), or raise --quota-backend-bytes`,
      });
      continue;
    }
    const fragmented = members.filter((p) => {
      const c = p.m.capacity!;
      return (
        c.dbSizeInUseBytes !== null &&
        c.dbSizeBytes >= FRAGMENTED_FULL_RATIO * c.quotaBytes &&
        c.dbSizeInUseBytes <= FRAGMENTED_IN_USE_RATIO * c.dbSizeBytes
      );
    });
    if (fragmented.length) {
      out.push({
        code: 'ETCD_SPACE',
        severity: 'warning',
        cluster,
        message:
          `etcd ${cluster} DB mostly free pages: ${fragmented
            .map((p) => {
              const c = p.m.capacity!;
              return `${p.replica} ${formatBytes(c.dbSizeBytes)} of ${formatBytes(c.quotaBytes)} quota, ${formatBytes(c.dbSizeInUseBytes)} in use`;
            })
            .join('; ')}: ` +
          `defragment each member (followers first: kube-ha defrag${cluster === 'events' ? ' --cluster events' : ''}, console: D) to give the space back before it counts toward NOSPACE`,
      });
    }
  }
  return out;
}

/** ETCD_VERSION_SKEW: answering members of one cluster on different etcd versions. */
export function versionSkewWarnings(input: EtcdWarningInput): Warning[] {
  const out: Warning[] = [];
  for (const cluster of ETCD_CLUSTERS) {
    const byVersion = new Map<string, string[]>();
    for (const p of membersOf(input.replicas, cluster)) {
      if (!p.m.version) continue;
      byVersion.set(p.m.version, [...(byVersion.get(p.m.version) ?? []), p.replica]);
    }
    if (byVersion.size < 2) continue;
    const list = [...byVersion]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([v, rs]) => `${v} on ${rs.join(', ')}`)
      .join('; ');
    out.push({
      code: 'ETCD_VERSION_SKEW',
      severity: 'warning',
      cluster,
      message: `etcd ${cluster} members run different versions (${list}): mixed versions are for the length of a rolling upgrade; finish it (the cluster runs at the lowest version's features)`,
    });
  }
  return out;
}

function expiry(notAfter: string, now: Date): { days: number; severity: Warning['severity'] | null } {
  const days = (Date.parse(notAfter) - now.getTime()) / DAY_MS;
  if (Number.isNaN(days)) return { days, severity: null };
  return { days, severity: days <= CERT_ERROR_DAYS ? 'error' : days <= CERT_WARN_DAYS ? 'warning' : null };
}

const inDays = (days: number, notAfter: string) =>
  days < 0
    ? `expired ${notAfter.slice(0, 10)}`
    : `expires ${notAfter.slice(0, 10)} (in ${Math.floor(days)} days)`;

/**
 * ETCD_CERT_EXPIRY: a member's serving certificate, and the CA that signed
 * it, expiring within 30 days (warning) or 7 (error). kube-up signs the CA and
 * every certificate for the same span, so replicas built together expire
 * together: one warning per CA, one per member certificate.
 */
export function certExpiryWarnings(input: EtcdWarningInput): Warning[] {
  const out: Warning[] = [];
  const cas = new Map<string, { cert: ServingCert; members: string[] }>();
  for (const cluster of ETCD_CLUSTERS) {
    for (const p of membersOf(input.replicas, cluster)) {
      const cert = p.m.cert;
      if (!cert) continue;
      const e = expiry(cert.notAfter, input.now);
      if (e.severity) {
        out.push({
          code: 'ETCD_CERT_EXPIRY',
          severity: e.severity,
          replica: p.replica,
          cluster,
          message: `${p.replica}: etcd ${cluster} serving certificate (${cert.subject}) ${inDays(e.days, cert.notAfter)}: issue a new one from the etcd CA and restart the member before then`,
        });
      }
      if (cert.caNotAfter) {
        const key = `${cert.caSubject ?? ''}|${cert.caNotAfter}`;
        const ca = cas.get(key) ?? { cert, members: [] };
        ca.members.push(`${p.replica} ${cluster}`);
        cas.set(key, ca);
      }
    }
  }
  for (const { cert, members } of cas.values()) {
    const e = expiry(cert.caNotAfter!, input.now);
    if (!e.severity) continue;
    out.push({
      code: 'ETCD_CERT_EXPIRY',
      severity: e.severity,
      message: `etcd CA (${cert.caSubject ?? 'issuer'}) ${inDays(e.days, cert.caNotAfter!)}, signing ${members.join(', ')}: every member certificate it signed stops verifying then; rotate the CA and reissue them`,
    });
  }
  return out;
}

export function etcdMemberWarnings(input: EtcdWarningInput): Warning[] {
  return [
    ...alarmWarnings(input),
    ...certExpiryWarnings(input),
    ...slowWarnings(input),
    ...spaceWarnings(input),
    ...versionSkewWarnings(input),
  ];
}
