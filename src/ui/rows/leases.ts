// The leader-leases panel (who runs kube-controller-manager, kube-scheduler and
// cluster-autoscaler, and is that leader alive) and the badges on the cards of
// the replicas holding them.

import { downHolderText, holderHealth, othersUp } from '../../domain/leases/holder-health.js';
import type { LeaseItem, LeasesSlot } from '../../store/leases.js';
import { holderLabel } from '../../store/leases.js';
import { type Line, type Part, pack, type Segment, seg, textWidth } from '../text.js';
import type { ColorRole } from '../theme.js';
import type { ViewContext } from './context.js';

/** Short names for the badges on replica cards. */
export const LEASE_BADGE: Record<string, string> = {
  'kube-controller-manager': 'kcm',
  'kube-scheduler': 'sched',
  'cluster-autoscaler': 'ca',
};

const STATE_ROLE: Record<LeaseItem['state'], ColorRole> = {
  held: 'ok',
  stale: 'error',
  released: 'muted',
  missing: 'warn',
  encrypted: 'warn',
  undecodable: 'error',
};

/** Rows the panel wants: a title and one per lease; none without a slot. */
export function leasesWanted(slot: LeasesSlot | null | undefined): number {
  if (!slot) return 0;
  return 1 + Math.max(slot.items.length, slot.error && slot.items.length === 0 ? 1 : 0);
}

/** Leases a replica holds (held or stale), for its card. */
export function heldBy(slot: LeasesSlot | null | undefined, replica: string): LeaseItem[] {
  return (slot?.items ?? []).filter(
    (i) => (i.state === 'held' || i.state === 'stale') && i.holderReplica === replica,
  );
}

/** `leads kcm sched`, a stale one marked: the card's badge; [] when it holds none. */
export function badgeSegs(ctx: ViewContext, replica: string): Segment[] {
  const held = heldBy(ctx.leases, replica);
  if (held.length === 0) return [];
  const out: Segment[] = [seg('leads', { role: 'muted' })];
  for (const i of held) {
    const label = LEASE_BADGE[i.name] ?? i.name;
    out.push(
      i.state === 'stale'
        ? seg(` ${label}${ctx.theme.glyphs.warn}`, { role: 'error', bold: true })
        : seg(` ${label}`, { role: 'leader', bold: true }),
    );
  }
  return out;
}

/** The holder's replica as the model sees it now; null when it is not down (or not known to be). */
function downHolder(i: LeaseItem, ctx: ViewContext): { why: string | null } | null {
  if ((i.state !== 'held' && i.state !== 'stale') || i.holderReplica === null) return null;
  const r = ctx.status?.replicas.find((x) => x.name === i.holderReplica);
  const h = holderHealth(r);
  return h.holderHealthy === false ? { why: h.down } : null;
}

/** Seconds until the lease expires on this tool's clock, from its last renewal seen (an upper bound while it looks fresh). */
function expiresIn(i: LeaseItem): { s: number; atMost: boolean } | null {
  const d = i.leaseDurationSeconds;
  if (!i.renew || d === null) return null;
  return i.renew.fresh ? { s: d, atMost: true } : { s: d - i.renew.ageS, atMost: false };
}

function downText(i: LeaseItem, ctx: ViewContext, why: string | null): string {
  const e = expiresIn(i);
  const holder = holderLabel(i);
  return downHolderText({
    holder,
    why,
    expiresInS: e?.s ?? null,
    atMost: e?.atMost ?? false,
    othersUp: ctx.status ? othersUp(ctx.status.replicas, holder) : null,
    ascii: ctx.theme.ascii,
  });
}

function renewText(i: LeaseItem): string | null {
  if (!i.renew) return null;
  return i.renew.fresh ? `renewed <${i.renew.withinS}s ago` : `not renewed for ${i.renew.ageS}s`;
}

