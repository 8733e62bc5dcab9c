// instances.stop / start / reset through the real client (the library kube-ha
// uses): GCE's statuses, what happens to IPs and disks, the errors, requestId,
// faults, and what a restart of the Compute server keeps.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GceOperation, GceOperationError, waitForOperation } from '../../../src/gce/operations.js';
import { instanceBody, type Lab, PROJECT, Recorder, rejection, startLab, startService } from './harness.js';

const ZONE = 'us-central1-c';
const REGION = 'us-central1';
let lab: Lab;

beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

const at = (instance: string) => ({ project: PROJECT, zone: ZONE, instance });
const wait = (r: [unknown, ...unknown[]]) =>
  waitForOperation(lab.clients, r[0] as { latestResponse?: unknown }, { deadlineMs: 5000 });
const opOf = (r: [unknown, ...unknown[]]) => (r[0] as { latestResponse: GceOperation }).latestResponse;
const get = async (name: string) => (await lab.clients.instances.get(at(name)))[0];
const insert = async (name: string, natIP?: string) =>
  wait(
    await lab.clients.instances.insert({
      project: PROJECT,
      zone: ZONE,
      instanceResource: instanceBody(ZONE, name, natIP ? { natIP } : {}),
    }),
  );
/** Statuses seen by polling get until the operation is DONE. */
async function statusesWhile(name: string, r: [unknown, ...unknown[]]): Promise<string[]> {
  const seen: string[] = [];
  const done = wait(r).then(() => true);
  let finished = false;
  void done.then(() => {
    finished = true;
  });
  while (!finished) {
    const s = (await get(name)).status ?? '';
    if (seen.at(-1) !== s) seen.push(s);
    await new Promise((res) => setTimeout(res, 3));
  }
  await done;
  const last = (await get(name)).status ?? '';
  if (seen.at(-1) !== last) seen.push(last);
  return seen;
}

