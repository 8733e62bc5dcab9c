// The Compute retry policy in milliseconds: a fake clock whose sleeps only
// advance time, fake clients that fail as the real client library does.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ComputeClients } from '../../src/gce/clients.js';
import {
  GceApiError,
  type GceOperation,
  GceOperationError,
  waitForOperation,
} from '../../src/gce/operations.js';
import {
  Backoff,
  CancelledError,
  classifyFailure,
  DEFAULT_RETRY_POLICY,
  type RetryClock,
} from '../../src/gce/retry.js';
import { ComputeOps } from '../../src/ops/compute-ops.js';

/** What the REST transport rejects with on an HTTP error: the body as the message, the status as code. */
function restError(code: number, reason: string, message: string, domain = 'usageLimits') {
  const body = {
    error: { code, message, errors: [{ message, domain, reason }], status: 'PERMISSION_DENIED' },
  };
  return Object.assign(new Error(JSON.stringify(body)), { code, status: code });
}
const RATE_LIMITED = () => restError(403, 'rateLimitExceeded', 'Rate Limit Exceeded');

const ZONE_URL = 'https://compute.googleapis.com/compute/v1/projects/p/zones/us-central1-a';
function doneOp(name: string, errorCode?: string): { latestResponse: GceOperation }[] {
  return [
    {
      latestResponse: {
        name,
        status: 'DONE',
        zone: ZONE_URL,
        operationType: 'insert',
        targetLink: `${ZONE_URL}/instances/x`,
        ...(errorCode ? { error: { errors: [{ code: errorCode, message: `${errorCode} (test)` }] } } : {}),
      } as GceOperation,
    },
  ];
}

class FakeClock implements RetryClock {
  t = 1_000_000;
  readonly pauses: number[] = [];
  constructor(private readonly rand = 0.5) {}
  now() {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal) {
    if (signal?.aborted) throw new CancelledError('cancelled');
    this.pauses.push(ms);
    this.t += ms;
  }
  random() {
    return this.rand;
  }
  get slept() {
    return this.pauses.reduce((a, b) => a + b, 0);
  }
}

function opsWith(clock: RetryClock, clients: Partial<ComputeClients> = {}, lines: string[] = []) {
  let n = 0;
  return new ComputeOps(clients as ComputeClients, {
    project: 'p',
    region: 'us-central1',
    opDeadlineMs: 60_000,
    log: (l) => lines.push(l),
    clock,
    newRequestId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  });
}

describe('classifyFailure', () => {
  it('tells rate limits, exhausted quota and transient failures apart', () => {
    const op = (code: string) => new GceOperationError(doneOp('op', code)[0]!.latestResponse);
    expect(classifyFailure(RATE_LIMITED())).toBe('rate-limit');
    expect(classifyFailure(restError(403, 'userRateLimitExceeded', 'User Rate Limit Exceeded'))).toBe(
      'rate-limit',
    );
    expect(classifyFailure(new GceApiError(429, '', 'Too Many Requests'))).toBe('rate-limit');
    expect(classifyFailure(op('RESOURCE_OPERATION_RATE_EXCEEDED'))).toBe('rate-limit');
    expect(classifyFailure(restError(403, 'quotaExceeded', "Quota 'CPUS' exceeded."))).toBe('exhausted');
    expect(classifyFailure(op('QUOTA_EXCEEDED'))).toBe('exhausted');
    expect(classifyFailure(op('ZONE_RESOURCE_POOL_EXHAUSTED'))).toBe('exhausted');
    expect(classifyFailure(op('ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS'))).toBe('exhausted');
    expect(classifyFailure(restError(503, 'backendError', 'Backend Error', 'global'))).toBe('transient');
    expect(classifyFailure(restError(403, 'forbidden', 'Required permission', 'global'))).toBe('fatal');
    expect(classifyFailure(op('INTERNAL_ERROR'))).toBe('fatal');
    expect(new GceApiError(403, 'rateLimitExceeded', 'Rate Limit Exceeded').transient).toBe(true);
    expect(new GceApiError(403, 'quotaExceeded', 'Quota').transient).toBe(false);
  });

  it('jitters rate-limit pauses between half and all of a doubling ceiling, never past the budget', () => {
    const pauses = (rand: number) => {
      const clock = new FakeClock(rand);
      const b = new Backoff(DEFAULT_RETRY_POLICY, clock);
      const out: number[] = [];
      for (let p = b.next('rate-limit'); p !== null; p = b.next('rate-limit')) {
        out.push(p);
        clock.t += p;
      }
      return out;
    };
    const low = pauses(0);
    const high = pauses(0.999);
    expect(low.slice(0, 4)).toEqual([1000, 2000, 4000, 8000]);
    expect(high[0]).toBeGreaterThan(1990);
    expect(low.reduce((a, b) => a + b)).toBe(60_000);
    expect(high.reduce((a, b) => a + b)).toBe(60_000);
    expect(Math.max(...high)).toBeLessThanOrEqual(DEFAULT_RETRY_POLICY.rateLimitCapMs);
  });
});

