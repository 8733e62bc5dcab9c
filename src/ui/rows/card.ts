// A replica as lines, at three densities. The layout picks the densest one
// that fits the terminal; less room drops detail, never a replica.

import { apiserverWord, apiserverWords } from '../../domain/apiserver-words.js';
import { formatAge, formatBytes, learnerMark, memberWords } from '../../domain/format.js';
import type { EtcdClusterName, MemberView, ReplicaView } from '../../domain/types.js';
import { ETCD_CLUSTERS } from '../../domain/types.js';
import { type Line, lineWidth, type Part, pack, type Segment, seg, textWidth } from '../text.js';
import { apiserverRole, memberRole, type ViewContext, vmRole } from './context.js';
import { badgeSegs } from './leases.js';

/** full: bordered card with every field; compact: three lines; line: one line. */
export type Density = 'full' | 'compact' | 'line';

function nameSegs(r: ReplicaView, ctx: ViewContext): Segment[] {
  const selected = ctx.selected === r.name;
  const { glyphs: g } = ctx.theme;
  return [
    seg(selected ? `${g.pointer} ` : '  ', { role: 'accent', bold: true }),
    seg(r.name, { bold: true, inverse: selected }),
  ];
}

/** ` · unhealthy 2m10s`: how long the replica has been seen unhealthy (empty when it is not). */
function sickFor(r: ReplicaView, ctx: ViewContext): Segment[] {
  const since = ctx.unhealthySince?.[r.name];
  if (since === undefined) return [];
  return [
    seg(ctx.theme.glyphs.sep, { role: 'muted' }),
    seg(`unhealthy ${formatAge(ctx.now - since)}`, { role: 'error' }),
  ];
}

function healthSegs(
  cluster: EtcdClusterName,
  m: MemberView | null,
  ctx: ViewContext,
  labelWidth: number,
): Part[] {
  const label = seg(cluster.padEnd(labelWidth), { role: 'muted' });
  if (!m) return [{ segs: [label, seg(' no member', { role: 'muted' })] }];
  const parts: Part[] = [{ segs: [label] }];
  if (m.leader) parts.push({ segs: [seg(` ${ctx.theme.glyphs.leader}`, { role: 'leader', bold: true })] });
  parts.push({ segs: [seg(` ${memberWords(m)}`, { role: memberRole(m), bold: !m.healthy })] });
  if (learnerMark(m)) parts.push({ segs: [seg(' learner', { role: 'warn' })] });
  // On a replica: not asked, but seen through its own member's peer connections.
  if (m.seenFrom) parts.push({ segs: [seg(' (seen)', { role: 'muted' })] });
  return parts;
}

/** The replica's kube-apiserver, when it was probed: `apiserver ready` / `not ready: etcd failed` / `not answering`. */
function apiserverPart(r: ReplicaView, ctx: ViewContext, long: boolean): Part | null {
  const a = r.apiserver;
  if (a === undefined) return null;
  const role = apiserverRole(a);
  const bad = a !== null && a.state !== 'ready';
  if (long) {
    return {
      segs: [seg('apiserver ', { role: 'muted' }), seg(apiserverWords(a), { role, bold: bad })],
      short: [seg('api ', { role: 'muted' }), seg(apiserverWord(a), { role, bold: bad })],
    };
  }
  // Compact and one-line cards name the apiserver only when it is not ready.
  if (!bad) return null;
  return {
    segs: [seg(` apiserver ${apiserverWord(a)}`, { role, bold: true })],
    short: [seg(` api ${ctx.theme.glyphs.error}`, { role, bold: true })],
  };
}

function raftSegs(m: MemberView): Segment[] {
  return [seg(`t${m.raftTerm ?? '?'} i${m.raftIndex ?? '?'}`)];
}

