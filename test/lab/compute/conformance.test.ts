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

describe('disk types and source images (issue 9 item 3)', () => {
  const COS = 'projects/cos-cloud/global/images';

  it('a bare diskType in initializeParams is a 400; a zonal path or a full URL is accepted', async () => {
    const bare = instanceBody('bare-disk-type');
    const init = bare.disks?.[0]?.initializeParams as compute_v1.Schema$AttachedDiskInitializeParams;
    init.diskType = 'pd-ssd';
    const f = await httpFailure(c.instances.insert({ project: PROJECT, zone: ZONE, requestBody: bare }));
    expect(f.status).toBe(400);
    expect(f.reason).toBe('invalid');
    expect(f.message).toBe(
      "Invalid value for field 'resource.disks[0].initializeParams.diskType': 'pd-ssd'. The URL is malformed.",
    );

    for (const [name, diskType] of [
      ['zonal-disk-type', `${zonePath(ZONE)}/diskTypes/pd-ssd`],
      ['full-disk-type', `${API}${zonePath(ZONE)}/diskTypes/pd-balanced`],
    ] as const) {
      const body = instanceBody(name);
      (body.disks?.[0]?.initializeParams as compute_v1.Schema$AttachedDiskInitializeParams).diskType =
        diskType;
      await ok(c, PROJECT, c.instances.insert({ project: PROJECT, zone: ZONE, requestBody: body }));
      const d = (await c.disks.get({ project: PROJECT, zone: ZONE, disk: name })).data;
      expect(d.type).toBe(`${API}${zonePath(ZONE)}/diskTypes/${diskType.split('/').pop()}`);
      await deleteInstance(name);
    }
  });

  it('disks.insert refuses a bare type as well', async () => {
    const f = await httpFailure(
      c.disks.insert({ project: PROJECT, zone: ZONE, requestBody: { name: 'bare-type', type: 'pd-ssd' } }),
    );
    expect(f.status).toBe(400);
    expect(f.message).toBe("Invalid value for field 'resource.type': 'pd-ssd'. The URL is malformed.");
  });

  it('images.get and images.getFromFamily answer for the public images; the family gives its newest image', async () => {
    const newer = (await c.images.getFromFamily({ project: 'cos-cloud', family: 'cos-121-lts' })).data;
    expect(newer.kind).toBe('compute#image');
    expect(newer.name).toBe('cos-121-18867-199-28');
    expect(newer.family).toBe('cos-121-lts');
    expect(newer.status).toBe('READY');
    expect(newer.selfLink).toBe(`${API}${COS}/cos-121-18867-199-28`);
    expect(newer.id).toMatch(/^[0-9]+$/);
    const older = (await c.images.get({ project: 'cos-cloud', image: 'cos-121-18867-90-4' })).data;
    expect(older.family).toBe('cos-121-lts');
    expect(Date.parse(older.creationTimestamp ?? '')).toBeLessThan(Date.parse(newer.creationTimestamp ?? ''));
    expect((await c.images.getFromFamily({ project: 'cos-cloud', family: 'cos-stable' })).data.family).toBe(
      'cos-stable',
    );
    expect(
      (await c.images.getFromFamily({ project: 'debian-cloud', family: 'debian-12' })).data.name,
    ).toMatch(/^debian-12-bookworm-v[0-9]{8}$/);

    const missing = await httpFailure(c.images.get({ project: 'cos-cloud', image: 'xyz' }));
    expect(missing.status).toBe(404);
    expect(missing.reason).toBe('notFound');
    expect(missing.message).toBe(`The resource '${COS}/xyz' was not found`);
    const noFamily = await httpFailure(c.images.getFromFamily({ project: 'cos-cloud', family: 'cos-1' }));
    expect(noFamily.status).toBe(404);
    expect(noFamily.message).toBe(`The resource '${COS}/family/cos-1' was not found`);
  });

  it('instances.insert with an image that does not exist: HTTP 404 at request time, nothing created', async () => {
    const body = instanceBody('no-image');
    (body.disks?.[0]?.initializeParams as compute_v1.Schema$AttachedDiskInitializeParams).sourceImage =
      `${COS}/xyz`;
    const f = await httpFailure(c.instances.insert({ project: PROJECT, zone: ZONE, requestBody: body }));
    expect(f.status).toBe(404);
    expect(f.reason).toBe('notFound');
    expect(f.message).toBe(`The resource '${COS}/xyz' was not found`);
    expect(
      (await httpFailure(c.instances.get({ project: PROJECT, zone: ZONE, instance: 'no-image' }))).status,
    ).toBe(404);
    expect((await httpFailure(c.disks.get({ project: PROJECT, zone: ZONE, disk: 'no-image' }))).status).toBe(
      404,
    );
  });

  it('the boot disk records the concrete image (the family resolved) and its id, whatever form sourceImage had', async () => {
    const newest = (await c.images.getFromFamily({ project: 'cos-cloud', family: 'cos-121-lts' })).data;
    const forms = [
      ['img-family', `${COS}/family/cos-121-lts`, newest],
      ['img-family-url', `${API}${COS}/family/cos-121-lts`, newest],
      ['img-name', `${COS}/cos-121-18867-90-4`, null],
      ['img-name-url', `https://compute.googleapis.com/compute/v1/${COS}/cos-121-18867-90-4`, null],
    ] as const;
    const older = (await c.images.get({ project: 'cos-cloud', image: 'cos-121-18867-90-4' })).data;
    for (const [name, sourceImage, expected] of forms) {
      const body = instanceBody(name);
      (body.disks?.[0]?.initializeParams as compute_v1.Schema$AttachedDiskInitializeParams).sourceImage =
        sourceImage;
      await ok(c, PROJECT, c.instances.insert({ project: PROJECT, zone: ZONE, requestBody: body }));
      const image = expected ?? older;
      const d = (await c.disks.get({ project: PROJECT, zone: ZONE, disk: name })).data;
      expect(d.sourceImage).toBe(image.selfLink);
      expect(d.sourceImageId).toBe(image.id);
      const inst = (await c.instances.get({ project: PROJECT, zone: ZONE, instance: name })).data;
      expect(inst.disks?.[0]?.boot).toBe(true);
      expect(inst.disks?.[0]?.licenses).toEqual(image.licenses);
    }
    await Promise.all(forms.map(([name]) => deleteInstance(name)));
  });

  it('disks.insert with a sourceImage resolves it too, and a size below the image is a 400', async () => {
    await ok(
      c,
      PROJECT,
      c.disks.insert({
        project: PROJECT,
        zone: ZONE,
        requestBody: {
          name: 'from-image',
          sourceImage: 'projects/debian-cloud/global/images/family/debian-12',
        },
      }),
    );
    const d = (await c.disks.get({ project: PROJECT, zone: ZONE, disk: 'from-image' })).data;
    expect(d.sourceImage).toBe(`${API}projects/debian-cloud/global/images/debian-12-bookworm-v20250910`);
    expect(d.sizeGb).toBe('10');
    await ok(c, PROJECT, c.disks.delete({ project: PROJECT, zone: ZONE, disk: 'from-image' }));
    const small = await httpFailure(
      c.disks.insert({
        project: PROJECT,
        zone: ZONE,
        requestBody: { name: 'too-small', sizeGb: '5', sourceImage: `${COS}/family/cos-stable` },
      }),
    );
    expect(small.status).toBe(400);
    expect(small.message).toContain('cannot be smaller than the image size (10 GB)');
  });
});

