// The operation lock as the executor sees it (HeldLock), in memory: never lost
// unless a test loses it, and taken again only when the test allows it.
import type { HeldLock } from '../../src/ops/lock.js';

export class FakeLock implements HeldLock {
  record = {
    operationId: 'op',
    kind: 'add' as const,
    summary: 's',
    holder: { user: 'u', host: 'h', pid: 1, tool: 't' },
    since: '',
  };
  private ac = new AbortController();
  private isLost = false;
  reacquired = 0;
  released = 0;
  /** canRetake: whether reacquire() after a loss succeeds (another holder otherwise). */
  constructor(private readonly canRetake = true) {}
  get signal(): AbortSignal {
    return this.ac.signal;
  }
  lose(): void {
    this.isLost = true;
    this.ac.abort(new Error('lost'));
  }
  lost(): boolean {
    return this.isLost;
  }
  lostReason(): string | null {
    return this.isLost ? 'no keepalive was answered (test)' : null;
  }
  async reacquire() {
    if (!this.canRetake) return { ok: false as const, reason: 'another operation holds the lock now: test' };
    this.isLost = false;
    this.ac = new AbortController();
    this.reacquired++;
    return { ok: true as const };
  }
  async release(): Promise<void> {
    this.released++;
  }
}
