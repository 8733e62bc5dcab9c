// The lab answers GCE's rate limits, exhausted quota and lost answers as GCE
// does, and kube-ha's ComputeOps (through the real @google-cloud/compute
// client) rides them out: rate limits waited out, quota failing fast, a
// retried mutation whose answer was lost applied once thanks to its requestId.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GceOperationError, toGceApiError, waitForOperation } from '../../../src/gce/operations.js';
import { classifyFailure } from '../../../src/gce/retry.js';
import { ComputeOps } from '../../../src/ops/compute-ops.js';
import { instanceBody, type Lab, PROJECT, rejection, startLab } from './harness.js';
import { httpFailure, type SecondClient, startSecondClient } from './second-client.js';

const ZONE = 'us-central1-a';
const REGION = 'us-central1';
let lab: Lab;
let second: SecondClient;

beforeAll(async () => {
  [lab, second] = await Promise.all([startLab(), startSecondClient()]);
});
afterAll(async () => {
  await Promise.all([lab?.close(), second?.close()]);
});

/** ComputeOps on the lab with instant pauses (recorded) and its log kept. */
function computeOps(): { ops: ComputeOps; pauses: number[]; log: string[] } {
  const pauses: number[] = [];
  const log: string[] = [];
  const ops = new ComputeOps(lab.clients, {
    project: PROJECT,
    region: REGION,
    opDeadlineMs: 10_000,
    log: (l) => log.push(l),
    clock: {
      sleep: async (ms) => {
        pauses.push(ms);
      },
    },
  });
  return { ops, pauses, log };
}

const insertVM = (ops: ComputeOps, name: string) =>
  ops.mutate(
    `instances.insert name=${name}`,
    (requestId) =>
      lab.clients.instances.insert({
        requestId,
        project: PROJECT,
        zone: ZONE,
        instanceResource: instanceBody(ZONE, name),
      }),
    { exists: true },
  );

async function instancesNamed(prefix: string): Promise<string[]> {
  const [list] = await lab.clients.instances.list({
    project: PROJECT,
    zone: ZONE,
    filter: `name eq ${prefix}.*`,
  });
  return list.map((i) => i.name ?? '');
}

async function newPool(name: string): Promise<void> {
  const [op] = await lab.clients.targetPools.insert({
    project: PROJECT,
    region: REGION,
    targetPoolResource: { name },
  });
  await waitForOperation(lab.clients, op, { deadlineMs: 5000 });
}

const addToPool = (pool: string, vm: string, requestId?: string) =>
  lab.clients.targetPools.addInstance({
    ...(requestId ? { requestId } : {}),
    project: PROJECT,
    region: REGION,
    targetPool: pool,
    targetPoolsAddInstanceRequestResource: {
      instances: [{ instance: `projects/${PROJECT}/zones/${ZONE}/instances/${vm}` }],
    },
  });

