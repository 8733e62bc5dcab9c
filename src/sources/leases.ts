// Reads and watches the leader-election records of kube-controller-manager,
// kube-scheduler and cluster-autoscaler straight from etcd. Only the exact keys
// are touched: /registry/leases/ also holds one heartbeat lease per node
// (thousands in a large cluster), so a range over it would be expensive.
import type { Etcd3, IKeyValue, IRequestOp, Watcher } from 'etcd3';
import { decodeLeaderRecord } from '../domain/leases/decode.js';
import {
  type ComponentLeaderRecords,
  LEADER_COMPONENTS,
  type LeaderRecord,
  type ObservedLeaderRecord,
  type RecordSource,
} from '../domain/leases/types.js';
import { errorMessage } from './etcd-client.js';

export const DEFAULT_ETCD_PREFIX = '/registry';
const NAMESPACE = 'kube-system';
const DEFAULT_TIMEOUT_MS = 3000;
// etcd refuses transactions with more than --max-txn-ops (default 128) operations.
const MAX_TXN_OPS = 120;
const PLACES: readonly RecordSource[] = ['lease', 'endpoints', 'configmap'];

export interface ReadOptions {
  /** Deadline for each etcd call, on top of whatever the client's defaults are. */
  timeoutMs?: number;
}

function normalizePrefix(prefix: string): string {
  return prefix.replace(/\/+$/, '');
}

/** The three keys where one component's leader record can live. */
export function leaderRecordKeys(prefix: string, component: string): Record<RecordSource, string> {
  const p = normalizePrefix(prefix);
  return {
    lease: `${p}/leases/${NAMESPACE}/${component}`,
    endpoints: `${p}/services/endpoints/${NAMESPACE}/${component}`,
    configmap: `${p}/configmaps/${NAMESPACE}/${component}`,
  };
}

function observe(key: string, kv: IKeyValue): ObservedLeaderRecord {
  return { key, modRevision: String(kv.mod_revision), record: decodeLeaderRecord(key, kv.value) };
}

export interface LeaderRecordsRead {
  /** The etcd revision the read saw (of the last transaction when split). */
  revision: string;
  components: ComponentLeaderRecords[];
}

/**
 * Reads the exact keys in one transaction of point reads (no range_end), so the
 * answer is one consistent snapshot and costs the same with 0 or 100,000 node
 * leases present.
 */
export async function readLeaderRecordsAt(
  client: Etcd3,
  prefix: string = DEFAULT_ETCD_PREFIX,
  components: readonly string[] = LEADER_COMPONENTS,
  opts: ReadOptions = {},
): Promise<LeaderRecordsRead> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const keys = components.flatMap((c) => PLACES.map((p) => leaderRecordKeys(prefix, c)[p]));
  const found = new Map<string, IKeyValue>();
  let revision = '0';
  for (let i = 0; i < keys.length; i += MAX_TXN_OPS) {
    const chunk = keys.slice(i, i + MAX_TXN_OPS);
    const success: IRequestOp[] = chunk.map((k) => ({ request_range: { key: Buffer.from(k) } }));
    const res = await client.kv.txn(
      { compare: [], success, failure: [] },
      { deadline: Date.now() + timeoutMs },
    );
    revision = String(res.header.revision);
    for (const r of res.responses) {
      for (const kv of r.response_range?.kvs ?? []) found.set(kv.key.toString(), kv);
    }
  }
  const at = (key: string): ObservedLeaderRecord | null => {
    const kv = found.get(key);
    return kv === undefined ? null : observe(key, kv);
  };
  return {
    revision,
    components: components.map((component) => {
      const k = leaderRecordKeys(prefix, component);
      return { component, lease: at(k.lease), endpoints: at(k.endpoints), configmap: at(k.configmap) };
    }),
  };
}

/** One-shot read of the components' records (no watch information: staleness falls back to the clock rule). */
export async function readLeaderRecords(
  client: Etcd3,
  prefix: string = DEFAULT_ETCD_PREFIX,
  components: readonly string[] = LEADER_COMPONENTS,
  opts: ReadOptions = {},
): Promise<ComponentLeaderRecords[]> {
  return (await readLeaderRecordsAt(client, prefix, components, opts)).components;
}

export interface ReadBenchResult {
  iterations: number;
  minMs: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}

