// Injected failures and failing hooks, as kube-ha's rollback paths meet them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createComputeClients } from '../../../src/gce/clients.js';
import {
  GceApiError,
  GceOperationError,
  GceOperationTimeoutError,
  toGceApiError,
  waitForOperation,
} from '../../../src/gce/operations.js';
import { instanceBody, type Lab, PROJECT, rejection, startLab } from './harness.js';

const ZONE = 'us-east1-c';
let lab: Lab;

beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

const insert = (name: string, zone = ZONE) =>
  lab.clients.instances
    .insert({ project: PROJECT, zone, instanceResource: instanceBody(zone, name) })
    .then((r) => r[0]);
const wait = (op: unknown, deadlineMs = 5000) =>
  waitForOperation(lab.clients, op as { latestResponse?: unknown }, { deadlineMs });
const failure = async (p: Promise<unknown>): Promise<unknown> => {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
};

describe('fault injection', () => {
  it('an operation fault ends the insert with ZONE_RESOURCE_POOL_EXHAUSTED and leaves nothing behind', async () => {
    const fault = lab.service.setFault({
      method: 'instances.insert',
      mode: 'operation',
      match: { zone: ZONE, name: /^victim/ },
      times: 1,
    });
    const allocatedBefore = lab.rec.allocated.size;
    const err = await failure(wait(await insert('victim-1')));
    expect(err).toBeInstanceOf(GceOperationError);
    const opErr = err as GceOperationError;
    expect(opErr.code).toBe('ZONE_RESOURCE_POOL_EXHAUSTED');
    expect(opErr.errors[0]?.message).toContain(
      `The zone 'projects/${PROJECT}/zones/${ZONE}' does not have enough resources`,
    );
    expect(opErr.operation.status).toBe('DONE');
    expect(opErr.operation.httpErrorStatusCode).toBe(503);
    expect(fault.hits()).toBe(1);
    expect(
      (await rejection(lab.clients.instances.get({ project: PROJECT, zone: ZONE, instance: 'victim-1' })))
        .code,
    ).toBe(404);
    expect(
      (await rejection(lab.clients.disks.get({ project: PROJECT, zone: ZONE, disk: 'victim-1' }))).code,
    ).toBe(404);
    expect(lab.rec.allocated.size).toBe(allocatedBefore);
    expect(lab.rec.events.filter((e) => e.includes('victim-1'))).toEqual([]);
    // times: 1 -> the retry goes through.
    await wait(await insert('victim-1'));
    const [inst] = await lab.clients.instances.get({ project: PROJECT, zone: ZONE, instance: 'victim-1' });
    expect(inst.status).toBe('RUNNING');
  });

  it('an operation fault on delete keeps the instance RUNNING and does not stop it', async () => {
    lab.service.setFault({
      method: 'instances.delete',
      mode: 'operation',
      code: 'INTERNAL_ERROR',
      message: 'try again',
      times: 1,
    });
    const [del] = await lab.clients.instances.delete({ project: PROJECT, zone: ZONE, instance: 'victim-1' });
    const err = (await failure(wait(del))) as GceOperationError;
    expect(err.errors).toEqual([{ code: 'INTERNAL_ERROR', message: 'try again' }]);
    const [inst] = await lab.clients.instances.get({ project: PROJECT, zone: ZONE, instance: 'victim-1' });
    expect(inst.status).toBe('RUNNING');
    expect(lab.rec.events).not.toContain('stopping victim-1 STOPPING');
  });

  it('an http fault fails the request itself with the given status and reason', async () => {
    const f = lab.service.setFault({
      method: 'disks.insert',
      mode: 'http',
      code: 429,
      reason: 'rateLimitExceeded',
      message: 'Rate Limit Exceeded',
    });
    const err = await rejection(
      lab.clients.disks.insert({ project: PROJECT, zone: ZONE, diskResource: { name: 'limited' } }),
    );
    expect([err.code, err.reason, err.message]).toEqual([429, 'rateLimitExceeded', 'Rate Limit Exceeded']);
    expect(err.transient).toBe(true);
    f.clear();
    expect(
      (await rejection(lab.clients.disks.get({ project: PROJECT, zone: ZONE, disk: 'limited' }))).code,
    ).toBe(404);
    expect(() => lab.service.setFault({ method: 'instances.get', mode: 'operation' })).toThrow(
      /does not return an operation/,
    );
  });

  it('waitForOperation rides out transient failures of wait itself', async () => {
    const f = lab.service.setFault({ method: 'zoneOperations.wait', mode: 'http', code: 503, times: 2 });
    const op = await wait(await insert('flaky-wait'));
    expect(op.status).toBe('DONE');
    expect(f.hits()).toBe(2);
  });

  it('a failing boot hook fails the insert, stops the half-booted VM and rolls back', async () => {
    lab.rec.bootError = Object.assign(new Error('etcd did not start'), {
      code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
    });
    try {
      const err = (await failure(wait(await insert('bad-boot')))) as GceOperationError;
      expect(err).toBeInstanceOf(GceOperationError);
      expect(err.code).toBe('ZONE_RESOURCE_POOL_EXHAUSTED');
      expect(err.message).toContain('etcd did not start');
    } finally {
      lab.rec.bootError = null;
    }
    expect(lab.rec.events.filter((e) => e.startsWith('stopping bad-boot'))).toHaveLength(1);
    expect(
      (await rejection(lab.clients.instances.get({ project: PROJECT, zone: ZONE, instance: 'bad-boot' })))
        .code,
    ).toBe(404);
  });

  it('a zone fault on aggregatedList makes that zone unreachable, or fails the call without returnPartialSuccess', async () => {
    await wait(await insert('far-away', 'asia-east1-b'));
    lab.service.setFault({
      method: 'instances.aggregatedList',
      mode: 'http',
      match: { zone: 'asia-east1-b' },
    });
    const scopes: Record<string, string> = {};
    for await (const [scope, list] of lab.clients.instances.aggregatedListAsync(
      { project: PROJECT, returnPartialSuccess: true },
      { autoPaginate: false },
    )) {
      scopes[scope] = list.instances?.length
        ? `${list.instances.length} instances`
        : (list.warning?.code ?? '');
    }
    expect(scopes['zones/asia-east1-b']).toBe('UNREACHABLE');
    expect(scopes[`zones/${ZONE}`]).toMatch(/instances$/);
    const whole = await failure(
      (async () => {
        for await (const _ of lab.clients.instances.aggregatedListAsync(
          { project: PROJECT },
          { autoPaginate: false },
        )) {
          // drain
        }
      })(),
    );
    expect(toGceApiError(whole).code).toBe(503);
    lab.service.clearFaults();
    const [inst] = await lab.clients.instances.get({
      project: PROJECT,
      zone: 'asia-east1-b',
      instance: 'far-away',
    });
    expect(inst.name).toBe('far-away');
  });

  it('waitForOperation gives up at its deadline', async () => {
    // The boot hangs: the operation never ends, so only the wait's deadline ends the wait.
    lab.rec.hangBoot = true;
    const err = await failure(wait(await insert('slow-boot'), 150));
    expect(err).toBeInstanceOf(GceOperationTimeoutError);
    expect((err as GceOperationTimeoutError).operation.status).not.toBe('DONE');
    // The instance is still booting, so GCE would refuse to delete it yet.
    const busy = await rejection(
      lab.clients.instances.delete({ project: PROJECT, zone: ZONE, instance: 'slow-boot' }),
    );
    expect(busy).toBeInstanceOf(GceApiError);
    expect([busy.code, busy.reason]).toEqual([400, 'resourceNotReady']);
  });
});

