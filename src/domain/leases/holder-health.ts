// Is the replica holding a leader lease up? A lease names its holder, but a
// holder whose VM stopped, whose apiserver does not answer or whose etcd
// members cannot be reached keeps the lease until it expires: the component
// has no working leader until then. Pure: the replicas are what the model
// observed, the clock is an input.
import type { MemberView, ReplicaView } from '../types.js';
import { formatTimestamp, parseRfc3339 } from './time.js';

export interface HolderHealth {
  /** true: seen up; false: seen down (see `down`); null: unknown (no replica, or nothing observed of it). */
  holderHealthy: boolean | null;
  /** Why it is down, in words; null unless holderHealthy is false. */
  down: string | null;
}

/** A member that answered nothing at all (down, frozen, unreachable), as opposed to one that answered with a problem. */
function memberUnreachable(m: MemberView): boolean {
  return !m.healthy && m.raftTerm === null && m.raftIndex === null && m.version === null;
}

export function holderHealth(r: ReplicaView | null | undefined): HolderHealth {
  if (!r) return { holderHealthy: null, down: null };
  const down: string[] = [];
  let up = false;
  const vmKnown = r.vm.status !== 'UNKNOWN';
  if (vmKnown && r.vm.status !== 'RUNNING') down.push(`its VM is ${r.vm.status}`);
  if (r.vm.status === 'RUNNING') up = true;
  const members = [r.etcd.main, r.etcd.events].filter((m): m is MemberView => m !== null);
  const etcdDown = members.length > 0 && members.every(memberUnreachable);
  if (members.some((m) => !memberUnreachable(m))) up = true;
  const a = r.apiserver;
  if (a && a.state !== 'not-answering') up = true;
  // Without Compute the apiserver's address is a guess (where its etcd member answered):
  // silence there alone does not prove the replica down.
  if (a?.state === 'not-answering' && (vmKnown || etcdDown)) down.push('its apiserver is not answering');
  if (etcdDown) down.push(`its etcd member${members.length > 1 ? 's are' : ' is'} unreachable`);
  if (down.length) return { holderHealthy: false, down: down.join(', ') };
  return { holderHealthy: up ? true : null, down: null };
}

/** renewTime + leaseDurationSeconds, RFC 3339 (on the holder's clock, as renewTime is); null when either is missing. */
export function leaseExpiresAt(renewTime: string | null, leaseDurationSeconds: number | null): string | null {
  if (renewTime === null || leaseDurationSeconds === null || leaseDurationSeconds <= 0) return null;
  const ts = parseRfc3339(renewTime);
  if (ts === null) return null;
  return formatTimestamp(
    { seconds: ts.seconds + leaseDurationSeconds, nanos: ts.nanos },
    renewTime.includes('.') ? 'micro' : 'auto',
  );
}

export interface DownHolderWords {
  holder: string;
  /** Why it is down (holderHealth's `down`). */
  why: string | null;
  /** Seconds until the lease expires (negative: expired that long ago); null when unknown. */
  expiresInS: number | null;
  /** The expiry is an upper bound (the last renewal is only known to be recent). */
  atMost?: boolean;
  /** Whether another replica is up to take the lease; null when unknown. */
  othersUp: boolean | null;
  /** For an ASCII terminal: '-' and '<='. */
  ascii?: boolean;
}

/** "held by X, which is down (its VM is STOPPED) — expires in 9 s, then another replica takes it". */
export function downHolderText(w: DownHolderWords): string {
  const dash = w.ascii ? '-' : '—';
  const head = `held by ${w.holder}, which is down${w.why ? ` (${w.why})` : ''}`;
  if (w.expiresInS === null) return head;
  const next =
    w.othersUp === false
      ? 'and no other replica is up to take it'
      : w.othersUp === true
        ? 'then another replica takes it'
        : 'then another replica may take it';
  const n = Math.round(w.expiresInS);
  if (n <= 0) {
    const then =
      w.othersUp === false ? 'no other replica is up to take it' : 'another replica takes it at its next try';
    return `${head} ${dash} expired ${-n} s ago, ${then}`;
  }
  return `${head} ${dash} expires in ${w.atMost ? (w.ascii ? '<=' : '≤') : ''}${n} s, ${next}`;
}

/** Whether any replica other than `holder` is seen up (null when none is known either way). */
export function othersUp(replicas: readonly ReplicaView[], holder: string): boolean | null {
  const others = replicas.filter((r) => r.name !== holder).map((r) => holderHealth(r).holderHealthy);
  if (others.some((h) => h === true)) return true;
  return others.length > 0 && others.every((h) => h === false) ? false : null;
}
