// Conformance of the lab's Compute API to GCE, driven by a second client
// (Google's discovery-based @googleapis/compute, not the library kube-ha
// uses): status codes, error reasons and fields as GCE answers them.
import type { compute_v1 } from '@googleapis/compute';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT } from './harness.js';
import { httpFailure, ok, type SecondClient, startSecondClient } from './second-client.js';

const ZONE = 'us-central1-b';
const REGION = 'us-central1';
const API = 'https://www.googleapis.com/compute/v1/';
const zonePath = (z: string) => `projects/${PROJECT}/zones/${z}`;
const regionPath = `projects/${PROJECT}/regions/${REGION}`;

let s: SecondClient;
let c: compute_v1.Compute;

beforeAll(async () => {
  s = await startSecondClient();
  c = s.c;
});
afterAll(async () => {
  await s?.close();
});

function instanceBody(
  name: string,
  o: { zone?: string; networkIP?: string; natIP?: string; extra?: Record<string, unknown> } = {},
): compute_v1.Schema$Instance {
  const z = zonePath(o.zone ?? ZONE);
  return {
    name,
    machineType: `${z}/machineTypes/e2-standard-2`,
    disks: [
      {
        boot: true,
        autoDelete: true,
        initializeParams: {
          sourceImage: 'projects/cos-cloud/global/images/family/cos-121-lts',
          diskSizeGb: '20',
        },
      },
    ],
    networkInterfaces: [
      {
        network: `projects/${PROJECT}/global/networks/default`,
        ...(o.networkIP ? { networkIP: o.networkIP } : {}),
        accessConfigs: [
          { name: 'External NAT', type: 'ONE_TO_ONE_NAT', ...(o.natIP ? { natIP: o.natIP } : {}) },
        ],
      },
    ],
    ...o.extra,
  };
}

const insertInstance = (name: string, o: Parameters<typeof instanceBody>[1] = {}) =>
  ok(
    c,
    PROJECT,
    c.instances.insert({ project: PROJECT, zone: o.zone ?? ZONE, requestBody: instanceBody(name, o) }),
  );
const deleteInstance = (name: string, zone = ZONE) =>
  ok(c, PROJECT, c.instances.delete({ project: PROJECT, zone, instance: name }));
const insertAddress = (body: compute_v1.Schema$Address) =>
  ok(c, PROJECT, c.addresses.insert({ project: PROJECT, region: REGION, requestBody: body }));
const getAddress = async (name: string) =>
  (await c.addresses.get({ project: PROJECT, region: REGION, address: name })).data;

describe('the second client reaches only the lab', () => {
  it('sends no request outside loopback (no metadata server, no token endpoint)', async () => {
    await c.zones.list({ project: PROJECT });
    expect(s.urls.length).toBeGreaterThan(0);
    expect(s.refused).toEqual([]);
    expect(s.urls.every((u) => u.startsWith(`${s.endpoint}/compute/v1/`))).toBe(true);
  });
});

