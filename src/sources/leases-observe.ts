// Leader leases for `status` (one read) and for the console (a LeaseWatcher,
// restarted while etcd main cannot be reached, and re-judged twice a second on
// the tool's own clock: a leader that stops renewing changes nothing in etcd,
// so only the passing of time can reveal it).
import type { Etcd3 } from 'etcd3';
import type { ComponentLeaderRecords } from '../domain/leases/types.js';
import type { LeaseObservation } from '../domain/types.js';
import { errorMessage } from './etcd-client.js';
import { LeaseWatcher, readLeaderRecords } from './leases.js';

/**
 * Reads the records through whichever endpoint answers first: one frozen or
 * partitioned member must not cost the whole read. Exact keys only, so the
 * cost does not grow with the number of node leases.
 */
export async function readLeasesOnce(
  clients: readonly (Etcd3 | Promise<Etcd3>)[],
  prefix: string,
  timeoutMs: number,
): Promise<LeaseObservation> {
  if (clients.length === 0) return { components: null, error: 'no etcd main endpoint' };
  try {
    const components = await Promise.any(
      clients.map(async (c) => readLeaderRecords(await c, prefix, undefined, { timeoutMs })),
    );
    return { components, error: null, readAt: Date.now() };
  } catch (err) {
    const first = err instanceof AggregateError ? err.errors[0] : err;
    return { components: null, error: `leases not read: ${errorMessage(first)}` };
  }
}

export interface LeaseFeedUpdate {
  /** The latest records with watch bookkeeping; null until the first read succeeds. */
  records: ComponentLeaderRecords[] | null;
  /** Every key's watch is connected (the watched staleness rule applies). */
  watching: boolean;
  /** Why the records are missing or may be behind; null when all is well. */
  error: string | null;
  /** The tool's clock at this update. */
  now: number;
}