/** Times readLeaderRecords, for the benchmark runner (which seeds whatever node leases it wants first). */
export async function benchReadLeaderRecords(
  client: Etcd3,
  opts: { prefix?: string; components?: readonly string[]; iterations?: number; warmup?: number } = {},
): Promise<ReadBenchResult> {
  const iterations = Math.max(1, opts.iterations ?? 50);
  for (let i = 0; i < (opts.warmup ?? 5); i++) await readLeaderRecords(client, opts.prefix, opts.components);
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await readLeaderRecords(client, opts.prefix, opts.components);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const pick = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  return { iterations, minMs: pick(0), medianMs: pick(0.5), p95Ms: pick(0.95), maxMs: pick(1) };
}

// ---------------------------------------------------------------- watching

export interface LeaseWatcherOptions {
  prefix?: string;
  components?: readonly string[];
  /** Called after every change of a record or of a watch's connection. */
  onChange?: (records: ComponentLeaderRecords[]) => void;
  /** Problems worth a line in the debug log; the watcher keeps going. */
  onError?: (message: string) => void;
  /** The tool's own clock (ms since the epoch); injectable for tests. */
  now?: () => number;
  /** Deadline for each read, for waiting for watches to connect, and for each cancel. */
  timeoutMs?: number;
  /** Pause before re-reading a key whose watch etcd cancelled (e.g. compaction). */
  resyncDelayMs?: number;
  /**
   * What a previous watcher saw (history()), when this one replaces it on
   * another member: a key whose record has not changed keeps when its watch
   * began and when it last changed, so the age of the last renewal survives
   * the move (the member just lost is often the crashed leader's).
   */
  history?: ReadonlyMap<string, WatchHistory>;
}

/** One key's watch bookkeeping, carried from a watcher to its successor. */
export interface WatchHistory {
  modRevision: string | null;
  since: number;
  lastChangeAt: number;
}

interface Entry {
  component: string;
  place: RecordSource;
  key: string;
  current: { modRevision: string; record: LeaderRecord } | null;
  /** Highest revision applied, to ignore anything older replayed after a reconnect. */
  revision: bigint;
  since: number;
  lastChangeAt: number;
  connected: boolean;
  watcher: Watcher | null;
  resyncTimer: NodeJS.Timeout | null;
}

/**
 * Follows the records with one etcd watch per exact key and remembers, on the
 * tool's own clock, when each key's mod_revision last changed: that is what
 * the watched staleness rule needs. etcd3 re-establishes watches after a
 * member restarts and resumes from the last revision seen, so nothing is lost.
 * Call close() before closing the client, or the process lingers.
 */
export class LeaseWatcher {
  private readonly entries: Entry[] = [];
  private readonly prefix: string;
  private readonly components: readonly string[];
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly resyncDelayMs: number;
  private closed = false;

  constructor(
    private readonly client: Etcd3,
    private readonly opts: LeaseWatcherOptions = {},
  ) {
    this.prefix = opts.prefix ?? DEFAULT_ETCD_PREFIX;
    this.components = opts.components ?? LEADER_COMPONENTS;
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.resyncDelayMs = opts.resyncDelayMs ?? 1000;
  }