describe('the lab can delete a public image (issue 9 item 3)', () => {
  it('POST /lab/v1/images/delete: images.get is 404, the family falls back, the change survives a restart', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'kube-ha-conformance-'));
    const stateFile = join(dir, 'compute-state.json');
    try {
      let lab = await startSecondClient({ stateFile });
      try {
        const body = instanceBody('on-newest');
        (body.disks?.[0]?.initializeParams as compute_v1.Schema$AttachedDiskInitializeParams).sourceImage =
          'projects/cos-cloud/global/images/family/cos-121-lts';
        await ok(lab.c, PROJECT, lab.c.instances.insert({ project: PROJECT, zone: ZONE, requestBody: body }));
        const del = await fetch(`${lab.endpoint}/lab/v1/images/delete`, {
          method: 'POST',
          body: JSON.stringify({ project: 'cos-cloud', image: 'cos-121-18867-199-28' }),
        });
        expect(del.status).toBe(200);
        const again = await fetch(`${lab.endpoint}/lab/v1/images/delete`, {
          method: 'POST',
          body: JSON.stringify({ project: 'cos-cloud', image: 'cos-121-18867-199-28' }),
        });
        expect(again.status).toBe(404);

        const gone = await httpFailure(
          lab.c.images.get({ project: 'cos-cloud', image: 'cos-121-18867-199-28' }),
        );
        expect(gone.status).toBe(404);
        expect(gone.message).toBe(
          "The resource 'projects/cos-cloud/global/images/cos-121-18867-199-28' was not found",
        );
        expect(
          (await lab.c.images.getFromFamily({ project: 'cos-cloud', family: 'cos-121-lts' })).data.name,
        ).toBe('cos-121-18867-90-4');
        // The disk made from it still names it, as in GCE.
        const d = (await lab.c.disks.get({ project: PROJECT, zone: ZONE, disk: 'on-newest' })).data;
        expect(d.sourceImage).toBe(`${API}projects/cos-cloud/global/images/cos-121-18867-199-28`);
        // A clone of that disk's image now fails with GCE's 404.
        const clone = instanceBody('clone');
        (clone.disks?.[0]?.initializeParams as compute_v1.Schema$AttachedDiskInitializeParams).sourceImage =
          d.sourceImage ?? '';
        const f = await httpFailure(
          lab.c.instances.insert({ project: PROJECT, zone: ZONE, requestBody: clone }),
        );
        expect(f.status).toBe(404);
      } finally {
        await lab.close();
      }
      lab = await startSecondClient({ stateFile });
      try {
        expect(
          (await httpFailure(lab.c.images.get({ project: 'cos-cloud', image: 'cos-121-18867-199-28' })))
            .status,
        ).toBe(404);
        expect((await lab.c.images.get({ project: 'cos-cloud', image: 'cos-121-18867-90-4' })).status).toBe(
          200,
        );
      } finally {
        await lab.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('list filters on hyphenated label keys (issue 9 item 4)', () => {
  it('labels.kube-ha-role = control-plane, in both filter dialects, for list and aggregatedList', async () => {
    await insertInstance('labelled-cp', { extra: { labels: { 'kube-ha-role': 'control-plane' } } });
    await insertInstance('labelled-node', { extra: { labels: { 'kube-ha-role': 'node' } } });
    const names = (items: compute_v1.Schema$Instance[] | undefined) =>
      (items ?? []).map((i) => i.name).sort();
    for (const filter of [
      'labels.kube-ha-role = control-plane',
      'labels.kube-ha-role = "control-plane"',
      'labels.kube-ha-role eq control-plane',
      '(labels.kube-ha-role eq "control-.*")',
    ]) {
      const list = (await c.instances.list({ project: PROJECT, zone: ZONE, filter })).data;
      expect(names(list.items), filter).toEqual(['labelled-cp']);
      const agg = (await c.instances.aggregatedList({ project: PROJECT, filter })).data;
      expect(names(agg.items?.[`zones/${ZONE}`]?.instances), filter).toEqual(['labelled-cp']);
    }
    expect(
      names(
        (await c.instances.list({ project: PROJECT, zone: ZONE, filter: 'labels.kube-ha-role:*' })).data
          .items,
      ),
    ).toEqual(['labelled-cp', 'labelled-node']);
    expect(
      names(
        (
          await c.instances.list({
            project: PROJECT,
            zone: ZONE,
            filter: 'labels.kube-ha-role != control-plane',
          })
        ).data.items,
      ),
    ).not.toContain('labelled-cp');
    await Promise.all([deleteInstance('labelled-cp'), deleteInstance('labelled-node')]);
  });
});

describe('page tokens are cursors, not offsets (issue 9 item 5)', () => {
  const Z1 = 'us-east1-b';
  const Z2 = 'us-east1-c';
  const insertDisk = (zone: string, name: string) =>
    ok(c, PROJECT, c.disks.insert({ project: PROJECT, zone, requestBody: { name, sizeGb: '10' } }));
  const deleteDisk = (zone: string, name: string) =>
    ok(c, PROJECT, c.disks.delete({ project: PROJECT, zone, disk: name }));

  it('list: deleting an item already returned, or inserting one before the cursor, skips and repeats nothing', async () => {
    await Promise.all(['pg-b', 'pg-c', 'pg-d', 'pg-e', 'pg-f'].map((n) => insertDisk(Z1, n)));
    const page = async (pageToken?: string) =>
      (await c.disks.list({ project: PROJECT, zone: Z1, maxResults: 2, ...(pageToken ? { pageToken } : {}) }))
        .data;
    const names = (l: compute_v1.Schema$DiskList) => (l.items ?? []).map((d) => d.name);
    const p1 = await page();
    expect(names(p1)).toEqual(['pg-b', 'pg-c']);
    // An item already returned goes: the next page still starts right after pg-c (an offset would skip pg-d).
    await deleteDisk(Z1, 'pg-b');
    const p2 = await page(p1.nextPageToken ?? undefined);
    expect(names(p2)).toEqual(['pg-d', 'pg-e']);
    // One is inserted before the cursor, one after it: nothing is repeated, the later one is listed.
    await insertDisk(Z1, 'pg-a');
    await insertDisk(Z1, 'pg-ee');
    const p3 = await page(p2.nextPageToken ?? undefined);
    expect(names(p3)).toEqual(['pg-ee', 'pg-f']);
    expect(p3.nextPageToken).toBeUndefined();
  });

  it('aggregatedList: the same across zones', async () => {
    await Promise.all([insertDisk(Z2, 'pg-x'), insertDisk(Z2, 'pg-y')]);
    const filter = 'name = "pg-*"';
    const p1 = (await c.disks.aggregatedList({ project: PROJECT, filter, maxResults: 3 })).data;
    const names = (l: compute_v1.Schema$DiskAggregatedList) =>
      Object.entries(l.items ?? {}).flatMap(([scope, v]) => (v.disks ?? []).map((d) => `${scope}/${d.name}`));
    expect(names(p1)).toEqual([`zones/${Z1}/pg-a`, `zones/${Z1}/pg-c`, `zones/${Z1}/pg-d`]);
    await deleteDisk(Z1, 'pg-a');
    await deleteDisk(Z1, 'pg-c');
    const seen = names(p1);
    let token = p1.nextPageToken ?? undefined;
    while (token) {
      const p = (await c.disks.aggregatedList({ project: PROJECT, filter, maxResults: 3, pageToken: token }))
        .data;
      seen.push(...names(p));
      token = p.nextPageToken ?? undefined;
    }
    expect(seen).toEqual([
      `zones/${Z1}/pg-a`,
      `zones/${Z1}/pg-c`,
      `zones/${Z1}/pg-d`,
      `zones/${Z1}/pg-e`,
      `zones/${Z1}/pg-ee`,
      `zones/${Z1}/pg-f`,
      `zones/${Z2}/pg-x`,
      `zones/${Z2}/pg-y`,
    ]);
  });

  it("a token that is not one of the lab's is a 400", async () => {
    const f = await httpFailure(c.disks.list({ project: PROJECT, zone: Z1, pageToken: 'bm90LWEtdG9rZW4' }));
    expect(f.status).toBe(400);
    expect(f.reason).toBe('invalid');
  });
});

describe('NIC fields kube-ha clones: subnetwork and alias IP ranges', () => {
  const withAlias = (
    name: string,
    aliasIpRanges: compute_v1.Schema$AliasIpRange[],
    subnetwork?: string,
    zone = ZONE,
  ) => {
    const body = instanceBody(name, { zone });
    const nic = body.networkInterfaces?.[0] as compute_v1.Schema$NetworkInterface;
    nic.aliasIpRanges = aliasIpRanges;
    if (subnetwork) nic.subnetwork = subnetwork;
    return body;
  };

  it('a /24 from the pods-default secondary range gets a concrete CIDR; the next instance the next one', async () => {
    const sub = `${regionPath}/subnetworks/default`;
    await ok(
      c,
      PROJECT,
      c.instances.insert({
        project: PROJECT,
        zone: ZONE,
        requestBody: withAlias('alias-a', [{ subnetworkRangeName: 'pods-default', ipCidrRange: '/24' }], sub),
      }),
    );
    await ok(
      c,
      PROJECT,
      c.instances.insert({
        project: PROJECT,
        zone: 'us-central1-c',
        requestBody: withAlias(
          'alias-b',
          [{ subnetworkRangeName: 'pods-default', ipCidrRange: '/24' }],
          undefined,
          'us-central1-c',
        ),
      }),
    );
    const a = (await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'alias-a' })).data;
    const b = (await c.instances.get({ project: PROJECT, zone: 'us-central1-c', instance: 'alias-b' })).data;
    expect(a.networkInterfaces?.[0]?.subnetwork).toBe(`${API}${sub}`);
    expect(a.networkInterfaces?.[0]?.aliasIpRanges).toEqual([
      { subnetworkRangeName: 'pods-default', ipCidrRange: '10.64.0.0/24' },
    ]);
    expect(b.networkInterfaces?.[0]?.aliasIpRanges).toEqual([
      { subnetworkRangeName: 'pods-default', ipCidrRange: '10.64.1.0/24' },
    ]);
    // An explicit range already held by another instance is refused.
    const clash = await httpFailure(
      c.instances.insert({
        project: PROJECT,
        zone: ZONE,
        requestBody: withAlias('alias-c', [
          { subnetworkRangeName: 'pods-default', ipCidrRange: '10.64.1.0/24' },
        ]),
      }),
    );
    expect(clash.status).toBe(400);
    expect(clash.reason).toBe('invalid');
    // Once alias-a is gone its range is handed out again.
    await deleteInstance('alias-a');
    await ok(
      c,
      PROJECT,
      c.instances.insert({
        project: PROJECT,
        zone: ZONE,
        requestBody: withAlias('alias-d', [{ subnetworkRangeName: 'pods-default', ipCidrRange: '/24' }]),
      }),
    );
    const d = (await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'alias-d' })).data;
    expect(d.networkInterfaces?.[0]?.aliasIpRanges?.[0]?.ipCidrRange).toBe('10.64.0.0/24');
    await Promise.all([deleteInstance('alias-d'), deleteInstance('alias-b', 'us-central1-c')]);
  });

  it('an unknown secondary range is a 400; a subnetwork of another region is a 400, an unknown one a 404', async () => {
    const f = await httpFailure(
      c.instances.insert({
        project: PROJECT,
        zone: ZONE,
        requestBody: withAlias('alias-x', [{ subnetworkRangeName: 'nope', ipCidrRange: '/24' }]),
      }),
    );
    expect(f.status).toBe(400);
    expect(f.message).toContain(
      "'resource.networkInterfaces[0].aliasIpRanges[0].subnetworkRangeName': 'nope'",
    );
    const otherRegion = await httpFailure(
      c.instances.insert({
        project: PROJECT,
        zone: ZONE,
        requestBody: withAlias('sub-x', [], `projects/${PROJECT}/regions/europe-west1/subnetworks/default`),
      }),
    );
    expect(otherRegion.status).toBe(400);
    expect(otherRegion.reason).toBe('invalid');
    const unknown = await httpFailure(
      c.instances.insert({
        project: PROJECT,
        zone: ZONE,
        requestBody: withAlias('sub-y', [], `${regionPath}/subnetworks/nope`),
      }),
    );
    expect(unknown.status).toBe(404);
    expect(unknown.message).toBe(`The resource '${regionPath}/subnetworks/nope' was not found`);
  });
});