describe('stop, start, reset', () => {
  it('stop: RUNNING -> STOPPING -> TERMINATED; the ephemeral external IP goes, the internal IP and the disk stay', async () => {
    await insert('power-a');
    const before = await get('power-a');
    const nic = before.networkInterfaces?.[0];
    const natIP = nic?.accessConfigs?.[0]?.natIP ?? '';
    expect(lab.rec.allocated.get(natIP)).toBe('external');
    lab.rec.events.length = 0;

    const r = await lab.clients.instances.stop(at('power-a'));
    expect(opOf(r).operationType).toBe('stop');
    const seen = await statusesWhile('power-a', r);
    // In GCE's order (the first poll may come after the operation began).
    expect(seen).toEqual(['RUNNING', 'STOPPING', 'TERMINATED'].filter((s) => seen.includes(s)));
    // STOPPING lasts milliseconds here: a loaded machine's poll can miss it; the stop hook saw it.
    expect(seen.at(-1)).toBe('TERMINATED');
    expect(lab.rec.events).toEqual(['stopping power-a STOPPING']);

    const after = await get('power-a');
    expect(after.networkInterfaces?.[0]?.networkIP).toBe(nic?.networkIP);
    // The access config stays, without its address (GCE gives it a new one at start).
    expect(after.networkInterfaces?.[0]?.accessConfigs?.[0]?.name).toBe('External NAT');
    expect(after.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP ?? null).toBeNull();
    expect(lab.rec.released).toContain(natIP);
    expect(Date.parse(after.lastStopTimestamp ?? '')).toBeGreaterThan(0);
    const disk = after.disks?.[0]?.source?.split('/').pop() ?? '';
    const [d] = await lab.clients.disks.get({ project: PROJECT, zone: ZONE, disk });
    expect(d.users).toEqual([after.selfLink]);
  });

  it('stop on a TERMINATED instance succeeds doing nothing; reset on it is 400 resourceNotReady', async () => {
    lab.rec.events.length = 0;
    const op = await wait(await lab.clients.instances.stop(at('power-a')));
    expect(op.status).toBe('DONE');
    expect(op.error ?? null).toBeNull();
    expect(lab.rec.events).toEqual([]);
    const err = await rejection(lab.clients.instances.reset(at('power-a')));
    expect(err.code).toBe(400);
    expect(err.reason).toBe('resourceNotReady');
    expect(err.message).toContain(`projects/${PROJECT}/zones/${ZONE}/instances/power-a' is not ready`);
    expect((await get('power-a')).status).toBe('TERMINATED');
  });

  it('start: TERMINATED -> PROVISIONING -> STAGING -> RUNNING, booted again with a new ephemeral external IP', async () => {
    const before = await get('power-a');
    lab.rec.events.length = 0;
    const r = await lab.clients.instances.start(at('power-a'));
    expect(opOf(r).operationType).toBe('start');
    const seen = await statusesWhile('power-a', r);
    expect(seen).toEqual(
      ['TERMINATED', 'PROVISIONING', 'STAGING', 'RUNNING'].filter((s) => seen.includes(s)),
    );
    // PROVISIONING and STAGING last milliseconds here: a loaded machine's poll can miss them.
    expect(seen.at(-1)).toBe('RUNNING');
    const after = await get('power-a');
    const ip = after.networkInterfaces?.[0]?.networkIP;
    expect(ip).toBe(before.networkInterfaces?.[0]?.networkIP);
    expect(lab.rec.events).toEqual([`running power-a ${ip}`]);
    const natIP = after.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP ?? '';
    expect(lab.rec.allocated.get(natIP)).toBe('external');
    expect(Date.parse(after.lastStartTimestamp ?? '')).toBeGreaterThan(
      Date.parse(before.lastStopTimestamp ?? ''),
    );
  });

  it('start on a RUNNING instance succeeds doing nothing', async () => {
    lab.rec.events.length = 0;
    const natIP = (await get('power-a')).networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP;
    const op = await wait(await lab.clients.instances.start(at('power-a')));
    expect(op.error ?? null).toBeNull();
    expect(lab.rec.events).toEqual([]);
    const after = await get('power-a');
    expect(after.status).toBe('RUNNING');
    expect(after.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP).toBe(natIP);
  });

  it('reset: the VM is reset (hook) and the status stays RUNNING throughout, IPs unchanged', async () => {
    lab.rec.events.length = 0;
    const before = await get('power-a');
    const r = await lab.clients.instances.reset(at('power-a'));
    expect(opOf(r).operationType).toBe('reset');
    const seen = await statusesWhile('power-a', r);
    expect(seen).toEqual(['RUNNING']);
    expect(lab.rec.events).toEqual(['reset power-a RUNNING']);
    const after = await get('power-a');
    expect(after.networkInterfaces).toEqual(before.networkInterfaces);
  });

  it('one operation at a time: a stop during a start is 400 resourceNotReady', async () => {
    await wait(await lab.clients.instances.stop(at('power-a')));
    const r = await lab.clients.instances.start(at('power-a'));
    const err = await rejection(lab.clients.instances.stop(at('power-a')));
    expect(err.reason).toBe('resourceNotReady');
    await wait(r);
    expect((await get('power-a')).status).toBe('RUNNING');
  });

  it('a static external IP stays with the stopped instance, IN_USE, and is its address again at start', async () => {
    await wait(
      await lab.clients.addresses.insert({
        project: PROJECT,
        region: REGION,
        addressResource: { name: 'power-ip' },
      }),
    );
    const [addr] = await lab.clients.addresses.get({ project: PROJECT, region: REGION, address: 'power-ip' });
    await insert('power-b', addr.address ?? '');
    await wait(await lab.clients.instances.stop(at('power-b')));
    const stopped = await get('power-b');
    expect(stopped.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP).toBe(addr.address);
    const [held] = await lab.clients.addresses.get({ project: PROJECT, region: REGION, address: 'power-ip' });
    expect(held.status).toBe('IN_USE');
    expect(held.users).toEqual([stopped.selfLink]);
    expect(lab.rec.released).not.toContain(addr.address);
    await wait(await lab.clients.instances.start(at('power-b')));
    expect((await get('power-b')).networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP).toBe(addr.address);
  });

  it('a repeated requestId returns the first operation (the instance is stopped once)', async () => {
    const requestId = '2f1c7c5e-8d3b-4a4e-9a4b-0d6b2c1e5f70';
    lab.rec.events.length = 0;
    const first = opOf(await lab.clients.instances.stop({ ...at('power-b'), requestId }));
    const again = opOf(await lab.clients.instances.stop({ ...at('power-b'), requestId }));
    expect(again.name).toBe(first.name);
    await waitForOperation(lab.clients, first, { deadlineMs: 5000 });
    expect(lab.rec.events).toEqual(['stopping power-b STOPPING']);
  });

  it('faults: an operation fault on start leaves the instance TERMINATED and gives its new IP back; an http fault on reset is its error', async () => {
    const fault = lab.service.setFault({ method: 'instances.start', mode: 'operation', times: 1 });
    const releasedBefore = lab.rec.released.length;
    const err = await wait(await lab.clients.instances.start(at('power-b'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GceOperationError);
    expect((err as GceOperationError).code).toBe('INTERNAL_ERROR');
    expect(fault.hits()).toBe(1);
    const after = await get('power-b');
    expect(after.status).toBe('TERMINATED');
    // power-b's address is static: the fault undoes nothing it holds.
    expect(lab.rec.released.length).toBe(releasedBefore);

    await wait(await lab.clients.instances.stop(at('power-a')));
    const releasedAfterStop = lab.rec.released.length;
    const f2 = lab.service.setFault({ method: 'instances.start', mode: 'operation', times: 1 });
    await wait(await lab.clients.instances.start(at('power-a'))).catch(() => {});
    expect(f2.hits()).toBe(1);
    const a = await get('power-a');
    expect(a.status).toBe('TERMINATED');
    expect(a.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP ?? null).toBeNull();
    expect(lab.rec.released.length).toBe(releasedAfterStop + 1);

    await wait(await lab.clients.instances.start(at('power-a')));
    lab.service.setFault({ method: 'instances.reset', mode: 'http', reason: 'rateLimitExceeded', times: 1 });
    const throttled = await rejection(lab.clients.instances.reset(at('power-a')));
    expect(throttled.code).toBe(403);
    expect(throttled.reason).toBe('rateLimitExceeded');
  });

  it('a boot that fails at start fails the operation and leaves the instance TERMINATED', async () => {
    await wait(await lab.clients.instances.stop(at('power-a')));
    lab.rec.bootError = new Error('no etcd image');
    try {
      const err = await wait(await lab.clients.instances.start(at('power-a'))).catch((e: unknown) => e);
      expect((err as GceOperationError).errors?.[0]?.message).toContain("Instance 'power-a' failed to start");
    } finally {
      lab.rec.bootError = null;
    }
    expect((await get('power-a')).status).toBe('TERMINATED');
  });
});

describe('a restart of the Compute server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kube-ha-power-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a stopped instance TERMINATED (not booted again) and finishes a stop it interrupted', async () => {
    const stateFile = join(dir, 'compute-state.json');
    const rec = new Recorder();
    const first = await startLab({ stateFile }, rec);
    const w = (r: [unknown, ...unknown[]]) =>
      waitForOperation(first.clients, r[0] as { latestResponse?: unknown }, { deadlineMs: 5000 });
    for (const name of ['kept-a', 'kept-b'])
      await w(
        await first.clients.instances.insert({
          project: PROJECT,
          zone: ZONE,
          instanceResource: instanceBody(ZONE, name),
        }),
      );
    await w(await first.clients.instances.stop(at('kept-a')));
    rec.hangStop = true;
    await first.clients.instances.stop(at('kept-b'));
    await first.close();

    rec.hangStop = false;
    rec.events.length = 0;
    const second = await startService({ stateFile }, rec);
    try {
      const resumed = await second.service.resumeRunningInstances();
      expect(resumed.resumed).toEqual([]);
      expect(rec.events).toEqual([]);
      const statuses = second.service.state.instances.entries().map(([, e]) => [e.res.name, e.res.status]);
      expect(statuses.sort()).toEqual([
        ['kept-a', 'TERMINATED'],
        ['kept-b', 'TERMINATED'],
      ]);
    } finally {
      await second.close();
    }
  });
});
