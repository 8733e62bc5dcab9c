// One source, one timer. A poll never overlaps the previous one of the same
// source, and nothing awaits it: the result is applied to the store whenever
// it arrives. A poll that does not answer within its timeout is given up (its
// late answer is ignored) so that a hung call cannot stop the source forever.

export interface PollerSpec<T> {
  name: string;
  intervalMs: number;
  /** Between polls while `isQuiet` says nothing is happening (default intervalMs). */
  quietIntervalMs?: number;
  isQuiet?: () => boolean;
  timeoutMs: number;
  /** `forced`: asked for by refreshNow (`r`, or after an operation), not by the timer. */
  poll: (forced: boolean) => Promise<T>;
  onResult: (value: T, at: number) => void;
  onError: (message: string, at: number) => void;
  /** Polls are skipped (not queued) while this says so. */
  isPaused: () => boolean;
  now: () => number;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

export class Poller<T> {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight = false;
  private rerun = false;
  private stopped = true;
  private forceNext = false;
  private lastStarted = Number.NEGATIVE_INFINITY;

  constructor(private readonly spec: PollerSpec<T>) {}

  get busy(): boolean {
    return this.inFlight;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The interval now: the quiet one while nothing is happening. */
  private get intervalMs(): number {
    const s = this.spec;
    return s.quietIntervalMs !== undefined && s.isQuiet?.() ? s.quietIntervalMs : s.intervalMs;
  }

  /**
   * Something happened: a poll waiting out the quiet interval runs as soon as
   * the active interval since the last one has passed.
   */
  wake(): void {
    if (this.stopped || this.inFlight || !this.timer) return;
    this.schedule(Math.max(0, this.spec.intervalMs - (this.spec.now() - this.lastStarted)));
  }

  /** Poll now; if a poll is running, poll again as soon as it ends. */
  refreshNow(): void {
    if (this.stopped) return;
    this.forceNext = true;
    if (this.inFlight) this.rerun = true;
    else this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), delayMs);
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stopped) return;
    if (this.inFlight) {
      this.rerun = true;
      return;
    }
    const spec = this.spec;
    if (spec.isPaused()) {
      this.schedule(spec.intervalMs);
      return;
    }
    this.inFlight = true;
    const started = spec.now();
    this.lastStarted = started;
    void this.attempt().finally(() => {
      this.inFlight = false;
      if (this.stopped) return;
      if (this.rerun) {
        this.rerun = false;
        this.schedule(0);
      } else {
        this.schedule(Math.max(0, this.intervalMs - (spec.now() - started)));
      }
    });
  }

  private async attempt(): Promise<void> {
    const spec = this.spec;
    let deadline: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      deadline = setTimeout(
        () => reject(new Error(`no answer within ${Math.round(spec.timeoutMs / 100) / 10}s`)),
        spec.timeoutMs,
      );
    });
    const forced = this.forceNext;
    this.forceNext = false;
    let call: Promise<T>;
    try {
      call = spec.poll(forced);
    } catch (err) {
      call = Promise.reject(err);
    }
    // A call abandoned at its deadline may still reject later: keep that quiet.
    call.catch(() => {});
    try {
      const value = await Promise.race([call, timedOut]);
      if (!this.stopped) spec.onResult(value, spec.now());
    } catch (err) {
      if (!this.stopped) spec.onError(errorText(err), spec.now());
    } finally {
      clearTimeout(deadline);
    }
  }
}