function itemLine(i: LeaseItem, ctx: ViewContext, width: number, nameW: number, holderW: number): Line {
  const { glyphs: g } = ctx.theme;
  const down = downHolder(i, ctx);
  if (down) {
    // Until it expires the component has no working leader: that, and when it ends, is the whole line.
    return pack(
      [
        { segs: [seg(`  ${i.name.padEnd(nameW)} `), seg(`${g.error} `, { role: 'error' })] },
        {
          segs: [seg(downText(i, ctx, down.why), { role: 'error', bold: true })],
          short: [seg(downText(i, ctx, null), { role: 'error', bold: true })],
        },
      ],
      width,
      g.ellipsis,
    );
  }
  const holding = i.state === 'held' || i.state === 'stale';
  const holder = holding ? holderLabel(i) : '-';
  const renew = renewText(i);
  const parts: Part[] = [
    { segs: [seg(`  ${i.name.padEnd(nameW)} `)] },
    {
      segs: [
        seg(holding ? `${g.leader} ` : '  ', { role: i.state === 'stale' ? 'error' : 'leader' }),
        seg(holder.padEnd(holderW), { bold: holding }),
      ],
    },
    {
      segs: [
        seg(` ${i.state === 'held' ? 'held' : i.state.toUpperCase()}`, {
          role: STATE_ROLE[i.state],
          bold: i.state !== 'held',
        }),
      ],
    },
  ];
  if (renew) parts.push({ segs: [seg(` ${renew}`, { role: i.renew?.fresh ? 'muted' : 'error' })], drop: 2 });
  if (i.leaseTransitions !== null) {
    parts.push({
      segs: [
        seg(`${g.sep}${i.leaseTransitions} transition${i.leaseTransitions === 1 ? '' : 's'}`, {
          role: 'muted',
        }),
      ],
      drop: 3,
    });
  }
  if (i.source !== 'lease') parts.push({ segs: [seg(` (${i.source})`, { role: 'muted' })], drop: 4 });
  if (i.reason && i.state !== 'stale')
    parts.push({ segs: [seg(`: ${i.reason}`, { role: 'muted' })], drop: 5 });
  return pack(parts, width, g.ellipsis);
}

/** `kubernetes-master-x7k` -> `x7k` when the master's name is known: for the one-line summary. */
function shortName(replica: string, master: string | null | undefined): string {
  return master && replica.startsWith(`${master}-`) ? replica.slice(master.length + 1) : replica;
}

function summaryLine(slot: LeasesSlot, ctx: ViewContext, width: number): Line {
  const { glyphs: g } = ctx.theme;
  const parts: Part[] = [{ segs: [seg('Leases', { bold: true })] }];
  const master = ctx.status?.masterName;
  for (const i of slot.items) {
    const holding = i.state === 'held' || i.state === 'stale';
    const down = downHolder(i, ctx);
    const e = down ? expiresIn(i) : null;
    const downWord = down ? ` DOWN${e ? ` ${e.atMost ? '<' : ''}${Math.max(0, e.s)}s` : ''}` : '';
    const word = (label: string) =>
      (holding ? label : i.state) + (i.state === 'stale' ? ' STALE' : '') + downWord;
    const role = down ? 'error' : i.state === 'held' ? undefined : STATE_ROLE[i.state];
    const head = seg(`${parts.length > 1 ? g.sep.trimEnd() : ''} ${LEASE_BADGE[i.name] ?? i.name} `, {
      role: 'muted',
    });
    const label = holderLabel(i);
    parts.push({
      segs: [head, seg(word(label), { role })],
      short: [head, seg(word(i.holderReplica ? shortName(label, master) : label), { role })],
    });
  }
  return pack(parts, width, g.ellipsis);
}

export function leaseLines(
  ctx: ViewContext,
  slot: LeasesSlot | null | undefined,
  width: number,
  maxRows: number,
): Line[] {
  const { glyphs: g } = ctx.theme;
  if (!slot || maxRows <= 0) return [];
  if (maxRows < slot.items.length + 1 && slot.items.length) return [summaryLine(slot, ctx, width)];
  const how = slot.error
    ? [seg(` (${slot.error})`, { role: 'warn' })]
    : slot.watching
      ? [
          seg(" (watched; alive = renewed within the lease duration on this machine's clock)", {
            role: 'muted',
          }),
        ]
      : [seg(' (connecting...)', { role: 'muted' })];
  const title = pack(
    [{ segs: [seg('Leader leases', { bold: true })] }, { segs: how, drop: 1 }],
    width,
    g.ellipsis,
  );
  if (slot.items.length === 0) {
    return maxRows >= 2 ? [title, [seg('  unknown: not read yet', { role: 'muted' })]] : [title];
  }
  const nameW = Math.max(...slot.items.map((i) => textWidth(i.name)));
  const holderW = Math.min(
    30,
    Math.max(
      1,
      ...slot.items.map((i) => textWidth(i.state === 'held' || i.state === 'stale' ? holderLabel(i) : '-')),
    ),
  );
  const shown = slot.items.slice(0, maxRows - 1);
  return [title, ...shown.map((i) => itemLine(i, ctx, width, nameW, holderW))];
}
