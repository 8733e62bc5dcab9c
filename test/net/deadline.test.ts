// startDeadline: a busy process does not turn a prompt answer into "no answer",
// and a call nobody answers still expires, bounded.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDeadline } from '../../src/net/deadline.js';

/** Keeps the thread busy, as loading a library or parsing a large answer does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

let server: Server;
let port = 0;

beforeAll(async () => {
  // Answers every connection at once: the answer is in the socket before the client reads it.
  server = createServer((s) => {
    s.on('error', () => {}); // the client hangs up at once
    s.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

/**
 * Asks the server, with a deadline made by `arm`, then blocks the thread for
 * `blockMs` right away. Resolves with what happened first.
 */
function askWhileBusy(
  arm: (ms: number, onExpire: () => void) => { cancel(): void },
  deadlineMs: number,
  blockMs: number,
): Promise<'answer' | 'expired'> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (how: 'answer' | 'expired', s: Socket) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      s.destroy();
      resolve(how);
    };
    const socket = connect(port, '127.0.0.1');
    const timer = arm(deadlineMs, () => settle('expired', socket));
    socket.on('data', () => settle('answer', socket));
    socket.on('error', () => {});
    socket.on('connect', () => busy(blockMs));
  });
}

const plainTimeout = (ms: number, onExpire: () => void) => {
  const t = setTimeout(onExpire, ms);
  return { cancel: () => clearTimeout(t) };
};

describe('startDeadline', () => {
  it('a plain timer calls an answer that came while the thread was busy a timeout (the failure it replaces)', async () => {
    expect(await askWhileBusy(plainTimeout, 200, 600)).toBe('expired');
  });

  it('reads an answer that came while the thread was busy, though the deadline passed meanwhile', async () => {
    expect(await askWhileBusy((ms, f) => startDeadline(ms, f), 200, 600)).toBe('answer');
  });

  it('expires a call nobody answers, not before its length', async () => {
    const t0 = performance.now();
    const at = await new Promise<number>((r) => startDeadline(150, () => r(performance.now())));
    expect(at - t0).toBeGreaterThanOrEqual(150);
  });

  it('stays a deadline while the thread is kept busy: expires by its stretch, not by its ticks', async () => {
    // Every tick fires late and counts 20 ms; 500 ms would need ~25 of them (~5 s here).
    const hog = setInterval(() => busy(150), 10);
    try {
      const t0 = performance.now();
      const at = await new Promise<number>((r) =>
        startDeadline(500, () => r(performance.now()), { tickMs: 20, stretch: 2 }),
      );
      // At the wall-time bound (2 × 500 ms), not when the ticks have counted 500 ms
      // (25 late ticks of at least 150 ms each: 3.75 s or more).
      expect(at - t0).toBeGreaterThanOrEqual(1000);
      expect(at - t0).toBeLessThan(3000);
    } finally {
      clearInterval(hog);
    }
  });

  it('cancel stops it', async () => {
    let expired = false;
    const d = startDeadline(50, () => {
      expired = true;
    });
    d.cancel();
    // A later timer of twice the length has run: the deadline's would have run before it.
    await new Promise((r) => setTimeout(r, 120));
    expect(expired).toBe(false);
  });
});
