// The state file: resources survive a restart; operations a dead process left
// running are settled consistently (creations undone, deletions completed).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { createComputeClients } from '../../../src/gce/clients.js';
import { GceOperationError, waitForOperation } from '../../../src/gce/operations.js';
import { createComputeService } from '../../../src/lab/compute/index.js';
import { instanceBody, PROJECT, Recorder, rejection, startService } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'kube-ha-compute-'));
const stateFile = join(dir, 'compute-state.json');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ZONE = 'europe-west1-c';

it('keeps resources across a restart and settles interrupted operations', async () => {
  const rec = new Recorder();
  const first = await startService({ stateFile }, rec);
  let c = await createComputeClients({ endpoint: first.endpoint, timeoutMs: 10_000 });
  const done = (r: [unknown, ...unknown[]]) =>
    waitForOperation(c, r[0] as { latestResponse?: unknown }, { deadlineMs: 5000 });

  await done(
    await c.addresses.insert({
      project: PROJECT,
      region: 'europe-west1',
      addressResource: { name: 'kubernetes-master-ip' },
    }),
  );
  await done(
    await c.disks.insert({ project: PROJECT, zone: ZONE, diskResource: { name: 'keep-pd', sizeGb: '30' } }),
  );
  await done(
    await c.instances.insert({
      project: PROJECT,
      zone: ZONE,
      instanceResource: instanceBody(ZONE, 'survivor'),
    }),
  );
  await done(
    await c.instances.insert({
      project: PROJECT,
      zone: ZONE,
      instanceResource: instanceBody(ZONE, 'leaving'),
    }),
  );
  const [survivor] = await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'survivor' });
  const [leaving] = await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'leaving' });

  // Leave one insert and one delete running when the process "dies".
  rec.hangBoot = true;
  rec.hangStop = true;
  const [ins] = await c.instances.insert({
    project: PROJECT,
    zone: ZONE,
    instanceResource: instanceBody(ZONE, 'half-born'),
  });
  const [del] = await c.instances.delete({ project: PROJECT, zone: ZONE, instance: 'leaving' });
  await vi.waitFor(() =>
    expect(rec.events).toEqual(
      expect.arrayContaining([expect.stringMatching(/^running half-born/), 'stopping leaving STOPPING']),
    ),
  );
  const [halfBorn] = await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'half-born' });
  await c.close();
  await first.close();
  rec.hangBoot = false;
  rec.hangStop = false;

  // The file is complete JSON, written by rename (no temporary left behind).
  expect(readdirSync(dir)).toEqual(['compute-state.json']);
  expect(() => JSON.parse(readFileSync(stateFile, 'utf8'))).not.toThrow();

  const second = await startService({ stateFile }, rec);
  c = await createComputeClients({ endpoint: second.endpoint, timeoutMs: 10_000 });
  try {
    const [again] = await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'survivor' });
    expect([again.id, again.status, again.networkInterfaces?.[0]?.networkIP]).toEqual([
      survivor.id,
      'RUNNING',
      survivor.networkInterfaces?.[0]?.networkIP,
    ]);
    const [disk] = await c.disks.get({ project: PROJECT, zone: ZONE, disk: 'keep-pd' });
    expect(disk.sizeGb).toBe('30');
    const [address] = await c.addresses.get({
      project: PROJECT,
      region: 'europe-west1',
      address: 'kubernetes-master-ip',
    });
    expect(address.status).toBe('RESERVED');

    // The interrupted insert failed and was undone, its ephemeral IPs given back.
    const insOp = (ins as unknown as { latestResponse: { name: string } }).latestResponse;
    const [insAfter] = await c.zoneOperations.get({ project: PROJECT, zone: ZONE, operation: insOp.name });
    expect(insAfter.status).toBe('DONE');
    expect(insAfter.error?.errors?.[0]?.code).toBe('INTERNAL_ERROR');
    await expect(waitForOperation(c, insAfter, { deadlineMs: 1000 })).rejects.toBeInstanceOf(
      GceOperationError,
    );
    expect(
      (await rejection(c.instances.get({ project: PROJECT, zone: ZONE, instance: 'half-born' }))).code,
    ).toBe(404);
    expect((await rejection(c.disks.get({ project: PROJECT, zone: ZONE, disk: 'half-born' }))).code).toBe(
      404,
    );
    expect(rec.released).toContain(halfBorn.networkInterfaces?.[0]?.networkIP);

    // The interrupted delete completed.
    const delDone = await waitForOperation(c, del as unknown as { latestResponse: unknown }, {
      deadlineMs: 1000,
    });
    expect(delDone.error?.errors ?? []).toEqual([]);
    expect(
      (await rejection(c.instances.get({ project: PROJECT, zone: ZONE, instance: 'leaving' }))).code,
    ).toBe(404);
    expect(rec.released).toContain(leaving.networkInterfaces?.[0]?.networkIP);

    // The lab boots the VMs again.
    rec.events.length = 0;
    const resumed = await second.service.resumeRunningInstances();
    expect(resumed.resumed).toEqual([survivor.selfLink]);
    expect(rec.events).toEqual([`running survivor ${survivor.networkInterfaces?.[0]?.networkIP}`]);
    expect(second.service.resolveInstanceIP('survivor')).toBe(survivor.networkInterfaces?.[0]?.networkIP);
    expect(second.service.resolveInstanceIP('leaving')).toBeNull();
  } finally {
    await c.close();
    await second.close();
  }
});

it('refuses a state file of another project or format instead of overwriting it', () => {
  expect(() => createComputeService({ project: 'another-project', stateFile })).toThrow(
    /holds project kube-ha-test/,
  );
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{"format": 99}');
  expect(() => createComputeService({ project: PROJECT, stateFile: broken })).toThrow(/unknown state format/);
});
