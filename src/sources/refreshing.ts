// A value per key, loaded in the background at most once per interval and
// waited for only briefly: metrics and certificates beside each member's
// Status call must never make the call itself slower than a short grace.
export class Refreshing<T> {
  private readonly entries = new Map<
    string,
    { at: number; value: T | undefined; loaded: boolean; inflight: Promise<void> | null }
  >();

  constructor(
    private readonly everyMs: number,
    /** Never rejects: a failed load is a value too (null), retried after the interval. */
    private readonly load: (key: string) => Promise<T>,
  ) {}

  /** Starts a load when the last one is older than the interval (or there is none). */
  refresh(key: string): void {
    let e = this.entries.get(key);
    if (!e) {
      e = { at: 0, value: undefined, loaded: false, inflight: null };
      this.entries.set(key, e);
    }
    if (e.inflight || (e.loaded && Date.now() - e.at < this.everyMs)) return;
    const entry = e;
    entry.inflight = this.load(key).then(
      (v) => {
        entry.value = v;
        entry.loaded = true;
        entry.at = Date.now();
        entry.inflight = null;
      },
      () => {
        entry.at = Date.now();
        entry.inflight = null;
      },
    );
  }

  /** A value loaded elsewhere: it counts as this key's last load (none in flight is waited for). */
  seed(key: string, value: T): void {
    const e = this.entries.get(key);
    if (e?.inflight) return;
    this.entries.set(key, { at: Date.now(), value, loaded: true, inflight: null });
  }

  /**
   * The latest value, after waiting at most `waitMs` for a load in flight;
   * undefined before the first. Once a load has come back null (nothing
   * answered), later ones are not waited for: a firewalled port would
   * otherwise cost every look the whole wait.
   */
  async get(key: string, waitMs: number): Promise<T | undefined> {
    this.refresh(key);
    const e = this.entries.get(key)!;
    if (e.inflight && waitMs > 0 && !(e.loaded && e.value === null)) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((r) => {
        timer = setTimeout(r, waitMs);
      });
      await Promise.race([e.inflight, grace]);
      clearTimeout(timer);
    }
    return e.value;
  }

  /** Drops keys not in `keep` (members that left). */
  retain(keep: ReadonlySet<string>): void {
    for (const k of this.entries.keys()) if (!keep.has(k)) this.entries.delete(k);
  }
}