describe('ordinary calls', () => {
  it('instances: insert, get, list, aggregatedList, delete; the operation waits until DONE', async () => {
    const insert = await c.instances.insert({
      project: PROJECT,
      zone: ZONE,
      requestBody: instanceBody('plain-vm'),
    });
    expect(insert.status).toBe(200);
    expect(insert.data.kind).toBe('compute#operation');
    expect(insert.data.operationType).toBe('insert');
    expect(insert.data.targetLink).toBe(`${API}${zonePath(ZONE)}/instances/plain-vm`);
    const op = await ok(c, PROJECT, Promise.resolve(insert));
    expect(op.status).toBe('DONE');
    expect(op.progress).toBe(100);

    const inst = (await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'plain-vm' })).data;
    expect(inst.status).toBe('RUNNING');
    expect(inst.id).toMatch(/^[0-9]+$/);
    expect(inst.selfLink).toBe(`${API}${zonePath(ZONE)}/instances/plain-vm`);
    expect(inst.networkInterfaces?.[0]?.subnetwork).toBe(`${API}${regionPath}/subnetworks/default`);

    const list = (await c.instances.list({ project: PROJECT, zone: ZONE })).data;
    expect(list.kind).toBe('compute#instanceList');
    expect(list.items?.map((i) => i.name)).toContain('plain-vm');

    const agg = (await c.instances.aggregatedList({ project: PROJECT, returnPartialSuccess: true })).data;
    expect(agg.kind).toBe('compute#instanceAggregatedList');
    expect(agg.items?.[`zones/${ZONE}`]?.instances?.map((i) => i.name)).toContain('plain-vm');
    expect(agg.items?.['zones/us-central1-a']?.warning?.code).toBe('NO_RESULTS_ON_PAGE');

    const del = await deleteInstance('plain-vm');
    expect(del.operationType).toBe('delete');
    const gone = await httpFailure(c.instances.get({ project: PROJECT, zone: ZONE, instance: 'plain-vm' }));
    expect(gone.status).toBe(404);
    expect(gone.reason).toBe('notFound');
    expect(gone.message).toBe(`The resource '${zonePath(ZONE)}/instances/plain-vm' was not found`);
  });

  it('disks: insert, get, list, aggregatedList, delete', async () => {
    await ok(
      c,
      PROJECT,
      c.disks.insert({
        project: PROJECT,
        zone: ZONE,
        requestBody: { name: 'data-pd', sizeGb: '20', type: `${zonePath(ZONE)}/diskTypes/pd-ssd` },
      }),
    );
    const d = (await c.disks.get({ project: PROJECT, zone: ZONE, disk: 'data-pd' })).data;
    expect(d.status).toBe('READY');
    expect(d.sizeGb).toBe('20');
    expect(d.type).toBe(`${API}${zonePath(ZONE)}/diskTypes/pd-ssd`);
    expect((await c.disks.list({ project: PROJECT, zone: ZONE })).data.items?.map((x) => x.name)).toContain(
      'data-pd',
    );
    const agg = (await c.disks.aggregatedList({ project: PROJECT })).data;
    expect(agg.items?.[`zones/${ZONE}`]?.disks?.map((x) => x.name)).toContain('data-pd');
    await ok(c, PROJECT, c.disks.delete({ project: PROJECT, zone: ZONE, disk: 'data-pd' }));
    expect((await httpFailure(c.disks.get({ project: PROJECT, zone: ZONE, disk: 'data-pd' }))).status).toBe(
      404,
    );
  });

  it('addresses, target pools, forwarding rules: insert, get, list, aggregatedList, delete', async () => {
    await insertAddress({ name: 'lb-ip' });
    const addr = await getAddress('lb-ip');
    expect(addr.status).toBe('RESERVED');
    expect(addr.addressType).toBe('EXTERNAL');
    await ok(
      c,
      PROJECT,
      c.targetPools.insert({ project: PROJECT, region: REGION, requestBody: { name: 'pool' } }),
    );
    await ok(
      c,
      PROJECT,
      c.forwardingRules.insert({
        project: PROJECT,
        region: REGION,
        requestBody: {
          name: 'rule',
          IPAddress: addr.address ?? '',
          IPProtocol: 'TCP',
          portRange: '443',
          target: `${regionPath}/targetPools/pool`,
        },
      }),
    );
    const rule = (await c.forwardingRules.get({ project: PROJECT, region: REGION, forwardingRule: 'rule' }))
      .data;
    expect(rule.IPAddress).toBe(addr.address);
    expect(rule.portRange).toBe('443-443');
    expect(rule.target).toBe(`${API}${regionPath}/targetPools/pool`);
    const aggRules = (await c.forwardingRules.aggregatedList({ project: PROJECT })).data;
    expect(aggRules.items?.[`regions/${REGION}`]?.forwardingRules?.map((r) => r.name)).toEqual(['rule']);
    expect(
      (await c.targetPools.list({ project: PROJECT, region: REGION })).data.items?.map((p) => p.name),
    ).toEqual(['pool']);
    expect(
      (await c.addresses.aggregatedList({ project: PROJECT })).data.items?.[
        `regions/${REGION}`
      ]?.addresses?.map((a) => a.name),
    ).toContain('lb-ip');

    // A forwarding rule's IPAddress makes the static address IN_USE by the rule.
    const used = await getAddress('lb-ip');
    expect(used.status).toBe('IN_USE');
    expect(used.users).toEqual([`${API}${regionPath}/forwardingRules/rule`]);
    const refused = await httpFailure(
      c.addresses.delete({ project: PROJECT, region: REGION, address: 'lb-ip' }),
    );
    expect(refused.status).toBe(400);
    expect(refused.reason).toBe('resourceInUseByAnotherResource');
    expect(refused.message).toBe(
      `The address resource '${regionPath}/addresses/lb-ip' is already being used by '${regionPath}/forwardingRules/rule'`,
    );

    await ok(
      c,
      PROJECT,
      c.forwardingRules.delete({ project: PROJECT, region: REGION, forwardingRule: 'rule' }),
    );
    const back = await getAddress('lb-ip');
    expect(back.status).toBe('RESERVED');
    expect(back.users).toBeUndefined();
    await ok(c, PROJECT, c.targetPools.delete({ project: PROJECT, region: REGION, targetPool: 'pool' }));
    await ok(c, PROJECT, c.addresses.delete({ project: PROJECT, region: REGION, address: 'lb-ip' }));
    expect(
      (await httpFailure(c.addresses.get({ project: PROJECT, region: REGION, address: 'lb-ip' }))).status,
    ).toBe(404);
  });
});

