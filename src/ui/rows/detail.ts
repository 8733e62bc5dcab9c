// Enter on a replica: every field, the URLs and the member IDs in hex.

import { apiserverWords } from '../../domain/apiserver-words.js';
import { formatBytes, hexId, memberWords } from '../../domain/format.js';
import type { EtcdClusterName, MemberView, ReplicaView } from '../../domain/types.js';
import { ETCD_CLUSTERS } from '../../domain/types.js';
import { type Line, type Part, pack, type Segment, seg } from '../text.js';
import { apiserverRole, memberRole, type ViewContext, vmRole } from './context.js';

function leaderIndex(ctx: ViewContext, cluster: EtcdClusterName): number | null {
  const id = ctx.status?.etcd[cluster].leaderId;
  if (!id) return null;
  const m = ctx.status?.replicas.map((r) => r.etcd[cluster]).find((x) => x?.memberId === id);
  return m?.raftIndex ?? null;
}

function memberLines(
  ctx: ViewContext,
  cluster: EtcdClusterName,
  m: MemberView | null,
  width: number,
): Line[] {
  const { glyphs: g } = ctx.theme;
  const e = g.ellipsis;
  const label = seg(cluster.padEnd(7), { bold: true });
  if (!m) return [pack([{ segs: [label, seg('no member of this cluster', { role: 'muted' })] }], width, e)];
  const sep = () => seg(g.sep, { role: 'muted' });
  const head: Segment[] = [label, seg(`member ${hexId(m.memberId)}`, { bold: true })];
  head.push(seg(` (${m.name || 'no name: never started'})`, { role: 'muted' }));
  const state: Segment[] = [seg('  ')];
  if (m.leader) state.push(seg(`${g.leader} leader`, { role: 'leader', bold: true }), sep());
  state.push(
    seg(memberWords(m), { role: memberRole(m), bold: true }),
    sep(),
    seg(m.learner ? 'learner' : 'voter', { role: m.learner ? 'warn' : undefined }),
  );
  if (m.seenFrom)
    state.push(
      sep(),
      seg(`not asked: seen from ${m.seenFrom}'s member (its peer connections)`, { role: 'muted' }),
    );
  const lines: Line[] = [pack([{ segs: head }], width, e), pack([{ segs: state }], width, e)];
  const urls = (title: string, list: string[]) => {
    const values = list.length ? list : ['none'];
    for (const [i, u] of values.entries()) {
      lines.push(
        pack([{ segs: [seg(`  ${i === 0 ? title : ''}`.padEnd(14), { role: 'muted' }), seg(u)] }], width, e),
      );
    }
  };
  urls('peer URLs', m.peerURLs);
  urls('client URLs', m.clientURLs);
  const raft: Part[] = [
    { segs: [seg('  raft term ', { role: 'muted' }), seg(String(m.raftTerm ?? '?'))] },
    { segs: [sep(), seg('index ', { role: 'muted' }), seg(String(m.raftIndex ?? '?'))] },
    { segs: [sep(), seg('applied ', { role: 'muted' }), seg(String(m.raftAppliedIndex ?? '?'))] },
  ];
  const li = leaderIndex(ctx, cluster);
  if (m.learner && li !== null) raft.push({ segs: [seg(` of leader's ${li}`, { role: 'warn' })] });
  lines.push(pack(raft, width, e));
  lines.push(
    pack(
      [
        { segs: [seg('  DB size ', { role: 'muted' }), seg(formatBytes(m.dbSizeBytes))] },
        { segs: [sep(), seg('version ', { role: 'muted' }), seg(m.version ?? '?')] },
      ],
      width,
      e,
    ),
  );
  lines.push(
    pack(
      [
        {
          segs: [
            seg('  last error ', { role: 'muted' }),
            seg(m.error ?? 'none', { role: m.error ? 'error' : 'muted' }),
          ],
        },
      ],
      width,
      e,
    ),
  );
  return lines;
}

export function detailLines(ctx: ViewContext, r: ReplicaView, width: number): Line[] {
  const { glyphs: g } = ctx.theme;
  const e = g.ellipsis;
  const sep = () => seg(g.sep, { role: 'muted' });
  const lines: Line[] = [
    pack(
      [
        { segs: [seg(`${g.pointer} `, { role: 'accent' }), seg(r.name, { bold: true })] },
        { segs: [seg('   Esc back', { role: 'muted' })], drop: 1 },
      ],
      width,
      e,
    ),
    pack(
      [
        { segs: [seg('zone ', { role: 'muted' }), seg(r.zone ?? 'unknown')] },
        {
          segs: [
            sep(),
            seg('VM ', { role: 'muted' }),
            seg(r.vm.status, { role: vmRole(r.vm.status), bold: true }),
          ],
        },
        {
          segs: [
            sep(),
            seg(
              ctx.status?.loadBalancer
                ? r.inTargetPool
                  ? 'in target pool'
                  : 'not in target pool'
                : 'no load balancer',
              {
                role: 'muted',
              },
            ),
          ],
        },
      ],
      width,
      e,
    ),
    pack(
      [
        { segs: [seg('internal IP ', { role: 'muted' }), seg(r.vm.internalIP ?? 'none')] },
        { segs: [sep(), seg('external IP ', { role: 'muted' }), seg(r.vm.externalIP ?? 'none')] },
      ],
      width,
      e,
    ),
  ];
  if (r.apiserver !== undefined) {
    const a = r.apiserver;
    lines.push(
      pack(
        [
          {
            segs: [
              seg('apiserver ', { role: 'muted' }),
              seg(apiserverWords(a), { role: apiserverRole(a), bold: a !== null && a.state !== 'ready' }),
            ],
          },
          { segs: a ? [seg(` (${a.url})`, { role: 'muted' })] : [], drop: 1 },
        ],
        width,
        e,
      ),
    );
  }
  for (const c of ETCD_CLUSTERS) lines.push(...memberLines(ctx, c, r.etcd[c], width));
  const warnings = (ctx.status?.warnings ?? []).filter((w) => w.replica === r.name);
  if (warnings.length) {
    lines.push([seg('Warnings', { bold: true })]);
    for (const w of warnings) {
      const error = w.severity === 'error';
      lines.push(
        pack(
          [
            {
              segs: [
                seg(`  ${error ? g.error : g.warn} ${error ? 'ERROR' : 'WARN'} `, {
                  role: error ? 'error' : 'warn',
                }),
                seg(w.message),
              ],
            },
          ],
          width,
          e,
        ),
      );
    }
  }
  return lines;
}

/** Cuts to `maxRows`, saying how much was cut (detail is what gives way on a small screen). */
export function clipLines(lines: Line[], maxRows: number, width: number, ellipsis: string): Line[] {
  if (lines.length <= maxRows) return lines;
  if (maxRows <= 0) return [];
  const kept = lines.slice(0, maxRows - 1);
  const more = `${ellipsis} ${lines.length - kept.length} more lines (a taller terminal shows them)`;
  return [...kept, pack([{ segs: [seg(more, { role: 'muted' })] }], width, ellipsis)];
}
