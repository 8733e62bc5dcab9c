// Header: where we are, where the apiserver IP is, and the quorum of each
// etcd cluster in words. The quorum lines are never dropped.

import { apiserverWord, apiserverWords } from '../../domain/apiserver-words.js';
import {
  apiserverAttachment,
  clockTime,
  formatAge,
  formatAgeMinutes,
  leaderName,
  quorumSummary,
} from '../../domain/format.js';
import type { EtcdClusterName } from '../../domain/types.js';
import { ETCD_CLUSTERS } from '../../domain/types.js';
import type { SourceKey } from '../../store/types.js';
import { SOURCE_KEYS } from '../../store/types.js';
import { type Line, lineWidth, type Part, pack, seg, spread } from '../text.js';
import type { ColorRole } from '../theme.js';
import { apiserverRole, sourceLabel, sourceTrouble, type ViewContext } from './context.js';

function titleLine(ctx: ViewContext, width: number): Line {
  const { glyphs: g } = ctx.theme;
  const st = ctx.status;
  const parts: Part[] = [{ segs: [seg('kube-ha', { bold: true, role: 'title' })] }];
  // Labels go first when room is short; the values stay.
  const field = (label: string, value: string | null | undefined, drop: number) =>
    parts.push({
      segs: [seg(g.sep, { role: 'muted' }), seg(`${label} `, { role: 'muted' }), seg(value ?? '?')],
      short: [seg(g.sep, { role: 'muted' }), seg(value ?? '?')],
      drop,
    });
  field('project', st?.project, 3);
  field('region', st?.region, 2);
  field('master', st?.masterName, 1);
  const right: Line = [];
  if (ctx.paused) {
    right.push(seg(' PAUSED ', { inverse: true, bold: true, role: 'warn' }));
    if (ctx.pausedAt !== null) right.push(seg(` at ${clockTime(ctx.pausedAt)}`, { role: 'warn' }));
    right.push(seg(' '));
  }
  right.push(
    ctx.mode === 'write' ? seg('WRITE', { bold: true, role: 'warn' }) : seg('READ-ONLY', { role: 'muted' }),
  );
  const left = pack(parts, Math.max(0, width - lineWidth(right) - 1), g.ellipsis);
  return spread(left, right, width, g.ellipsis);
}

function apiserverLine(ctx: ViewContext, width: number): Line {
  const { glyphs: g } = ctx.theme;
  const st = ctx.status;
  const text = st ? apiserverAttachment(st) : 'waiting for the first observation';
  const attached = st?.apiserverIP?.attachedTo ?? null;
  const role: ColorRole = !st?.apiserverIP ? 'muted' : attached ? 'info' : 'warn';
  const parts: Part[] = [{ segs: [seg(text, { role })] }];
  const lb = st?.loadBalancer;
  // The apiserver through the load balancer's IP: what clients reach.
  if (lb?.apiserver !== undefined) {
    const a = lb.apiserver;
    const bad = a !== null && a.state !== 'ready';
    parts.push({
      segs: [seg(g.sep, { role: 'muted' }), seg(apiserverWords(a), { role: apiserverRole(a), bold: bad })],
      short: [seg(g.sep, { role: 'muted' }), seg(apiserverWord(a), { role: apiserverRole(a), bold: bad })],
    });
  }
  if (lb?.targetPool && lb.healthChecks && lb.healthChecks.length === 0) {
    parts.push({ segs: [seg(g.sep, { role: 'muted' }), seg('no health check', { role: 'muted' })], drop: 1 });
  }
  return pack(parts, width, g.ellipsis);
}