describe('fingerprints and optimistic locking', () => {
  const get = async () => (await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'fp-vm' })).data;

  it('setMetadata, setLabels and setTags need the current fingerprint (412 conditionNotMet); each changes the instance fingerprint', async () => {
    await insertInstance('fp-vm', { extra: { tags: { items: ['kubernetes-master'] } } });
    const v0 = await get();
    expect(v0.fingerprint).toBeTruthy();

    const staleMd = await httpFailure(
      c.instances.setMetadata({
        project: PROJECT,
        zone: ZONE,
        instance: 'fp-vm',
        requestBody: { fingerprint: 'c3RhbGUhIQ==', items: [{ key: 'a', value: 'b' }] },
      }),
    );
    expect(staleMd.status).toBe(412);
    expect(staleMd.reason).toBe('conditionNotMet');
    await ok(
      c,
      PROJECT,
      c.instances.setMetadata({
        project: PROJECT,
        zone: ZONE,
        instance: 'fp-vm',
        requestBody: { fingerprint: v0.metadata?.fingerprint, items: [{ key: 'a', value: 'b' }] },
      }),
    );
    const v1 = await get();
    expect(v1.metadata?.items).toEqual([{ key: 'a', value: 'b' }]);
    expect(v1.metadata?.fingerprint).not.toBe(v0.metadata?.fingerprint);
    expect(v1.fingerprint).not.toBe(v0.fingerprint);

    const staleLabels = await httpFailure(
      c.instances.setLabels({
        project: PROJECT,
        zone: ZONE,
        instance: 'fp-vm',
        requestBody: { labelFingerprint: 'c3RhbGUhIQ==', labels: { role: 'cp' } },
      }),
    );
    expect(staleLabels.status).toBe(412);
    expect(staleLabels.reason).toBe('conditionNotMet');
    await ok(
      c,
      PROJECT,
      c.instances.setLabels({
        project: PROJECT,
        zone: ZONE,
        instance: 'fp-vm',
        requestBody: { labelFingerprint: v1.labelFingerprint, labels: { role: 'cp' } },
      }),
    );
    const v2 = await get();
    expect(v2.labels).toEqual({ role: 'cp' });
    expect(v2.fingerprint).not.toBe(v1.fingerprint);

    const staleTags = await httpFailure(
      c.instances.setTags({
        project: PROJECT,
        zone: ZONE,
        instance: 'fp-vm',
        requestBody: { fingerprint: 'c3RhbGUhIQ==', items: ['a'] },
      }),
    );
    expect(staleTags.status).toBe(412);
    expect(staleTags.reason).toBe('conditionNotMet');
    const noTagsFingerprint = await httpFailure(
      c.instances.setTags({ project: PROJECT, zone: ZONE, instance: 'fp-vm', requestBody: { items: ['a'] } }),
    );
    expect(noTagsFingerprint.status).toBe(412);
    await ok(
      c,
      PROJECT,
      c.instances.setTags({
        project: PROJECT,
        zone: ZONE,
        instance: 'fp-vm',
        requestBody: { fingerprint: v2.tags?.fingerprint, items: ['kubernetes-master', 'extra'] },
      }),
    );
    const v3 = await get();
    expect(v3.tags?.items).toEqual(['kubernetes-master', 'extra']);
    expect(v3.tags?.fingerprint).not.toBe(v2.tags?.fingerprint);
    expect(v3.fingerprint).not.toBe(v2.fingerprint);
    // The old tags fingerprint is stale now.
    const reused = await httpFailure(
      c.instances.setTags({
        project: PROJECT,
        zone: ZONE,
        instance: 'fp-vm',
        requestBody: { fingerprint: v2.tags?.fingerprint, items: [] },
      }),
    );
    expect(reused.status).toBe(412);
    await deleteInstance('fp-vm');
  });
});