describe('ComputeOps retries', () => {
  it('waits out a rate-limited mutation with the same requestId and succeeds', async () => {
    const clock = new FakeClock();
    const ids: string[] = [];
    const lines: string[] = [];
    const c = opsWith(clock, {}, lines);
    const r = await c.mutate('instances.insert name=x', async (requestId) => {
      ids.push(requestId);
      if (ids.length <= 4) throw RATE_LIMITED();
      return doneOp('op-1');
    });
    expect(r).toBe('done');
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(clock.pauses).toEqual([1500, 3000, 6000, 12_000]);
    expect(lines.filter((l) => l.includes('rate limited'))).toHaveLength(4);
  });

  it('gives up on rate limits after ~60 s in all', async () => {
    const clock = new FakeClock(0.3);
    let calls = 0;
    const c = opsWith(clock);
    const err = await c
      .mutate('targetPools.addInstance pool=p instance=x', async () => {
        calls++;
        throw RATE_LIMITED();
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GceApiError);
    expect([(err as GceApiError).code, (err as GceApiError).reason]).toEqual([403, 'rateLimitExceeded']);
    expect(clock.slept).toBe(60_000);
    expect(calls).toBe(clock.pauses.length + 1);
    expect(calls).toBeLessThan(15);
  });

  it('rate limits on reads are waited out too', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const c = opsWith(clock);
    const got = await c.get('instances.get name=x', async () => {
      if (++calls < 3) throw RATE_LIMITED();
      return [{ name: 'x' }];
    });
    expect(got).toEqual({ name: 'x' });
    expect(clock.pauses).toHaveLength(2);
  });

  it('fails fast on exhausted quota or capacity, synchronous or in the operation', async () => {
    for (const fail of [
      async () => {
        throw restError(403, 'quotaExceeded', "Quota 'CPUS' exceeded.  Limit: 24.0 in region us-central1.");
      },
      async () => doneOp('op-q', 'QUOTA_EXCEEDED'),
      async () => doneOp('op-z', 'ZONE_RESOURCE_POOL_EXHAUSTED'),
      async () => doneOp('op-zd', 'ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS'),
    ]) {
      const clock = new FakeClock();
      let calls = 0;
      const err = await opsWith(clock)
        .mutate('instances.insert name=x', () => {
          calls++;
          return fail();
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(classifyFailure(err)).toBe('exhausted');
      expect([calls, clock.pauses]).toEqual([1, []]);
    }
  });

  it('sends a mutation again, with a new requestId, after RESOURCE_OPERATION_RATE_EXCEEDED', async () => {
    const clock = new FakeClock();
    const ids: string[] = [];
    const r = await opsWith(clock).mutate('disks.insert name=x-pd', async (requestId) => {
      ids.push(requestId);
      return ids.length === 1 ? doneOp('op-a', 'RESOURCE_OPERATION_RATE_EXCEEDED') : doneOp('op-b');
    });
    expect(r).toBe('done');
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);
    expect(clock.pauses).toEqual([1500]);
  });

  it('keeps the requestId across transient retries (a lost answer) and does not retry a 409 blindly', async () => {
    const clock = new FakeClock();
    const ids: string[] = [];
    const r = await opsWith(clock).mutate('targetPools.addInstance pool=p instance=x', async (requestId) => {
      ids.push(requestId);
      if (ids.length === 1) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      if (ids.length === 2) throw restError(503, 'backendError', 'Backend Error', 'global');
      return doneOp('op-1');
    });
    expect(r).toBe('done');
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    expect(clock.pauses).toEqual([250, 500]);
    // Each logical call has its own requestId.
    const again: string[] = [];
    const ops = opsWith(new FakeClock());
    await ops.mutate('a', async (id) => {
      again.push(id);
      return doneOp('op-2');
    });
    await ops.mutate('b', async (id) => {
      again.push(id);
      return doneOp('op-3');
    });
    expect(again[0]).not.toBe(again[1]);
  });

  it("the operation's AbortSignal stops a rate-limit pause at once", async () => {
    // The real clock: the pause would be ~1.5 s; the abort comes after 30 ms.
    const c = new ComputeOps({} as ComputeClients, {
      project: 'p',
      region: 'us-central1',
      opDeadlineMs: 60_000,
      log: () => {},
      clock: { random: () => 0.5 },
    });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const started = Date.now();
    let calls = 0;
    const err = await c
      .withSignal(ac.signal)
      .mutate('instances.delete name=x', async () => {
        calls++;
        throw RATE_LIMITED();
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(calls).toBe(1);
  });

  it('waitForOperation waits out a rate-limited operations.wait and stops on abort', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const clients = {
      zoneOperations: {
        wait: async () => {
          if (++calls < 4) throw RATE_LIMITED();
          return doneOp('op-w').map((x) => x.latestResponse);
        },
      },
    } as unknown as ComputeClients;
    const running = { name: 'op-w', status: 'RUNNING', zone: ZONE_URL } as GceOperation;
    const done = await waitForOperation(clients, running, { deadlineMs: 120_000, clock });
    expect(done.status).toBe('DONE');
    expect(clock.pauses).toHaveLength(3);
    const ac = new AbortController();
    ac.abort();
    const err = await waitForOperation(clients, running, {
      deadlineMs: 120_000,
      clock,
      signal: ac.signal,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
  });
});

describe('the resource calls the runners make (RunnerCompute)', () => {
  it('addToPool sends the instance URL and its requestId, logged as before; a delete of nothing is absent', async () => {
    const lines: string[] = [];
    const sent: unknown[] = [];
    const clients = {
      targetPools: {
        addInstance: async (req: unknown) => {
          sent.push(req);
          return doneOp('op-add');
        },
      },
      disks: {
        delete: async () => {
          throw restError(404, 'notFound', 'The resource was not found', 'global');
        },
      },
    } as unknown as Partial<ComputeClients>;
    const c = opsWith(new FakeClock(), clients, lines);
    expect(await c.addToPool('us-central1', 'pool', { name: 'm-1', zone: 'us-central1-b' })).toBe('done');
    expect(sent).toEqual([
      {
        requestId: '00000000-0000-4000-8000-000000000001',
        project: 'p',
        region: 'us-central1',
        targetPool: 'pool',
        targetPoolsAddInstanceRequestResource: {
          instances: [{ instance: 'projects/p/zones/us-central1-b/instances/m-1' }],
        },
      },
    ]);
    expect(lines[0]).toMatch(/^compute targetPools\.addInstance pool=pool instance=m-1 → op-add DONE/);
    expect(await c.deleteDisk('us-central1-b', 'm-1-pd')).toBe('absent');
    expect(lines[1]).toBe('compute disks.delete zone=us-central1-b name=m-1-pd → not found (nothing to do)');
  });
});

describe('requestId on every mutation', () => {
  it('every mutating Compute call in the runners passes the requestId it is given', () => {
    // The runners call Compute through RunnerCompute; ComputeOps makes the calls. Any
    // client call left in a runner is scanned too.
    const dir = new URL('../../src/ops/runners/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    const src = [
      readFileSync(new URL('../../src/ops/compute-ops.ts', import.meta.url), 'utf8'),
      ...files.map((f) => readFileSync(new URL(f, dir), 'utf8')),
    ].join('\n');
    const calls = [
      ...src.matchAll(
        /\bc\.(\w+)\.(insert|delete|addInstance|removeInstance|addAccessConfig|deleteAccessConfig|setLabels|setMetadata|setTags|attachDisk|detachDisk)\(\{([^)]*)/g,
      ),
    ];
    // 16 resource changes: insert/delete of 7 kinds, the pool's add/remove, access configs.
    expect(calls.length).toBeGreaterThanOrEqual(16);
    const without = calls.filter((m) => !/\brequestId\b/.test(m[3] ?? '')).map((m) => `${m[1]}.${m[2]}`);
    expect(without).toEqual([]);
  });
});
