// The incident log `e` exports: what the console knows now and everything
// that happened this session, as Markdown for people and JSON for tools.
// Every time in it is UTC ISO 8601 (the screen shows local clock times; the
// header says the console's offset so the two can be matched).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { apiserverWords } from '../domain/apiserver-words.js';
import {
  apiserverAttachment,
  formatBytes,
  healthWord,
  hexId,
  leaderName,
  memberWords,
  quorumSummary,
  sortWarnings,
} from '../domain/format.js';
import { holderHealth } from '../domain/leases/holder-health.js';
import type { ClusterStatus, EtcdClusterName } from '../domain/types.js';
import { ETCD_CLUSTERS } from '../domain/types.js';
import { asLeasesSlot, type LeaseItem } from './leases.js';
import type { SessionLog } from './sessionLog.js';
import type { ConsoleData, SourceKey, TimelineEvent } from './types.js';
import { SOURCE_KEYS } from './types.js';

export interface IncidentLog {
  markdown: string;
  json: string;
}

export interface IncidentFiles {
  markdownPath: string;
  jsonPath: string;
}

type IncidentInput = Pick<ConsoleData, 'status' | 'sources' | 'timeline' | 'paused' | 'mode'> &
  Partial<Pick<ConsoleData, 'leases'>>;

const iso = (at: number | null): string | null => (at === null ? null : new Date(at).toISOString());