  /**
   * Reads every key once, then watches each from the revision after that read,
   * so no change between the read and the watch is missed. Rejects when the
   * first read fails (nothing is watched then); resolves once the watches are
   * connected or timeoutMs has passed (they keep trying after that).
   */
  async start(): Promise<void> {
    if (this.entries.length > 0) throw new Error('LeaseWatcher already started');
    const read = await readLeaderRecordsAt(this.client, this.prefix, this.components, {
      timeoutMs: this.timeoutMs,
    });
    const now = this.now();
    for (const c of read.components) {
      for (const place of PLACES) {
        const obs = c[place];
        const key = leaderRecordKeys(this.prefix, c.component)[place];
        const before = this.opts.history?.get(key);
        const same = before !== undefined && before.modRevision === (obs?.modRevision ?? null);
        this.entries.push({
          component: c.component,
          place,
          key,
          current: obs === null ? null : { modRevision: obs.modRevision, record: obs.record },
          revision: BigInt(read.revision),
          // Unchanged since the previous watcher saw it: its times still hold. Changed in
          // between: it changed at the latest now, and the watch began before.
          since: before?.since ?? now,
          lastChangeAt: same ? before.lastChangeAt : now,
          connected: false,
          watcher: null,
          resyncTimer: null,
        });
      }
    }
    if (this.closed) return;
    const connected = this.entries.map((e) => this.watch(e, read.revision));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(connected),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Starts one key's watch at the revision after `revision`; resolves when it first connects. */
  private watch(e: Entry, revision: string): Promise<void> {
    // watcher(), not create(): create() never settles while no member is
    // reachable, and an unsettled watcher could not be cancelled by close().
    const w = this.client
      .watch()
      .key(e.key)
      .startRevision(String(BigInt(revision) + 1n))
      .watcher();
    e.watcher = w;
    const firstConnect = new Promise<void>((resolve) => w.once('connected', () => resolve()));
    w.on('connected', () => {
      if (e.watcher !== w || e.connected) return;
      e.connected = true;
      this.emit();
    });
    w.on('disconnected', (err) => {
      if (e.watcher !== w) return;
      this.opts.onError?.(`watch on ${e.key} disconnected: ${errorMessage(err)}`);
      if (!e.connected) return;
      e.connected = false;
      this.emit();
    });
    w.on('put', (kv) => this.apply(e, w, kv, 'put'));
    w.on('delete', (kv) => this.apply(e, w, kv, 'delete'));
    w.on('error', (err) => {
      // etcd cancelled the watch (e.g. its start revision was compacted): re-read and watch again.
      if (e.watcher !== w) return;
      this.opts.onError?.(`watch on ${e.key} cancelled: ${errorMessage(err)}`);
      e.watcher = null;
      e.connected = false;
      this.emit();
      this.scheduleResync(e);
    });
    return firstConnect;
  }

  private apply(e: Entry, w: Watcher, kv: IKeyValue, type: 'put' | 'delete'): void {
    if (e.watcher !== w) return;
    const rev = BigInt(kv.mod_revision);
    if (rev <= e.revision) return;
    e.revision = rev;
    e.current =
      type === 'put'
        ? { modRevision: String(kv.mod_revision), record: decodeLeaderRecord(e.key, kv.value) }
        : null;
    e.lastChangeAt = this.now();
    this.emit();
  }

  private scheduleResync(e: Entry): void {
    if (this.closed) return;
    e.resyncTimer = setTimeout(() => {
      e.resyncTimer = null;
      void this.resync(e);
    }, this.resyncDelayMs);
  }

  private async resync(e: Entry): Promise<void> {
    if (this.closed) return;
    try {
      const read = await this.client
        .get(e.key)
        .options({ deadline: Date.now() + this.timeoutMs })
        .exec();
      const kv = read.kvs[0];
      if (this.closed) return;
      const modRevision = kv === undefined ? null : String(kv.mod_revision);
      if (modRevision !== (e.current?.modRevision ?? null)) {
        e.current = kv === undefined ? null : observe(e.key, kv);
        e.lastChangeAt = this.now();
      }
      e.revision = BigInt(read.header.revision);
      this.watch(e, read.header.revision);
      this.emit();
    } catch (err) {
      this.opts.onError?.(`re-reading ${e.key} failed: ${errorMessage(err)}`);
      this.scheduleResync(e);
    }
  }

  private emit(): void {
    if (this.closed || !this.opts.onChange) return;
    try {
      this.opts.onChange(this.snapshot());
    } catch (err) {
      // A throwing listener must not break etcd3's event dispatch.
      this.opts.onError?.(`lease change listener failed: ${errorMessage(err)}`);
    }
  }

  /** The latest records, with the watch bookkeeping the staleness rule needs. */
  snapshot(): ComponentLeaderRecords[] {
    return this.components.map((component) => {
      const out: ComponentLeaderRecords = { component, lease: null, endpoints: null, configmap: null };
      for (const e of this.entries) {
        if (e.component !== component || e.current === null) continue;
        out[e.place] = {
          key: e.key,
          modRevision: e.current.modRevision,
          record: e.current.record,
          watch: { since: e.since, lastChangeAt: e.lastChangeAt, connected: e.connected },
        };
      }
      return out;
    });
  }

  /** Each key's watch bookkeeping, for a watcher that takes over (LeaseWatcherOptions.history). */
  history(): Map<string, WatchHistory> {
    return new Map(
      this.entries.map((e) => [
        e.key,
        { modRevision: e.current?.modRevision ?? null, since: e.since, lastChangeAt: e.lastChangeAt },
      ]),
    );
  }

  /** True when every key's watch is connected (the watched rule applies). */
  connected(): boolean {
    return this.entries.length > 0 && this.entries.every((e) => e.connected);
  }

  /** Cancels every watch (each bounded by timeoutMs). Call before closing the client. */
  async close(): Promise<void> {
    this.closed = true;
    const cancels: Promise<void>[] = [];
    for (const e of this.entries) {
      if (e.resyncTimer !== null) clearTimeout(e.resyncTimer);
      e.resyncTimer = null;
      const w = e.watcher;
      e.watcher = null;
      e.connected = false;
      if (w !== null) cancels.push(withTimeout(w.cancel(), this.timeoutMs));
    }
    await Promise.all(cancels);
  }
}

/** Resolves when p settles or after ms, whichever comes first; never rejects. */
function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    p.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}
