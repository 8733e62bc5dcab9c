// The console's timeline as a ring buffer: a console left open through a
// flapping member for days must not grow without bound, nor copy its whole
// history on every event. The store appends in place (O(1)) and publishes a
// small new view per change, so that zustand subscribers still see a new
// value; the whole session goes to the session log on disk (sessionLog.ts).
import type { TimelineEvent } from './types.js';

/** How many events the console keeps in memory by default. */
export const TIMELINE_LIMIT = 1000;

/** A read-only view of the timeline as it was when the view was made, oldest first. */
export interface Timeline extends Iterable<TimelineEvent> {
  /** Events held (at most the ring's capacity). */
  readonly length: number;
  /** Events appended this session, held or not. */
  readonly total: number;
  /** Events of this session no longer held (the oldest). */
  readonly dropped: number;
  /** Like Array.prototype.at: negative counts from the newest. */
  at(index: number): TimelineEvent | undefined;
  /** The newest `n`, oldest first. */
  latest(n: number): TimelineEvent[];
  /** Events with an id above `id`, oldest first (what a writer has not seen yet). */
  after(id: number): TimelineEvent[];
  toArray(): TimelineEvent[];
  slice(start?: number, end?: number): TimelineEvent[];
  some(pred: (e: TimelineEvent) => boolean): boolean;
  find(pred: (e: TimelineEvent) => boolean): TimelineEvent | undefined;
  filter(pred: (e: TimelineEvent) => boolean): TimelineEvent[];
  map<T>(fn: (e: TimelineEvent) => T): T[];
}

/** The mutable storage under the views; only the store appends. */
export class TimelineRing {
  private readonly slots: (TimelineEvent | undefined)[];
  /** Events ever appended; the next one goes to slot `total % capacity`. */
  total = 0;

  constructor(readonly capacity: number = TIMELINE_LIMIT) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`timeline capacity ${capacity}`);
    this.slots = new Array(capacity);
  }

  push(events: readonly TimelineEvent[]): void {
    for (const e of events) {
      this.slots[this.total % this.capacity] = e;
      this.total++;
    }
  }

  /** The event appended as number `seq` (0-based), if still held. */
  get(seq: number): TimelineEvent | undefined {
    if (seq < 0 || seq >= this.total || seq < this.total - this.capacity) return undefined;
    return this.slots[seq % this.capacity];
  }

  /** A view of everything held now. */
  view(): Timeline {
    return new RingView(this, this.total);
  }
}

class RingView implements Timeline {
  constructor(
    private readonly ring: TimelineRing,
    private readonly end: number,
  ) {}

  /**
   * The oldest sequence number this view can still show: an older view keeps
   * what it held minus what later appends overwrote, never a newer event.
   */
  private get first(): number {
    return Math.max(0, this.end - this.ring.capacity, this.ring.total - this.ring.capacity);
  }

  get length(): number {
    return Math.max(0, this.end - this.first);
  }
  get total(): number {
    return this.end;
  }
  get dropped(): number {
    return this.end - this.length;
  }

  at(index: number): TimelineEvent | undefined {
    const i = index < 0 ? this.length + index : index;
    if (i < 0 || i >= this.length) return undefined;
    return this.ring.get(this.first + i);
  }

  slice(start = 0, end = this.length): TimelineEvent[] {
    const n = this.length;
    const norm = (x: number) => (x < 0 ? Math.max(0, n + x) : Math.min(n, x));
    const out: TimelineEvent[] = [];
    for (let i = norm(start); i < norm(end); i++) out.push(this.ring.get(this.first + i) as TimelineEvent);
    return out;
  }

  latest(n: number): TimelineEvent[] {
    return n > 0 ? this.slice(-n) : [];
  }

  after(id: number): TimelineEvent[] {
    // Ids grow by one per event, so the answer is a tail: walk back from the newest.
    let i = this.length;
    while (i > 0 && (this.at(i - 1) as TimelineEvent).id > id) i--;
    return this.slice(i);
  }

  toArray(): TimelineEvent[] {
    return this.slice();
  }

  *[Symbol.iterator](): Iterator<TimelineEvent> {
    const first = this.first;
    const n = this.length;
    for (let i = 0; i < n; i++) yield this.ring.get(first + i) as TimelineEvent;
  }

  some(pred: (e: TimelineEvent) => boolean): boolean {
    for (const e of this) if (pred(e)) return true;
    return false;
  }
  find(pred: (e: TimelineEvent) => boolean): TimelineEvent | undefined {
    for (const e of this) if (pred(e)) return e;
    return undefined;
  }
  filter(pred: (e: TimelineEvent) => boolean): TimelineEvent[] {
    return this.toArray().filter(pred);
  }
  map<T>(fn: (e: TimelineEvent) => T): T[] {
    return this.toArray().map(fn);
  }
  /** JSON.stringify of the state (debug dumps, tests) gives the events, not the ring. */
  toJSON(): TimelineEvent[] {
    return this.toArray();
  }
}