/** `+02:00`: the local zone's offset from UTC at `at` (what the screen's clock times are in). */
export function utcOffset(at: number): string {
  const m = -new Date(at).getTimezoneOffset();
  const a = Math.abs(m);
  return `${m < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** The timeline an export carries: the whole session from its log, else what memory holds. */
export interface IncidentTimeline {
  events: readonly TimelineEvent[];
  /** Where the whole session is on disk, if it is. */
  sessionLog: string | null;
  /** Events of the session this export lacks (the oldest). */
  omitted: number;
  /** Why the session log could not be used, if it could not. */
  sessionLogError?: string | null;
}

function timelineOf(data: IncidentInput): IncidentTimeline {
  const t = data.timeline;
  return { events: t.toArray(), sessionLog: null, omitted: t.dropped };
}

/** Markdown table cells must not contain pipes or newlines. */
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

function memberCell(status: ClusterStatus, name: string, cluster: EtcdClusterName): string {
  const m = status.replicas.find((r) => r.name === name)?.etcd[cluster];
  if (!m) return 'no member';
  const parts: string[] = [memberWords(m)];
  if (m.leader) parts.push('leader');
  if (m.learner) parts.push('learner');
  parts.push(`id ${hexId(m.memberId)}`);
  if (m.raftTerm !== null) parts.push(`term ${m.raftTerm}`);
  if (m.raftIndex !== null) parts.push(`index ${m.raftIndex}`);
  if (m.dbSizeBytes !== null) parts.push(formatBytes(m.dbSizeBytes));
  if (m.version) parts.push(`v${m.version}`);
  if (m.error) parts.push(`error: ${m.error}`);
  return cell(parts.join(', '));
}

/** A lease as the export carries it: who holds it, is that replica up, and when it expires. */
export interface IncidentLease {
  name: string;
  state: LeaseItem['state'];
  holderIdentity: string | null;
  holderReplica: string | null;
  holderHealthy: boolean | null;
  holderDown: string | null;
  /** Renewed within this many seconds (the leader on time), or not renewed for `notRenewedForS`. */
  renewedWithinS: number | null;
  notRenewedForS: number | null;
  /** When it expires (UTC, on this machine's clock, from the last renewal the watch saw); null while renewed on time. */
  expiresAt: string | null;
  leaseTransitions: number | null;
  source: LeaseItem['source'];
  judgedBy: LeaseItem['judgedBy'];
  reason: string | null;
}

export function incidentLeases(data: IncidentInput): IncidentLease[] {
  const slot = asLeasesSlot(data.leases);
  if (!slot) return [];
  return slot.items.map((i) => {
    const holding = i.state === 'held' || i.state === 'stale';
    const r =
      holding && i.holderReplica ? data.status?.replicas.find((x) => x.name === i.holderReplica) : null;
    const h = holding ? holderHealth(r) : { holderHealthy: null, down: null };
    const d = i.leaseDurationSeconds;
    return {
      name: i.name,
      state: i.state,
      holderIdentity: i.holderIdentity,
      holderReplica: i.holderReplica,
      holderHealthy: h.holderHealthy,
      holderDown: h.down,
      renewedWithinS: i.renew?.fresh ? i.renew.withinS : null,
      notRenewedForS: i.renew && !i.renew.fresh ? i.renew.ageS : null,
      expiresAt: holding && i.lastRenewAt !== undefined && d !== null ? iso(i.lastRenewAt + d * 1000) : null,
      leaseTransitions: i.leaseTransitions,
      source: i.source,
      judgedBy: i.judgedBy,
      reason: i.reason,
    };
  });
}

function leaseRow(l: IncidentLease): string {
  const holder = l.holderReplica ?? (l.holderIdentity || '-');
  const health =
    l.holderHealthy === null ? 'unknown' : l.holderHealthy ? 'up' : `DOWN: ${l.holderDown ?? ''}`;
  const renew =
    l.renewedWithinS !== null
      ? `within ${l.renewedWithinS}s`
      : l.notRenewedForS !== null
        ? `not for ${l.notRenewedForS}s`
        : '-';
  return `| ${cell(l.name)} | ${l.state} | ${cell(holder)} | ${cell(health)} | ${renew} | ${l.expiresAt ?? '-'} | ${l.leaseTransitions ?? '-'} |`;
}

/** Every member's health state, alarms and error, for the Markdown. */
function memberRows(st: ClusterStatus): string[] {
  const rows: string[] = [];
  for (const c of ETCD_CLUSTERS) {
    for (const r of st.replicas) {
      const m = r.etcd[c];
      if (!m) continue;
      const alarms = m.alarms?.length ? m.alarms.join(', ') : '-';
      rows.push(
        `| ${c} | ${cell(r.name)} | ${hexId(m.memberId)} | ${cell(m.state ?? healthWord(m))}${m.leader ? ', leader' : ''}${m.learner ? ', learner' : ''} | ${cell(alarms)} | ${cell(m.error ?? '-')} |`,
      );
    }
  }
  return rows;
}

function sourceLine(key: SourceKey, data: IncidentInput, at: number): string | null {
  const s = data.sources[key];
  if (!s.error && !s.stale) return null;
  const age =
    s.lastOkAt !== null
      ? `${Math.round((at - s.lastOkAt) / 1000)}s since the last answer, at ${iso(s.lastOkAt)}`
      : 'never answered';
  return `- ${key}: ${s.stale ? 'stale' : 'failing'} (${age})${s.error ? `: ${s.error}` : ''}`;
}

export function buildIncidentLog(
  data: IncidentInput,
  at: number,
  timeline: IncidentTimeline = timelineOf(data),
): IncidentLog {
  const st = data.status;
  const md: string[] = [];
  const offset = utcOffset(at);
  md.push(
    `# kube-ha incident log, ${new Date(at).toISOString()}`,
    '',
    `- times are UTC (ISO 8601); the console's screen showed local times, UTC${offset}`,
  );
  if (st) {
    md.push(
      `- project: ${st.project ?? '?'}`,
      `- region: ${st.region ?? '?'}`,
      `- master: ${st.masterName ?? '?'}`,
      `- ${apiserverAttachment(st)}${st.loadBalancer?.apiserver !== undefined ? `; through it: ${apiserverWords(st.loadBalancer.apiserver)}` : ''}`,
      `- status observed at: ${st.observedAt}`,
    );
    for (const c of ETCD_CLUSTERS) {
      md.push(`- etcd ${c}: ${quorumSummary(st.etcd[c])}, leader ${leaderName(st, c) ?? 'none'}`);
    }
  } else {
    md.push('- nothing observed yet');
  }
  if (data.paused) md.push('- updates were paused when this was exported');
  const sourceLines = SOURCE_KEYS.map((k) => sourceLine(k, data, at)).filter((l) => l !== null);
  if (sourceLines.length) md.push('', '## Sources', '', ...sourceLines);

  if (st) {
    md.push(
      '',
      '## Replicas',
      '',
      '| replica | zone | VM | IPs | pool | apiserver | main | events |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const r of st.replicas) {
      const ips = [r.vm.internalIP, r.vm.externalIP].filter(Boolean).join(', ') || '-';
      md.push(
        `| ${cell(r.name)} | ${r.zone ?? '-'} | ${r.vm.status} | ${ips} | ${r.inTargetPool ? 'yes' : 'no'} | ${cell(apiserverWords(r.apiserver))} | ${memberCell(st, r.name, 'main')} | ${memberCell(st, r.name, 'events')} |`,
      );
    }
    md.push(
      '',
      '## etcd members',
      '',
      '| cluster | replica | member | state | alarms | error |',
      '|---|---|---|---|---|---|',
      ...memberRows(st),
    );
    md.push('', '## Warnings', '');
    const warnings = sortWarnings(st.warnings);
    if (warnings.length === 0) md.push('none');
    for (const w of warnings) md.push(`- **${w.severity}** ${w.code}: ${w.message}`);
  }

  const leases = incidentLeases(data);
  if (data.leases !== undefined) {
    md.push('', '## Leader leases', '');
    const slot = asLeasesSlot(data.leases);
    if (slot?.error) md.push(`- leases: ${slot.error}`, '');
    if (leases.length === 0) md.push('not read');
    else
      md.push(
        '| component | state | holder | holder replica | renewed | expires (UTC) | transitions |',
        '|---|---|---|---|---|---|---|',
        ...leases.map(leaseRow),
      );
  }

  md.push('', '## Timeline', '');
  if (timeline.sessionLog) md.push(`The whole session is also in ${timeline.sessionLog} (JSON lines).`, '');
  if (timeline.omitted > 0) {
    md.push(`The ${timeline.omitted} oldest events of this session are not in this export.`, '');
  }
  if (timeline.sessionLogError) md.push(`The session log failed: ${timeline.sessionLogError}`, '');
  if (timeline.events.length === 0) md.push('nothing happened yet');
  for (const e of timeline.events) {
    md.push(`- ${new Date(e.at).toISOString()} [${e.severity}] ${e.kind}: ${e.message}`);
  }
  md.push('');

  const json = {
    exportedAt: new Date(at).toISOString(),
    localUtcOffset: offset,
    mode: data.mode,
    paused: data.paused,
    sources: Object.fromEntries(
      SOURCE_KEYS.map((k) => [
        k,
        {
          ...data.sources[k],
          lastOkAt: iso(data.sources[k].lastOkAt),
          errorAt: iso(data.sources[k].errorAt),
        },
      ]),
    ),
    status: st,
    members: st
      ? ETCD_CLUSTERS.flatMap((c) =>
          st.replicas.flatMap((r) => {
            const m = r.etcd[c];
            return m
              ? [
                  {
                    cluster: c,
                    replica: r.name,
                    memberId: m.memberId,
                    state: m.state ?? healthWord(m),
                    alarms: m.alarms ?? [],
                    leader: m.leader,
                    learner: m.learner,
                    error: m.error,
                  },
                ]
              : [];
          }),
        )
      : [],
    leases,
    sessionLog: timeline.sessionLog,
    sessionLogError: timeline.sessionLogError ?? null,
    timelineOmitted: timeline.omitted,
    timeline: timeline.events.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
  };
  return { markdown: md.join('\n'), json: `${JSON.stringify(json, null, 2)}\n` };
}

/**
 * Writes both files into `dir` (created if needed) and returns their paths.
 * With the session log, the timeline is the whole session rather than the
 * newest events the console keeps in memory.
 */
export async function writeIncidentLog(
  data: IncidentInput,
  dir: string,
  at: number,
  session?: SessionLog | null,
): Promise<IncidentFiles> {
  const history = session ? await session.read() : null;
  const memory = timelineOf(data);
  const timeline: IncidentTimeline =
    history && history.events.length >= memory.events.length
      ? {
          events: history.events,
          sessionLog: history.path,
          omitted: history.lostOldest ? Math.max(0, data.timeline.total - history.events.length) : 0,
        }
      : { ...memory, sessionLogError: session?.error ?? null };
  const log = buildIncidentLog(data, at, timeline);
  await mkdir(dir, { recursive: true });
  const base = `incident-${new Date(at).toISOString().replace(/[:.]/g, '-')}`;
  const markdownPath = join(dir, `${base}.md`);
  const jsonPath = join(dir, `${base}.json`);
  await writeFile(markdownPath, log.markdown, 'utf8');
  await writeFile(jsonPath, log.json, 'utf8');
  return { markdownPath, jsonPath };
}