describe('addresses used by instances are IN_USE (issue 9 item 1)', () => {
  it('an internal address used as networkIP: IN_USE by the instance, undeletable, RESERVED again after the VM', async () => {
    await insertAddress({ name: 'm1-internal-ip', addressType: 'INTERNAL' });
    const reserved = await getAddress('m1-internal-ip');
    expect(reserved.status).toBe('RESERVED');
    expect(reserved.users).toBeUndefined();
    expect(reserved.subnetwork).toBe(`${API}${regionPath}/subnetworks/default`);
    expect(reserved.purpose).toBe('GCE_ENDPOINT');

    await insertInstance('m1', { networkIP: reserved.address ?? '' });
    const inst = (await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'm1' })).data;
    expect(inst.networkInterfaces?.[0]?.networkIP).toBe(reserved.address);
    const used = await getAddress('m1-internal-ip');
    expect(used.status).toBe('IN_USE');
    expect(used.users).toEqual([`${API}${zonePath(ZONE)}/instances/m1`]);

    const refused = await httpFailure(
      c.addresses.delete({ project: PROJECT, region: REGION, address: 'm1-internal-ip' }),
    );
    expect(refused.status).toBe(400);
    expect(refused.reason).toBe('resourceInUseByAnotherResource');
    expect(refused.message).toBe(
      `The address resource '${regionPath}/addresses/m1-internal-ip' is already being used by '${zonePath(ZONE)}/instances/m1'`,
    );
    // Nor can another instance take the same IP.
    const twice = await httpFailure(
      c.instances.insert({
        project: PROJECT,
        zone: 'us-central1-c',
        requestBody: instanceBody('m2', { zone: 'us-central1-c', networkIP: reserved.address ?? '' }),
      }),
    );
    expect(twice.status).toBe(400);

    await deleteInstance('m1');
    const back = await getAddress('m1-internal-ip');
    expect(back.status).toBe('RESERVED');
    expect(back.users).toBeUndefined();
    await ok(c, PROJECT, c.addresses.delete({ project: PROJECT, region: REGION, address: 'm1-internal-ip' }));
  });

  it('an internal address given by its URL as networkIP is used the same way', async () => {
    await insertAddress({ name: 'm3-internal-ip', addressType: 'INTERNAL' });
    const a = await getAddress('m3-internal-ip');
    await insertInstance('m3', { networkIP: `${regionPath}/addresses/m3-internal-ip` });
    const inst = (await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'm3' })).data;
    expect(inst.networkInterfaces?.[0]?.networkIP).toBe(a.address);
    expect((await getAddress('m3-internal-ip')).users).toEqual([`${API}${zonePath(ZONE)}/instances/m3`]);
    await deleteInstance('m3');
    expect((await getAddress('m3-internal-ip')).status).toBe('RESERVED');
  });

  it('a static external address used as natIP: IN_USE by the instance until it is deleted', async () => {
    await insertAddress({ name: 'm4-ip' });
    const a = await getAddress('m4-ip');
    await insertInstance('m4', { natIP: a.address ?? '' });
    const used = await getAddress('m4-ip');
    expect(used.status).toBe('IN_USE');
    expect(used.users).toEqual([`${API}${zonePath(ZONE)}/instances/m4`]);
    const refused = await httpFailure(
      c.addresses.delete({ project: PROJECT, region: REGION, address: 'm4-ip' }),
    );
    expect(refused.status).toBe(400);
    expect(refused.reason).toBe('resourceInUseByAnotherResource');
    await deleteInstance('m4');
    const back = await getAddress('m4-ip');
    expect(back.status).toBe('RESERVED');
    expect(back.users).toBeUndefined();
  });
});

