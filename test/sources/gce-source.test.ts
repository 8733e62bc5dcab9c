// The GCE source against the lab's Compute service, through the real client
// library: the load balancer's resources reused while younger than
// lbMaxAgeMs (the console's quiet cadence, issue 12), the instances read
// every time.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitForOperation } from '../../src/gce/operations.js';
import { createGceSource } from '../../src/sources/gce-source.js';
import { instanceBody, type Lab, PROJECT, startLab } from '../lab/compute/harness.js';

const REGION = 'us-central1';
const ZONE = 'us-central1-b';
let lab: Lab;

beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

const done = (r: [unknown, ...unknown[]]) =>
  waitForOperation(lab.clients, r[0] as { latestResponse?: unknown }, { deadlineMs: 5000 });

it('reuses the load balancer resources younger than lbMaxAgeMs, and reads the instances every time', async () => {
  const source = createGceSource({
    project: PROJECT,
    region: REGION,
    masterName: 'kubernetes-master',
    compute: { endpoint: lab.endpoint },
    callTimeoutMs: 3000,
  } as Parameters<typeof createGceSource>[0]);
  try {
    const first = await source.observe();
    expect(first.instances).toEqual([]);
    expect(first.staticAddress).toBeNull();

    const c = lab.clients;
    await done(
      await c.addresses.insert({
        project: PROJECT,
        region: REGION,
        addressResource: { name: 'kubernetes-master-ip' },
      }),
    );
    await done(
      await c.instances.insert({
        project: PROJECT,
        zone: ZONE,
        instanceResource: instanceBody(ZONE, 'kubernetes-master'),
      }),
    );
    // Within the age: the address is the one read before (none); the new VM is there.
    const quiet = await source.observe({ lbMaxAgeMs: 60_000 });
    expect(quiet.instances.map((i) => i.name)).toEqual(['kubernetes-master']);
    expect(quiet.staticAddress).toBeNull();
    // Asked afresh (the active cadence, or the age passed): read again.
    const fresh = await source.observe({ lbMaxAgeMs: 0 });
    expect(fresh.staticAddress).toMatchObject({ name: 'kubernetes-master-ip', status: 'RESERVED' });
    expect(await source.observe()).toMatchObject({ staticAddress: { name: 'kubernetes-master-ip' } });
  } finally {
    await source.close();
  }
});