function fullLines(r: ReplicaView, ctx: ViewContext, width: number): Line[] {
  const { glyphs: g } = ctx.theme;
  const e = g.ellipsis;
  const lines: Line[] = [pack([{ segs: nameSegs(r, ctx) }], width, e)];
  const badge = badgeSegs(ctx, r.name);
  if (badge.length) lines.push(pack([{ segs: badge }], width, e));
  const pool = ctx.status?.loadBalancer
    ? r.inTargetPool
      ? `in pool${r.poolHealth ? ` ${r.poolHealth}` : ''}`
      : 'not in pool'
    : null;
  lines.push(
    pack(
      [
        { segs: [seg(`VM ${r.vm.status}`, { role: vmRole(r.vm.status), bold: r.vm.status !== 'RUNNING' })] },
        // How long it has been sick outranks which pool it is in.
        { segs: sickFor(r, ctx), drop: 1 },
        { segs: pool ? [seg(g.sep, { role: 'muted' }), seg(pool, { role: 'muted' })] : [], drop: 2 },
      ],
      width,
      e,
    ),
  );
  const api = apiserverPart(r, ctx, true);
  if (api) lines.push(pack([api], width, e));
  lines.push(
    pack(
      [
        { segs: [seg(r.vm.internalIP ?? 'no internal IP', { role: r.vm.internalIP ? undefined : 'muted' })] },
        { segs: r.vm.externalIP ? [seg(` ${r.vm.externalIP}`, { role: 'muted' })] : [], drop: 1 },
      ],
      width,
      e,
    ),
  );
  for (const c of ETCD_CLUSTERS) {
    const m = r.etcd[c];
    const head = healthSegs(c, m, ctx, 6);
    if (m?.leader) head.push({ segs: [seg(' leader', { role: 'leader' })], drop: 1 });
    lines.push(pack(head, width, e));
    if (!m) continue;
    if (m.raftTerm !== null || m.raftIndex !== null || m.version !== null) {
      lines.push(
        pack(
          [
            { segs: [seg('  '), ...raftSegs(m)] },
            { segs: [seg(` ${formatBytes(m.dbSizeBytes)}`, { role: 'muted' })], drop: 2 },
            { segs: m.version ? [seg(` v${m.version}`, { role: 'muted' })] : [], drop: 1 },
          ],
          width,
          e,
        ),
      );
    }
    if (m.error)
      lines.push(pack([{ segs: [seg(`  ${g.error} `, { role: 'error' }), seg(m.error)] }], width, e));
  }
  return lines;
}

function compactLines(r: ReplicaView, ctx: ViewContext, width: number): Line[] {
  const e = ctx.theme.glyphs.ellipsis;
  const vm = seg(` ${r.vm.status}`, { role: vmRole(r.vm.status), bold: r.vm.status !== 'RUNNING' });
  const ip: Part = { segs: r.vm.internalIP ? [seg(` ${r.vm.internalIP}`, { role: 'muted' })] : [], drop: 2 };
  const badge = badgeSegs(ctx, r.name);
  const leads: Part = { segs: badge.length ? [seg(' '), ...badge] : [], drop: 1 };
  const name = nameSegs(r, ctx);
  const api = apiserverPart(r, ctx, false);
  const sick: Part = { segs: sickFor(r, ctx), drop: 1 };
  const vmParts: Part[] = api ? [{ segs: [vm] }, sick, api] : [{ segs: [vm] }, sick];
  // The VM status shares the name's line when both fit whole, else gets its own.
  const lines: Line[] =
    lineWidth(name) + textWidth(vm.text) <= width
      ? [pack([{ segs: name }, ...vmParts, leads, ip], width, e)]
      : [pack([{ segs: name }], width, e), pack([{ segs: [seg(' ')] }, ...vmParts, leads, ip], width, e)];
  for (const c of ETCD_CLUSTERS) {
    const m = r.etcd[c];
    const parts: Part[] = [{ segs: [seg('  ')] }, ...healthSegs(c, m, ctx, 6)];
    if (m && (m.raftTerm !== null || m.raftIndex !== null))
      parts.push({ segs: [seg(' '), ...raftSegs(m)], drop: 1 });
    lines.push(pack(parts, width, e));
  }
  return lines;
}

function oneLine(r: ReplicaView, ctx: ViewContext, width: number): Line[] {
  const parts: Part[] = [
    { segs: nameSegs(r, ctx) },
    { segs: [seg(` ${r.vm.status}`, { role: vmRole(r.vm.status), bold: r.vm.status !== 'RUNNING' })] },
  ];
  const api = apiserverPart(r, ctx, false);
  if (api) parts.push(api);
  parts.push({ segs: sickFor(r, ctx), drop: 2 });
  for (const c of ETCD_CLUSTERS) {
    parts.push({ segs: [seg(' ')] });
    parts.push(...healthSegs(c, r.etcd[c], ctx, 0));
  }
  const badge = badgeSegs(ctx, r.name);
  if (badge.length) parts.push({ segs: [seg(' '), ...badge], drop: 1 });
  return [pack(parts, width, ctx.theme.glyphs.ellipsis)];
}

/**
 * The lines of one replica at a density, each at most `width` columns (for
 * 'full', the width inside the border).
 */
export function cardLines(r: ReplicaView, density: Density, width: number, ctx: ViewContext): Line[] {
  if (density === 'full') return fullLines(r, ctx, width);
  if (density === 'compact') return compactLines(r, ctx, width);
  return oneLine(r, ctx, width);
}

/** Rows a card takes on screen, border included. */
export function cardHeight(r: ReplicaView, density: Density, width: number, ctx: ViewContext): number {
  return cardLines(r, density, width, ctx).length + (density === 'full' ? 2 : 0);
}