export interface LeaseFeedOptions {
  prefix: string;
  onUpdate(update: LeaseFeedUpdate): void;
  /** Debug-log lines; the feed keeps going. */
  onError?(message: string): void;
  /** Re-judge staleness this often even when nothing changes (default 500 ms). */
  tickMs?: number;
  /** Between attempts to start the watch while etcd cannot be read (default 1000 ms). */
  retryMs?: number;
  /** A watch disconnected this long moves to another endpoint (default 2000 ms). */
  moveAfterMs?: number;
  /** While a leader is confirmed silent, read directly this often: its successor must not be missed (default 1000 ms). */
  recheckMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

export interface LeaseFeed {
  /** Resolves once the first start attempt settled (success or failure). */
  readonly ready: Promise<void>;
  /** The endpoint (index into the clients) the watch runs on now. */
  endpoint(): number;
  close(): Promise<void>;
}

/** The first endpoint to answer a read of the records, and what it said. */
async function firstAnswer(
  clients: readonly Etcd3[],
  prefix: string,
  timeoutMs: number,
): Promise<{ index: number; components: ComponentLeaderRecords[] }> {
  return Promise.any(
    clients.map(async (c, index) => ({
      index,
      components: await readLeaderRecords(c, prefix, undefined, { timeoutMs }),
    })),
  );
}

const PLACES = ['lease', 'endpoints', 'configmap'] as const;

/**
 * Follows the leases with a LeaseWatcher on one endpoint of etcd main at a
 * time (`clients`: one client per endpoint), calling onUpdate on every change
 * and every tick.
 *
 * A watch on a member that hangs (a frozen VM keeps its sockets) sees nothing
 * and says nothing, which would make every leader look dead. So before a
 * record is let through as quiet for longer than its lease, one read through
 * whichever member answers first checks it: when that member has a newer
 * version, the watch is behind and moves to that member; otherwise the
 * silence is real, and the check repeats every second while it lasts, so that
 * the successor is not missed when the silent leader and the watched member
 * hung together. A watch that stays disconnected (its member died) moves too.
 */
export function startLeaseFeed(clients: readonly Etcd3[], opts: LeaseFeedOptions): LeaseFeed {
  const now = opts.now ?? Date.now;
  const tickMs = opts.tickMs ?? 500;
  const retryMs = opts.retryMs ?? 1000;
  const moveAfterMs = opts.moveAfterMs ?? 2000;
  const recheckMs = opts.recheckMs ?? 1000;
  const timeoutMs = opts.timeoutMs ?? 3000;
  let watcher: LeaseWatcher | null = null;
  let index = 0;
  let error: string | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;
  let disconnectedSince: number | null = null;
  let checking = false;
  let starting: Promise<void> = Promise.resolve();
  let lastCheckAt = 0;
  /** `key@modRevision` of quiet records a direct read confirmed. */
  const confirmed = new Set<string>();

  /**
   * Holds back the watched verdict on records quiet for longer than their
   * lease until a read confirms it. 'suspect': some are unconfirmed; 'quiet':
   * all are confirmed, but a takeover is due, and a hung watch would miss it.
   */
  const quietRecords = (records: ComponentLeaderRecords[], t: number): 'suspect' | 'quiet' | null => {
    let suspect = false;
    let quiet = false;
    for (const c of records) {
      for (const place of PLACES) {
        const r = c[place];
        const w = r?.watch;
        if (!r || !w?.connected || r.record.state !== 'decoded') continue;
        const duration = r.record.spec.leaseDurationSeconds;
        if (!duration || !r.record.spec.holderIdentity || t - w.lastChangeAt <= duration * 1000) continue;
        quiet = true;
        if (confirmed.has(`${r.key}@${r.modRevision}`)) continue;
        suspect = true;
        r.watch = { ...w, connected: false };
      }
    }
    return suspect ? 'suspect' : quiet ? 'quiet' : null;
  };

  const emit = () => {
    if (closed) return;
    const t = now();
    const records = watcher?.snapshot() ?? null;
    const watching = watcher?.connected() ?? false;
    if (watcher !== null && !watching) {
      disconnectedSince ??= t;
      if (t - disconnectedSince > moveAfterMs) void check('disconnected');
    } else disconnectedSince = null;
    const quiet = records && watching ? quietRecords(records, t) : null;
    if (quiet === 'suspect' || (quiet === 'quiet' && t - lastCheckAt >= recheckMs)) void check('quiet');
    try {
      opts.onUpdate({
        records: error !== null && watcher === null ? null : records,
        watching,
        error:
          error ??
          (watcher !== null && !watching ? 'lease watch disconnected: showing the last records' : null),
        now: t,
      });
    } catch (err) {
      opts.onError?.(`lease update failed: ${errorMessage(err)}`);
    }
  };

  /** Starts a watcher on clients[i]; on failure tries the next endpoint after retryMs. */
  const attempt = async (i: number): Promise<void> => {
    if (closed) return;
    const client = clients[i];
    if (!client) {
      error = 'no etcd main endpoint';
      emit();
      return;
    }
    const w = new LeaseWatcher(client, {
      prefix: opts.prefix,
      timeoutMs,
      now,
      // A move to another member keeps what the watch so far saw of each record.
      ...(watcher ? { history: watcher.history() } : {}),
      onChange: () => {
        if (watcher === w) emit();
      },
      onError: (m) => opts.onError?.(m),
    });
    try {
      await w.start();
      if (closed) {
        await w.close();
        return;
      }
      const old = watcher;
      watcher = w;
      index = i;
      error = null;
      disconnectedSince = null;
      await old?.close();
    } catch (err) {
      await w.close();
      error = `leases not read: ${errorMessage(err)}`;
      opts.onError?.(error);
      if (!closed) {
        retry = setTimeout(() => {
          retry = null;
          starting = attempt((i + 1) % clients.length);
        }, retryMs);
      }
    }
    emit();
  };

  /** Reads through whichever member answers first; moves the watch there when it is behind or gone. */
  const check = async (why: 'quiet' | 'disconnected'): Promise<void> => {
    if (checking || closed || watcher === null) return;
    checking = true;
    lastCheckAt = now();
    try {
      const answer = await firstAnswer(clients, opts.prefix, timeoutMs);
      const mine = watcher?.snapshot() ?? [];
      let behind = why === 'disconnected';
      for (const c of answer.components) {
        const w = mine.find((m) => m.component === c.component);
        for (const place of PLACES) {
          const theirs = c[place]?.modRevision ?? null;
          const ours = w?.[place]?.modRevision ?? null;
          if (theirs !== ours) behind = true;
          else if (theirs !== null) confirmed.add(`${c[place]?.key}@${theirs}`);
        }
      }
      if (behind && !closed) {
        opts.onError?.(
          `lease watch on endpoint ${index} ${why === 'quiet' ? 'fell behind' : 'lost its member'}: moving to endpoint ${answer.index}`,
        );
        await starting;
        starting = attempt(answer.index);
        await starting;
      }
    } catch (err) {
      opts.onError?.(`lease check failed: ${errorMessage(err)}`);
    } finally {
      checking = false;
    }
    emit();
  };

  const ticker = setInterval(emit, tickMs);
  const ready = attempt(0);
  starting = ready;
  return {
    ready,
    endpoint: () => index,
    async close() {
      closed = true;
      clearInterval(ticker);
      if (retry) clearTimeout(retry);
      await starting.catch(() => {});
      await watcher?.close();
      watcher = null;
    },
  };
}