describe("the lab's throttling and quota answers", () => {
  it('a rateLimitExceeded fault answers 403 usageLimits as GCE does, read alike by both clients', async () => {
    lab.service.setFault({ method: 'zones.get', mode: 'http', reason: 'rateLimitExceeded', times: 1 });
    const raw = await fetch(`${lab.endpoint}/compute/v1/projects/${PROJECT}/zones/${ZONE}`);
    expect(raw.status).toBe(403);
    expect(await raw.json()).toEqual({
      error: {
        code: 403,
        message: 'Rate Limit Exceeded',
        errors: [{ message: 'Rate Limit Exceeded', domain: 'usageLimits', reason: 'rateLimitExceeded' }],
        status: 'PERMISSION_DENIED',
      },
    });

    lab.service.setFault({ method: 'zones.get', mode: 'http', reason: 'rateLimitExceeded', times: 1 });
    const err = await rejection(lab.clients.zones.get({ project: PROJECT, zone: ZONE }));
    expect([err.code, err.reason, err.message]).toEqual([403, 'rateLimitExceeded', 'Rate Limit Exceeded']);
    expect(err.transient).toBe(true);
    expect(classifyFailure(err)).toBe('rate-limit');

    second.service.setFault({ method: 'zones.get', mode: 'http', reason: 'userRateLimitExceeded', times: 1 });
    const other = await httpFailure(second.c.zones.get({ project: PROJECT, zone: ZONE }));
    expect([other.status, other.reason, other.body.error?.status]).toEqual([
      403,
      'userRateLimitExceeded',
      'PERMISSION_DENIED',
    ]);
  });

  it('quotaExceeded answers 403 with the region in the message and is not worth retrying', async () => {
    lab.service.setFault({ method: 'disks.insert', mode: 'http', reason: 'quotaExceeded', times: 1 });
    const err = await rejection(
      lab.clients.disks.insert({ project: PROJECT, zone: ZONE, diskResource: { name: 'q-pd' } }),
    );
    expect([err.code, err.reason, err.message]).toEqual([
      403,
      'quotaExceeded',
      "Quota 'CPUS' exceeded.  Limit: 24.0 in region us-central1.",
    ]);
    expect(err.transient).toBe(false);
    expect(classifyFailure(err)).toBe('exhausted');
  });

  it('operations end in RESOURCE_OPERATION_RATE_EXCEEDED or QUOTA_EXCEEDED with GCE wording and status', async () => {
    lab.service.setFault({
      method: 'disks.insert',
      mode: 'operation',
      code: 'RESOURCE_OPERATION_RATE_EXCEEDED',
      times: 1,
    });
    const [op] = await lab.clients.disks.insert({
      project: PROJECT,
      zone: ZONE,
      diskResource: { name: 'r-pd' },
    });
    const err = (await waitForOperation(lab.clients, op, { deadlineMs: 5000 }).catch(
      (e) => e,
    )) as GceOperationError;
    expect(err).toBeInstanceOf(GceOperationError);
    expect(err.code).toBe('RESOURCE_OPERATION_RATE_EXCEEDED');
    expect(err.errors[0]?.message).toBe(
      `Operation rate exceeded for resource 'projects/${PROJECT}/zones/${ZONE}/disks/r-pd'. Too frequent operations from the source resource.`,
    );
    expect([err.httpStatus, err.operation.httpErrorMessage]).toEqual([403, 'FORBIDDEN']);
    expect(classifyFailure(err)).toBe('rate-limit');

    lab.service.setFault({ method: 'instances.insert', mode: 'operation', code: 'QUOTA_EXCEEDED', times: 1 });
    const [op2] = await lab.clients.instances.insert({
      project: PROJECT,
      zone: ZONE,
      instanceResource: instanceBody(ZONE, 'q-vm'),
    });
    const err2 = (await waitForOperation(lab.clients, op2, { deadlineMs: 5000 }).catch(
      (e) => e,
    )) as GceOperationError;
    expect([err2.code, err2.httpStatus]).toEqual(['QUOTA_EXCEEDED', 403]);
    expect(classifyFailure(err2)).toBe('exhausted');
  });
});

describe('kube-ha against the throttling lab', () => {
  it('waits out rate limits on the call and on its operation, and creates the VM once', async () => {
    const { ops, pauses, log } = computeOps();
    const f1 = lab.service.setFault({
      method: 'instances.insert',
      mode: 'http',
      reason: 'rateLimitExceeded',
      times: 2,
    });
    const f2 = lab.service.setFault({
      method: 'instances.insert',
      mode: 'operation',
      code: 'RESOURCE_OPERATION_RATE_EXCEEDED',
      times: 1,
    });
    expect(await insertVM(ops, 'throttled-1')).toBe('done');
    expect([f1.hits(), f2.hits()]).toEqual([2, 1]);
    expect(pauses).toHaveLength(3);
    expect(pauses.every((p) => p >= 1000 && p <= 16_000)).toBe(true);
    expect(log.filter((l) => l.includes('rate limited'))).toHaveLength(3);
    expect(await instancesNamed('throttled-')).toEqual(['throttled-1']);
  });

  it('fails fast on quotaExceeded without a pause', async () => {
    const { ops, pauses } = computeOps();
    lab.service.setFault({ method: 'instances.insert', mode: 'http', reason: 'quotaExceeded', times: 1 });
    const err = await insertVM(ops, 'no-quota').catch((e: unknown) => e);
    expect(toGceApiError(err).reason).toBe('quotaExceeded');
    expect(pauses).toEqual([]);
  });
});