describe('smaller GCE behaviours', () => {
  it("serviceAccounts[].email 'default' becomes the project's Compute Engine default service account", async () => {
    await insertInstance('sa-vm', {
      extra: {
        serviceAccounts: [{ email: 'default', scopes: ['https://www.googleapis.com/auth/compute'] }],
      },
    });
    const inst = (await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'sa-vm' })).data;
    expect(inst.serviceAccounts?.[0]?.email).toMatch(/^[0-9]{12}-compute@developer\.gserviceaccount\.com$/);
    expect(inst.serviceAccounts?.[0]?.scopes).toEqual(['https://www.googleapis.com/auth/compute']);
    await deleteInstance('sa-vm');
  });

  it('regions.get lists quotas with their usage', async () => {
    const before = (await c.regions.get({ project: PROJECT, region: REGION })).data;
    const metric = (r: compute_v1.Schema$Region, m: string) => r.quotas?.find((q) => q.metric === m);
    expect(metric(before, 'CPUS')?.limit).toBeGreaterThan(0);
    await insertInstance('quota-vm');
    const after = (await c.regions.get({ project: PROJECT, region: REGION })).data;
    expect(metric(after, 'CPUS')?.usage).toBe((metric(before, 'CPUS')?.usage ?? 0) + 2);
    expect(metric(after, 'INSTANCES')?.usage).toBe((metric(before, 'INSTANCES')?.usage ?? 0) + 1);
    expect(metric(after, 'IN_USE_ADDRESSES')?.usage).toBe(
      (metric(before, 'IN_USE_ADDRESSES')?.usage ?? 0) + 1,
    );
    await deleteInstance('quota-vm');
  });

  it('fields= gives a partial response; a malformed selection is a 400', async () => {
    await insertInstance('fields-vm');
    const one = (
      await c.instances.get({
        project: PROJECT,
        zone: ZONE,
        instance: 'fields-vm',
        fields: 'name,networkInterfaces/networkIP',
      })
    ).data;
    expect(Object.keys(one).sort()).toEqual(['name', 'networkInterfaces']);
    expect(one.networkInterfaces?.map((n) => Object.keys(n))).toEqual([['networkIP']]);
    const list = (
      await c.instances.list({ project: PROJECT, zone: ZONE, fields: 'items(name,status),nextPageToken' })
    ).data;
    expect(Object.keys(list)).toEqual(['items']);
    expect(list.items?.find((i) => i.name === 'fields-vm')).toEqual({ name: 'fields-vm', status: 'RUNNING' });
    const bad = await httpFailure(
      c.instances.get({ project: PROJECT, zone: ZONE, instance: 'fields-vm', fields: 'items(name' }),
    );
    expect(bad.status).toBe(400);
    expect(bad.reason).toBe('invalidParameter');
    await deleteInstance('fields-vm');
  });
});