describe('client failures without a Compute answer', () => {
  it('turns refused connections and transport timeouts into transient GceApiErrors (code 0)', async () => {
    const refused = await createComputeClients({ endpoint: 'http://127.0.0.1:1', timeoutMs: 2000 });
    try {
      const err = await rejection(refused.zones.get({ project: PROJECT, zone: ZONE }));
      expect([err.code, err.reason, err.transient]).toEqual([0, 'ECONNREFUSED', true]);
    } finally {
      await refused.close();
    }
    // A wait that outlasts the transport timeout (the boot never finishes).
    lab.rec.hangBoot = true;
    const impatient = await createComputeClients({ endpoint: lab.endpoint, timeoutMs: 200 });
    try {
      const op = (await insert('never-boots')) as unknown as { latestResponse: { name: string } };
      const err = await rejection(
        impatient.zoneOperations.wait({ project: PROJECT, zone: ZONE, operation: op.latestResponse.name }),
      );
      expect([err.code, err.reason, err.transient]).toEqual([0, 'timeout', true]);
    } finally {
      await impatient.close();
    }
  });

  it('builds Application Default Credentials clients for real GCE without touching the network', async () => {
    const gce = await createComputeClients({ endpoint: null, timeoutMs: 1000 });
    expect(gce.instances.apiEndpoint).toBe('compute.googleapis.com');
    await gce.close();
    expect(() => gce.instances).toThrow(/closed/);
  });
});