describe('request bodies are checked against compute.proto (issue 9 item 2)', () => {
  it('an unknown top-level field: 400 INVALID_ARGUMENT naming it at instance_resource', async () => {
    const f = await httpFailure(
      c.instances.insert({
        project: PROJECT,
        zone: ZONE,
        requestBody: instanceBody('unknown-field', { extra: { foo: 'bar' } }),
      }),
    );
    expect(f.status).toBe(400);
    expect(f.reason).toBe('badRequest');
    expect(f.body.error?.status).toBe('INVALID_ARGUMENT');
    expect(f.message).toBe(
      `Invalid JSON payload received. Unknown name "foo" at 'instance_resource': Cannot find field.`,
    );
    expect(
      (await httpFailure(c.instances.get({ project: PROJECT, zone: ZONE, instance: 'unknown-field' })))
        .status,
    ).toBe(404);
  });

  it('a misspelt nested field: named by its proto path, with the array index', async () => {
    const body = instanceBody('misspelt');
    const disk = body.disks?.[0] as Record<string, unknown>;
    disk.initializeParams = {
      sourceImage: 'projects/cos-cloud/global/images/family/cos-121-lts',
      diskSizeGB: '20',
    };
    const f = await httpFailure(c.instances.insert({ project: PROJECT, zone: ZONE, requestBody: body }));
    expect(f.status).toBe(400);
    expect(f.message).toBe(
      `Invalid JSON payload received. Unknown name "diskSizeGB" at 'instance_resource.disks[0].initialize_params': Cannot find field.`,
    );

    const nic = instanceBody('misspelt-nic');
    (nic.networkInterfaces?.[0]?.accessConfigs?.[0] as Record<string, unknown>).natIp = '10.0.0.1';
    const g = await httpFailure(c.instances.insert({ project: PROJECT, zone: ZONE, requestBody: nic }));
    expect(g.message).toBe(
      `Invalid JSON payload received. Unknown name "natIp" at 'instance_resource.network_interfaces[0].access_configs[0]': Cannot find field.`,
    );
  });

  it('a value of the wrong JSON type is refused too', async () => {
    const f = await httpFailure(
      c.instances.insert({
        project: PROJECT,
        zone: ZONE,
        requestBody: instanceBody('wrong-type', { extra: { canIpForward: 'yes' } }),
      }),
    );
    expect(f.status).toBe(400);
    expect(f.body.error?.status).toBe('INVALID_ARGUMENT');
    expect(f.message).toBe(`Invalid value at 'instance_resource.can_ip_forward' (TYPE_BOOL), "yes"`);
  });

  it('other bodies too: addresses, disks, forwarding rules, setLabels, addInstance', async () => {
    const bad: [string, Promise<unknown>][] = [
      [
        'address_resource',
        c.addresses.insert({
          project: PROJECT,
          region: REGION,
          requestBody: { name: 'x', adress: '1.2.3.4' } as never,
        }),
      ],
      [
        'disk_resource',
        c.disks.insert({ project: PROJECT, zone: ZONE, requestBody: { name: 'x', size: '10' } as never }),
      ],
      [
        'forwarding_rule_resource',
        c.forwardingRules.insert({
          project: PROJECT,
          region: REGION,
          requestBody: { name: 'x', ipAddress: '1.2.3.4' } as never,
        }),
      ],
      [
        'instances_set_labels_request_resource',
        c.instances.setLabels({
          project: PROJECT,
          zone: ZONE,
          instance: 'x',
          requestBody: { label: {} } as never,
        }),
      ],
      [
        'target_pools_add_instance_request_resource.instances[0]',
        c.targetPools.addInstance({
          project: PROJECT,
          region: REGION,
          targetPool: 'x',
          requestBody: { instances: [{ instanceUrl: 'x' }] } as never,
        }),
      ],
    ];
    for (const [at, p] of bad) {
      const f = await httpFailure(p);
      expect(f.status).toBe(400);
      expect(f.message).toMatch(
        new RegExp(
          `^Invalid JSON payload received\\. Unknown name "[A-Za-z]+" at '${at.replace(/[[\]]/g, '\\$&')}': Cannot find field\\.$`,
        ),
      );
    }
  });

  it('known fields GCE fills in itself (id, selfLink, status) are accepted, as GCE ignores them', async () => {
    await insertAddress({ name: 'with-output-fields', status: 'IN_USE', id: '1', kind: 'compute#address' });
    expect((await getAddress('with-output-fields')).status).toBe('RESERVED');
    await ok(
      c,
      PROJECT,
      c.addresses.delete({ project: PROJECT, region: REGION, address: 'with-output-fields' }),
    );
  });

  it('a field spelt with its proto name (snake_case) is accepted and honoured, as GCE parses both', async () => {
    await insertAddress({ name: 'snake-case', address_type: 'INTERNAL' } as compute_v1.Schema$Address);
    expect((await getAddress('snake-case')).addressType).toBe('INTERNAL');
    await ok(c, PROJECT, c.addresses.delete({ project: PROJECT, region: REGION, address: 'snake-case' }));
  });
});