describe('instances.stop, start and reset (issue 16)', () => {
  it('stop: TERMINATED, ephemeral natIP gone; reset of it 400 resourceNotReady; start: RUNNING with a new natIP; reset keeps RUNNING', async () => {
    await insertInstance('power-1');
    const get = async () =>
      (await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'power-1' })).data;
    const before = await get();
    const stop = await ok(
      c,
      PROJECT,
      c.instances.stop({ project: PROJECT, zone: ZONE, instance: 'power-1' }),
    );
    expect(stop.operationType).toBe('stop');
    const stopped = await get();
    expect(stopped.status).toBe('TERMINATED');
    expect(stopped.networkInterfaces?.[0]?.networkIP).toBe(before.networkInterfaces?.[0]?.networkIP);
    expect(stopped.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP).toBeUndefined();
    // Stopping it again succeeds and changes nothing.
    await ok(c, PROJECT, c.instances.stop({ project: PROJECT, zone: ZONE, instance: 'power-1' }));

    const refused = await httpFailure(
      c.instances.reset({ project: PROJECT, zone: ZONE, instance: 'power-1' }),
    );
    expect(refused.status).toBe(400);
    expect(refused.reason).toBe('resourceNotReady');

    const start = await ok(
      c,
      PROJECT,
      c.instances.start({ project: PROJECT, zone: ZONE, instance: 'power-1' }),
    );
    expect(start.operationType).toBe('start');
    const started = await get();
    expect(started.status).toBe('RUNNING');
    expect(started.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP).toMatch(/^[0-9.]+$/);

    const reset = await ok(
      c,
      PROJECT,
      c.instances.reset({ project: PROJECT, zone: ZONE, instance: 'power-1' }),
    );
    expect(reset.operationType).toBe('reset');
    expect((await get()).status).toBe('RUNNING');
    // Starting a RUNNING instance succeeds and changes nothing.
    await ok(c, PROJECT, c.instances.start({ project: PROJECT, zone: ZONE, instance: 'power-1' }));
    expect((await get()).networkInterfaces).toEqual(started.networkInterfaces);

    const missing = await httpFailure(
      c.instances.stop({ project: PROJECT, zone: ZONE, instance: 'no-such' }),
    );
    expect(missing.status).toBe(404);
    const badId = await httpFailure(
      c.instances.start({ project: PROJECT, zone: ZONE, instance: 'power-1', requestId: 'not-a-uuid' }),
    );
    expect(badId.status).toBe(400);
    await deleteInstance('power-1');
  });
});

describe('the second client stayed on loopback', () => {
  it('after every test above: no refused request', () => {
    expect(s.urls.length).toBeGreaterThan(100);
    expect(s.refused).toEqual([]);
  });
});
