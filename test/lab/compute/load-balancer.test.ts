// The load balancer kube-ha builds going from one replica to two, and tears
// down going back, as kube-up's: static address, target pool with no health
// check, forwarding rule. Legacy health checks are checked on a pool of their own.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { waitForOperation } from '../../../src/gce/operations.js';
import { FAST, instanceBody, type Lab, PROJECT, rejection, startLab } from './harness.js';

const REGION = 'us-central1';
const ZONE = 'us-central1-b';
const P = `projects/${PROJECT}`;
const HC = `${P}/global/httpHealthChecks/kubernetes-master-hc`;
const POOL = `${P}/regions/${REGION}/targetPools/kubernetes-master`;
const INSTANCE = `${P}/zones/${ZONE}/instances/kubernetes-master`;
let lab: Lab;

beforeAll(async () => {
  // Long enough that "not yet programmed" is observable on a loaded machine.
  lab = await startLab({ timing: { ...FAST, lbReadyDelayMs: 500 } });
});
afterAll(async () => {
  await lab?.close();
});

const done = (r: [unknown, ...unknown[]]) =>
  waitForOperation(lab.clients, r[0] as { latestResponse?: unknown }, { deadlineMs: 5000 });

it('builds and tears down the HA load balancer, refusing to delete what is in use', async () => {
  const c = lab.clients;
  const address = () =>
    c.addresses.get({ project: PROJECT, region: REGION, address: 'kubernetes-master-ip' }).then((r) => r[0]);

  // 1 replica: the static IP is on the VM.
  await done(
    await c.addresses.insert({
      project: PROJECT,
      region: REGION,
      addressResource: { name: 'kubernetes-master-ip' },
    }),
  );
  const reserved = await address();
  expect(reserved.status).toBe('RESERVED');
  const ip = reserved.address ?? '';
  expect(lab.rec.allocated.get(ip)).toBe('static');
  await done(
    await c.instances.insert({
      project: PROJECT,
      zone: ZONE,
      instanceResource: instanceBody(ZONE, 'kubernetes-master', { natIP: ip }),
    }),
  );
  expect((await address()).status).toBe('IN_USE');
  expect((await address()).users).toEqual([`https://www.googleapis.com/compute/v1/${INSTANCE}`]);
  // A static IP of another region is not usable.
  await done(
    await c.addresses.insert({ project: PROJECT, region: 'us-east1', addressResource: { name: 'east-ip' } }),
  );
  const [east] = await c.addresses.get({ project: PROJECT, region: 'us-east1', address: 'east-ip' });
  const wrongRegion = await rejection(
    c.instances.insert({
      project: PROJECT,
      zone: ZONE,
      instanceResource: instanceBody(ZONE, 'east-user', { natIP: east.address ?? '' }),
    }),
  );
  expect([wrongRegion.code, wrongRegion.reason]).toEqual([400, 'invalid']);

  // Legacy HTTP health checks: what a target pool may name.
  await done(
    await c.httpHealthChecks.insert({
      project: PROJECT,
      httpHealthCheckResource: {
        name: 'kubernetes-master-hc',
        port: 443,
        requestPath: '/healthz',
        checkIntervalSec: 2,
        timeoutSec: 1,
      },
    }),
  );
  const [hc] = await c.httpHealthChecks.get({ project: PROJECT, httpHealthCheck: 'kubernetes-master-hc' });
  expect([hc.port, hc.requestPath, hc.healthyThreshold]).toEqual([443, '/healthz', 2]);
  const missingHc = await rejection(
    c.targetPools.insert({
      project: PROJECT,
      region: REGION,
      targetPoolResource: { name: 'bad-pool', healthChecks: [`${P}/global/httpHealthChecks/nope`] },
    }),
  );
  expect([missingHc.code, missingHc.reason]).toEqual([404, 'notFound']);
  const modernHc = await rejection(
    c.targetPools.insert({
      project: PROJECT,
      region: REGION,
      targetPoolResource: { name: 'bad-pool', healthChecks: [`${P}/global/healthChecks/x`] },
    }),
  );
  expect([modernHc.code, modernHc.reason]).toEqual([400, 'invalid']);
  await done(
    await c.targetPools.insert({
      project: PROJECT,
      region: REGION,
      targetPoolResource: { name: 'checked', healthChecks: [HC] },
    }),
  );
  // kube-up's target pool: no health check.
  await done(
    await c.targetPools.insert({
      project: PROJECT,
      region: REGION,
      targetPoolResource: { name: 'kubernetes-master' },
    }),
  );
  const [kubeUpPool] = await c.targetPools.get({
    project: PROJECT,
    region: REGION,
    targetPool: 'kubernetes-master',
  });
  expect(kubeUpPool.healthChecks ?? []).toEqual([]);
  // The address cannot go to a forwarding rule while the VM holds it.
  const ruleBody = {
    name: 'kubernetes-master',
    IPAddress: ip,
    IPProtocol: 'TCP',
    portRange: '443',
    target: POOL,
  };
  const held = await rejection(
    c.forwardingRules.insert({ project: PROJECT, region: REGION, forwardingRuleResource: ruleBody }),
  );
  expect([held.code, held.reason]).toEqual([400, 'resourceInUseByAnotherResource']);
  expect(held.message).toContain(`is already being used by '${INSTANCE}'`);

  // 1 -> 2: the first replica moves to an ephemeral IP; the address is free again.
  await done(
    await c.instances.deleteAccessConfig({
      project: PROJECT,
      zone: ZONE,
      instance: 'kubernetes-master',
      accessConfig: 'External NAT',
      networkInterface: 'nic0',
    }),
  );
  expect((await address()).status).toBe('RESERVED');
  await done(
    await c.instances.addAccessConfig({
      project: PROJECT,
      zone: ZONE,
      instance: 'kubernetes-master',
      networkInterface: 'nic0',
      accessConfigResource: { name: 'External NAT', type: 'ONE_TO_ONE_NAT' },
    }),
  );
  const [moved] = await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'kubernetes-master' });
  const ephemeral = moved.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP ?? '';
  expect(ephemeral).not.toBe(ip);
  expect(lab.rec.allocated.get(ephemeral)).toBe('external');

  // Members must exist, be in the pool's region, and not be members already.
  await done(
    await c.targetPools.addInstance({
      project: PROJECT,
      region: REGION,
      targetPool: 'kubernetes-master',
      targetPoolsAddInstanceRequestResource: { instances: [{ instance: INSTANCE }] },
    }),
  );
  const twice = await rejection(
    c.targetPools.addInstance({
      project: PROJECT,
      region: REGION,
      targetPool: 'kubernetes-master',
      targetPoolsAddInstanceRequestResource: { instances: [{ instance: INSTANCE }] },
    }),
  );
  expect([twice.code, twice.reason]).toEqual([400, 'memberAlreadyExists']);
  const ghost = await rejection(
    c.targetPools.addInstance({
      project: PROJECT,
      region: REGION,
      targetPool: 'kubernetes-master',
      targetPoolsAddInstanceRequestResource: {
        instances: [{ instance: `${P}/zones/us-central1-a/instances/ghost` }],
      },
    }),
  );
  expect(ghost.code).toBe(404);
  const abroad = await rejection(
    c.targetPools.addInstance({
      project: PROJECT,
      region: REGION,
      targetPool: 'kubernetes-master',
      targetPoolsAddInstanceRequestResource: {
        instances: [{ instance: `${P}/zones/europe-west1-b/instances/kubernetes-master` }],
      },
    }),
  );
  expect([abroad.code, abroad.reason]).toEqual([400, 'invalid']);

  await done(
    await c.forwardingRules.insert({ project: PROJECT, region: REGION, forwardingRuleResource: ruleBody }),
  );
  const [rule] = await c.forwardingRules.get({
    project: PROJECT,
    region: REGION,
    forwardingRule: 'kubernetes-master',
  });
  expect([rule.IPAddress, rule.portRange, rule.target]).toEqual([
    ip,
    '443-443',
    `https://www.googleapis.com/compute/v1/${POOL}`,
  ]);
  expect((await address()).users).toEqual([
    `https://www.googleapis.com/compute/v1/${P}/regions/${REGION}/forwardingRules/kubernetes-master`,
  ]);

  // Health: unhealthy until the load balancer is programmed, then healthy (no health check:
  // GCE reports every RUNNING member HEALTHY).
  const health = () =>
    c.targetPools
      .getHealth({
        project: PROJECT,
        region: REGION,
        targetPool: 'kubernetes-master',
        instanceReferenceResource: { instance: INSTANCE },
      })
      .then((r) => r[0].healthStatus?.map((h) => `${h.healthState} ${h.ipAddress}`));
  expect(await health()).toEqual([`UNHEALTHY ${ip}`]);
  expect(lab.service.loadBalancer(ip)?.programmed).toBe(false);
  await vi.waitFor(async () => expect(await health()).toEqual([`HEALTHY ${ip}`]), {
    timeout: 3000,
    interval: 50,
  });
  expect(lab.service.loadBalancer(ip)?.members.map((m) => [m.networkIP, m.ready])).toEqual([
    [moved.networkInterfaces?.[0]?.networkIP, true],
  ]);

  // Everything in use refuses deletion (the health check by the pool 'checked').
  const refusals = await Promise.all([
    rejection(c.addresses.delete({ project: PROJECT, region: REGION, address: 'kubernetes-master-ip' })),
    rejection(c.targetPools.delete({ project: PROJECT, region: REGION, targetPool: 'kubernetes-master' })),
    rejection(c.httpHealthChecks.delete({ project: PROJECT, httpHealthCheck: 'kubernetes-master-hc' })),
  ]);
  expect(refusals.map((e) => `${e.code} ${e.reason}`)).toEqual(
    Array(3).fill('400 resourceInUseByAnotherResource'),
  );
  expect(refusals[2]?.message).toContain(`regions/${REGION}/targetPools/checked`);
  expect(refusals[1]?.message).toBe(
    `The targetPool resource '${POOL}' is already being used by '${P}/regions/${REGION}/forwardingRules/kubernetes-master'`,
  );

  // 2 -> 1: out of the pool, then the load balancer goes in reverse order.
  const removal = await c.targetPools.removeInstance({
    project: PROJECT,
    region: REGION,
    targetPool: 'kubernetes-master',
    targetPoolsRemoveInstanceRequestResource: { instances: [{ instance: INSTANCE }] },
  });
  // GCE runs one operation at a time on a pool.
  const concurrent = await rejection(
    c.targetPools.addInstance({
      project: PROJECT,
      region: REGION,
      targetPool: 'kubernetes-master',
      targetPoolsAddInstanceRequestResource: { instances: [{ instance: INSTANCE }] },
    }),
  );
  expect([concurrent.code, concurrent.reason]).toEqual([400, 'resourceNotReady']);
  expect((await done(removal)).operationType).toBe('removeInstance');
  const [pool] = await c.targetPools.get({
    project: PROJECT,
    region: REGION,
    targetPool: 'kubernetes-master',
  });
  expect(pool.instances ?? []).toEqual([]);
  const notMember = await rejection(
    c.targetPools.removeInstance({
      project: PROJECT,
      region: REGION,
      targetPool: 'kubernetes-master',
      targetPoolsRemoveInstanceRequestResource: { instances: [{ instance: INSTANCE }] },
    }),
  );
  expect([notMember.code, notMember.reason]).toEqual([400, 'invalid']);
  expect(notMember.message).toContain('Instance is not currently attached to this target pool.');

  await done(
    await c.forwardingRules.delete({ project: PROJECT, region: REGION, forwardingRule: 'kubernetes-master' }),
  );
  expect((await address()).status).toBe('RESERVED');
  await done(
    await c.targetPools.delete({ project: PROJECT, region: REGION, targetPool: 'kubernetes-master' }),
  );
  await done(await c.targetPools.delete({ project: PROJECT, region: REGION, targetPool: 'checked' }));
  await done(await c.httpHealthChecks.delete({ project: PROJECT, httpHealthCheck: 'kubernetes-master-hc' }));
  const [checks] = await c.httpHealthChecks.list({ project: PROJECT });
  expect(checks).toEqual([]);
  // The survivor takes the static IP back; the ephemeral one is released.
  await done(
    await c.instances.deleteAccessConfig({
      project: PROJECT,
      zone: ZONE,
      instance: 'kubernetes-master',
      accessConfig: 'External NAT',
      networkInterface: 'nic0',
    }),
  );
  expect(lab.rec.released).toContain(ephemeral);
  await done(
    await c.instances.addAccessConfig({
      project: PROJECT,
      zone: ZONE,
      instance: 'kubernetes-master',
      networkInterface: 'nic0',
      accessConfigResource: { name: 'External NAT', type: 'ONE_TO_ONE_NAT', natIP: ip },
    }),
  );
  expect((await address()).status).toBe('IN_USE');
  const [rules] = await c.forwardingRules.list({ project: PROJECT, region: REGION });
  expect(rules).toEqual([]);
});
