// A deadline for a network call that counts only the time in which this
// process could have heard the answer.
//
// A plain setTimeout also counts time the event loop spent on other work
// (loading a library, parsing a member's /metrics) and time the process waited
// for a CPU on a loaded machine. Measured on the lab (2 cores, eight busy
// processes beside `kube-ha status`): the three apiservers, which answer in a
// few milliseconds, were reported "no answer in 1.5 s" in most runs, and
// status exited 5. An operator's bastion under load must not invent an outage.
//
// So the deadline advances in ticks, and a tick that fires late counts only
// its own length. When the budget is spent, expiry waits one turn of the
// event loop (setImmediate runs after the loop has polled for I/O), so an
// answer that arrived while the process was busy is read first. It stays a
// deadline: it expires after `stretch` times its length in wall time,
// whatever the ticks counted.

export interface Deadline {
  /** Stops it: the call finished. */
  cancel(): void;
}

export interface DeadlineOptions {
  /** Length of a tick (ms): how much of a late tick counts. */
  tickMs?: number;
  /** Wall-time bound, as a multiple of the deadline. */
  stretch?: number;
}

export function startDeadline(ms: number, onExpire: () => void, opts: DeadlineOptions = {}): Deadline {
  const tick = Math.max(10, Math.min(opts.tickMs ?? 100, ms));
  const start = performance.now();
  const hardAt = start + ms * (opts.stretch ?? 3);
  let counted = 0;
  let last = start;
  let timer: NodeJS.Timeout | null = null;
  let immediate: NodeJS.Immediate | null = null;
  let over = false;

  const expire = () => {
    timer = null;
    immediate = setImmediate(() => {
      immediate = null;
      if (over) return;
      over = true;
      onExpire();
    });
  };
  const step = () => {
    const now = performance.now();
    counted += Math.min(now - last, tick);
    last = now;
    if (counted >= ms || now >= hardAt) expire();
    else timer = setTimeout(step, Math.min(tick, ms - counted));
  };
  timer = setTimeout(step, Math.min(tick, ms));
  return {
    cancel() {
      over = true;
      if (timer) clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      timer = null;
      immediate = null;
    },
  };
}