describe('requestId and lost answers', () => {
  it('a repeated requestId returns the first operation; a requestId that is not a UUID is a 400', async () => {
    await newPool('rid-pool');
    const { ops } = computeOps();
    await insertVM(ops, 'rid-vm');
    const requestId = crypto.randomUUID();
    const [a] = await addToPool('rid-pool', 'rid-vm', requestId);
    const [b] = await addToPool('rid-pool', 'rid-vm', requestId);
    expect(b.latestResponse).toMatchObject({ name: (a.latestResponse as { name: string }).name });
    await waitForOperation(lab.clients, a, { deadlineMs: 5000 });
    // Without the requestId, the same change is refused: it was already applied.
    const again = await rejection(addToPool('rid-pool', 'rid-vm'));
    expect([again.code, again.reason]).toEqual([400, 'memberAlreadyExists']);
    for (const bad of ['not-a-uuid', '00000000-0000-0000-0000-000000000000']) {
      const e = await rejection(addToPool('rid-pool', 'rid-vm', bad));
      expect([e.code, e.reason]).toEqual([400, 'invalid']);
      expect(e.message).toBe(
        `Invalid value for field 'requestId': '${bad}'. The request ID must be a valid UUID with the exception that zero UUID is not supported (00000000-0000-0000-0000-000000000000).`,
      );
    }
  });

  it('a lost answer (connection reset) is retried with the same requestId and applied once', async () => {
    await newPool('lost-pool');
    const { ops, log } = computeOps();
    await insertVM(ops, 'lost-vm');
    const fault = lab.service.setFault({
      method: 'targetPools.addInstance',
      mode: 'lost',
      match: { name: 'lost-pool' },
      times: 1,
    });
    const r = await ops.mutate('targetPools.addInstance pool=lost-pool instance=lost-vm', (requestId) =>
      addToPool('lost-pool', 'lost-vm', requestId),
    );
    expect(r).toBe('done');
    expect(fault.hits()).toBe(1);
    expect(log.some((l) => /no response.*transient failure/.test(l))).toBe(true);
    const [pool] = await lab.clients.targetPools.get({
      project: PROJECT,
      region: REGION,
      targetPool: 'lost-pool',
    });
    expect(pool.instances).toEqual([expect.stringMatching(/\/instances\/lost-vm$/)]);

    // The same loss without a requestId: the retry fails although the change was made.
    lab.service.setFault({ method: 'targetPools.removeInstance', mode: 'lost', times: 1 });
    const remove = () =>
      lab.clients.targetPools.removeInstance({
        project: PROJECT,
        region: REGION,
        targetPool: 'lost-pool',
        targetPoolsRemoveInstanceRequestResource: {
          instances: [{ instance: `projects/${PROJECT}/zones/${ZONE}/instances/lost-vm` }],
        },
      });
    const first = await rejection(remove());
    expect(first.code).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    const [after] = await lab.clients.targetPools.get({
      project: PROJECT,
      region: REGION,
      targetPool: 'lost-pool',
    });
    expect(after.instances ?? []).toEqual([]);
    const retried = await rejection(remove());
    expect([retried.code, retried.reason]).toEqual([400, 'invalid']);
    expect(retried.message).toContain('not currently attached');
  });

  it("'lost-answer' with a code applies the insert, answers 503, and kube-ha's retry gets the first operation (not 409)", async () => {
    const { ops, log } = computeOps();
    const fault = lab.service.setFault({
      method: 'instances.insert',
      mode: 'lost-answer' as 'lost',
      code: 503,
      match: { name: 'lost-insert' },
      times: 1,
    });
    expect(await insertVM(ops, 'lost-insert')).toBe('done');
    expect(fault.hits()).toBe(1);
    expect(log.some((l) => l.includes('HTTP 503'))).toBe(true);
    expect(log.some((l) => l.includes('already exists'))).toBe(false);
    expect(await instancesNamed('lost-insert')).toEqual(['lost-insert']);
    const [vm] = await lab.clients.instances.get({ project: PROJECT, zone: ZONE, instance: 'lost-insert' });
    expect(vm.status).toBe('RUNNING');
  });

  it('a call whose every answer was lost keeps its request ID in the book: the next run (a resumed step) gets the first operation', async () => {
    await newPool('book-pool');
    const kept: Record<string, string> = {};
    const spent: string[] = [];
    const book = {
      idFor: (call: string) => {
        kept[call] ??= crypto.randomUUID();
        return kept[call];
      },
      spend: (call: string) => {
        spent.push(call);
        delete kept[call];
      },
    };
    const add = (ops: ComputeOps) =>
      ops.withRequestIds(book).addToPool(REGION, 'book-pool', { name: 'book-vm', zone: ZONE });
    const first = computeOps();
    await insertVM(first.ops, 'book-vm');
    // Every try of the first run loses its answer (the process then dies: its journal keeps the ID).
    const fault = lab.service.setFault({
      method: 'targetPools.addInstance',
      mode: 'lost',
      match: { name: 'book-pool' },
    });
    await expect(add(first.ops)).rejects.toThrow();
    fault.clear();
    expect(fault.hits()).toBeGreaterThan(1);
    const call = 'targetPools.addInstance pool=book-pool instance=book-vm';
    expect(Object.keys(kept)).toEqual([call]);
    // The resumed step sends the same ID: the first operation comes back, not memberAlreadyExists.
    expect(await add(computeOps().ops)).toBe('done');
    expect(spent).toEqual([]);
    // A refused call spends its ID: a repeat of it would only be refused again.
    const refused = await rejection(
      computeOps()
        .ops.withRequestIds(book)
        .addToPool(REGION, 'no-such-pool', { name: 'book-vm', zone: ZONE }),
    );
    expect(refused.code).toBe(404);
    expect(spent).toEqual(['targetPools.addInstance pool=no-such-pool instance=book-vm']);
  });

  it('refuses a lost fault on a method that changes nothing', () => {
    expect(() => lab.service.setFault({ method: 'instances.get', mode: 'lost' })).toThrow(
      /does not return an operation/,
    );
  });
});