export function quorumLine(ctx: ViewContext, cluster: EtcdClusterName, width: number): Line {
  const { glyphs: g } = ctx.theme;
  const st = ctx.status;
  const label = seg(cluster.padEnd(7), { bold: true });
  const source = ctx.sources[cluster];
  const staleParts: Part[] = [];
  if (sourceTrouble(source)) {
    const age = source.lastOkAt !== null ? formatAge(ctx.now - source.lastOkAt) : 'never answered';
    staleParts.push({
      segs: [seg(g.sep, { role: 'muted' }), seg(`STALE ${age}`, { role: 'warn', bold: true })],
    });
  }
  if (!st) {
    return pack(
      [{ segs: [label, seg('waiting for the first poll', { role: 'muted' })] }, ...staleParts],
      width,
      g.ellipsis,
    );
  }
  const h = st.etcd[cluster];
  const role: ColorRole = !h.observed
    ? 'muted'
    : h.faultTolerance < 0
      ? 'error'
      : h.faultTolerance === 0
        ? 'warn'
        : 'ok';
  const parts: Part[] = [
    { segs: [label, seg(quorumSummary(h, g.sep), { role, bold: h.faultTolerance < 0 })] },
  ];
  if (h.observed) {
    const leader = leaderName(st, cluster);
    parts.push(
      leader
        ? {
            segs: [
              seg(g.sep, { role: 'muted' }),
              seg(`leader ${g.leader} `, { role: 'leader' }),
              seg(leader),
            ],
            short: [seg(g.sep, { role: 'muted' }), seg(`${g.leader} `, { role: 'leader' }), seg(leader)],
          }
        : { segs: [seg(g.sep, { role: 'muted' }), seg('NO LEADER', { role: 'error', bold: true })] },
    );
  }
  // Staleness outranks the leader name: stale numbers must not pass for fresh ones.
  for (const p of staleParts) parts.splice(1, 0, p);
  // The snapshot only where the rest fits whole: it must not shorten the leader's name.
  if (cluster === 'main' && ctx.lastSnapshot !== undefined) {
    const snap = snapshotPart(ctx);
    const cols = (ps: Part[]) => ps.reduce((n, p) => n + lineWidth(p.segs), 0);
    if (cols(parts) + cols([snap]) <= width) parts.push(snap);
  }
  return pack(parts, width, g.ellipsis);
}

/**
 * The last copy of etcd main kube-ha saved (an operation's first step, or
 * kube-ha snapshot): in an incident, how much a restore would lose. Dropped
 * first when the line is short; to the minute (the header is not redrawn to
 * count seconds).
 */
function snapshotPart(ctx: ViewContext): Part {
  const { glyphs: g } = ctx.theme;
  const s = ctx.lastSnapshot;
  if (!s)
    return { segs: [seg(g.sep, { role: 'muted' }), seg('no snapshot yet', { role: 'muted' })], drop: 9 };
  const age = formatAgeMinutes(ctx.now - s.takenAt);
  return {
    segs: [seg(g.sep, { role: 'muted' }), seg(`snapshot ${age}, rev ${s.revision}`, { role: 'muted' })],
    short: [seg(g.sep, { role: 'muted' }), seg(`snap ${age}`, { role: 'muted' })],
    drop: 9,
  };
}

function sourceLine(ctx: ViewContext, key: SourceKey, width: number): Line {
  const { glyphs: g } = ctx.theme;
  const s = ctx.sources[key];
  const since = s.lastOkAt !== null ? `last answer ${formatAge(ctx.now - s.lastOkAt)} ago` : 'no answer yet';
  const what = s.error ? 'failing' : 'not answering';
  const parts: Part[] = [
    {
      segs: [
        seg(`${s.error ? g.error : g.warn} `, { role: s.error ? 'error' : 'warn' }),
        seg(`${sourceLabel(key)} ${what}, ${since}`, { role: s.error ? 'error' : 'warn' }),
      ],
    },
  ];
  if (s.error) parts.push({ segs: [seg(`: ${s.error}`)] });
  return pack(parts, width, g.ellipsis);
}

/** Title, apiserver, one quorum line per cluster, then one line per troubled source. */
export function headerLines(ctx: ViewContext, width: number): Line[] {
  const lines = [titleLine(ctx, width), apiserverLine(ctx, width)];
  for (const c of ETCD_CLUSTERS) lines.push(quorumLine(ctx, c, width));
  for (const k of SOURCE_KEYS) if (sourceTrouble(ctx.sources[k])) lines.push(sourceLine(ctx, k, width));
  return lines;
}
