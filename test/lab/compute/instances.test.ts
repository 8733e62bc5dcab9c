import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GceApiError, waitForOperation } from '../../../src/gce/operations.js';
import { instanceBody, type Lab, PROJECT, rejection, startLab, startService, zoneUrl } from './harness.js';

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

describe('instances through the real client', () => {
  it('inserts an instance: the operation goes PENDING -> DONE and the instance RUNNING once the boot hook ran', async () => {
    const c = lab.clients;
    const [lro] = await c.instances.insert({
      project: PROJECT,
      zone: ZONE,
      instanceResource: instanceBody(ZONE, 'kubernetes-master'),
    });
    const op = (
      lro as unknown as {
        latestResponse: { status: string; operationType: string; name: string; zone: string };
      }
    ).latestResponse;
    expect(op.status).toBe('PENDING');
    expect(op.operationType).toBe('insert');
    expect(op.name).toMatch(/^operation-[0-9]+-[0-9a-f]{13}-[0-9a-f]{8}-[0-9a-f]{8}$/);
    expect(op.zone).toBe(`https://www.googleapis.com/compute/v1/${zoneUrl(ZONE)}`);

    // Visible at once, still booting, and the VM not started yet.
    const [early] = await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'kubernetes-master' });
    expect(['PROVISIONING', 'STAGING']).toContain(early.status);
    expect(lab.rec.events).toEqual([]);

    const finished = await done([lro]);
    expect(finished.status).toBe('DONE');
    expect(finished.error?.errors ?? []).toEqual([]);
    expect(Date.parse(finished.endTime ?? '')).toBeGreaterThanOrEqual(Date.parse(finished.insertTime ?? ''));

    const [inst] = await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'kubernetes-master' });
    expect(inst.status).toBe('RUNNING');
    const ip = inst.networkInterfaces?.[0]?.networkIP;
    expect(lab.rec.events).toEqual([`running kubernetes-master ${ip}`]);
    expect(lab.rec.allocated.get(ip ?? '')).toBe('internal');
    expect(lab.rec.allocated.get(inst.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP ?? '')).toBe(
      'external',
    );
    expect(inst.selfLink).toBe(
      `https://www.googleapis.com/compute/v1/${zoneUrl(ZONE)}/instances/kubernetes-master`,
    );
    expect(inst.metadata?.items).toEqual([
      expect.objectContaining({ key: 'cluster-name', value: 'kubernetes' }),
    ]);
    expect(inst.metadata?.fingerprint).toMatch(/^[A-Za-z0-9+/]+=*$/);
    // The boot disk was created from initializeParams, named after the instance, and is attached.
    const [disk] = await c.disks.get({ project: PROJECT, zone: ZONE, disk: 'kubernetes-master' });
    expect(disk.status).toBe('READY');
    expect(disk.sizeGb).toBe('20');
    expect(disk.users).toEqual([inst.selfLink]);
  });

  it('finds replicas across zones with aggregatedList and a name filter', async () => {
    const c = lab.clients;
    const ops = await Promise.all([
      c.instances.insert({
        project: PROJECT,
        zone: 'us-central1-c',
        instanceResource: instanceBody('us-central1-c', 'kubernetes-master-x1z'),
      }),
      c.instances.insert({
        project: PROJECT,
        zone: 'us-central1-f',
        instanceResource: instanceBody('us-central1-f', 'other-node'),
      }),
    ]);
    await Promise.all(ops.map(done));
    const seen: Record<string, string[]> = {};
    const warnings: string[] = [];
    for await (const [scope, list] of c.instances.aggregatedListAsync(
      { project: PROJECT, filter: 'name eq "kubernetes-master(-[a-z0-9]+)?"', returnPartialSuccess: true },
      { autoPaginate: false },
    )) {
      if (list.instances?.length) seen[scope] = list.instances.map((i) => i.name ?? '');
      else if (list.warning?.code) warnings.push(`${scope} ${list.warning.code}`);
    }
    expect(seen).toEqual({
      [`zones/${ZONE}`]: ['kubernetes-master'],
      'zones/us-central1-c': ['kubernetes-master-x1z'],
    });
    expect(warnings).toContain('zones/us-central1-f NO_RESULTS_ON_PAGE');
    expect(warnings).toContain('zones/asia-east1-a NO_RESULTS_ON_PAGE');

    // The AIP-160 form, and a zonal list.
    const names: string[] = [];
    for await (const [, list] of c.instances.aggregatedListAsync(
      { project: PROJECT, filter: 'name = "other-node"' },
      { autoPaginate: false },
    )) {
      for (const i of list.instances ?? []) names.push(i.name ?? '');
    }
    expect(names).toEqual(['other-node']);
    const [inZone] = await c.instances.list({ project: PROJECT, zone: 'us-central1-c' });
    expect(inZone.map((i) => i.name)).toEqual(['kubernetes-master-x1z']);
  });

  it('pages lists with maxResults and pageToken', async () => {
    const [page, next] = await lab.clients.zones.list(
      { project: PROJECT, maxResults: 5 },
      { autoPaginate: false },
    );
    expect(page).toHaveLength(5);
    expect(next?.pageToken).toBeTruthy();
    const [all] = await lab.clients.zones.list({ project: PROJECT, maxResults: 5 });
    expect(all.map((z) => z.name)).toContain('europe-west1-d');
    expect(all.length).toBeGreaterThanOrEqual(13);
    const [region] = await lab.clients.regions.get({ project: PROJECT, region: 'us-central1' });
    expect(region.zones?.map((z) => z.slice(z.lastIndexOf('/') + 1))).toEqual([
      'us-central1-a',
      'us-central1-b',
      'us-central1-c',
      'us-central1-f',
    ]);
  });

  it('answers 404, 409, invalid names, unknown zones and cross-zone machine types as GCE does', async () => {
    const c = lab.clients;
    const missing = await rejection(c.instances.get({ project: PROJECT, zone: ZONE, instance: 'nope' }));
    expect(missing).toBeInstanceOf(GceApiError);
    expect([missing.code, missing.reason]).toEqual([404, 'notFound']);
    expect(missing.message).toBe(
      `The resource 'projects/${PROJECT}/zones/${ZONE}/instances/nope' was not found`,
    );

    const dup = await rejection(
      c.instances.insert({
        project: PROJECT,
        zone: ZONE,
        instanceResource: instanceBody(ZONE, 'kubernetes-master'),
      }),
    );
    expect([dup.code, dup.reason]).toEqual([409, 'alreadyExists']);
    expect(dup.message).toBe(
      `The resource 'projects/${PROJECT}/zones/${ZONE}/instances/kubernetes-master' already exists`,
    );

    const badName = await rejection(
      c.instances.insert({ project: PROJECT, zone: ZONE, instanceResource: instanceBody(ZONE, 'Bad_Name') }),
    );
    expect([badName.code, badName.reason]).toEqual([400, 'invalid']);
    expect(badName.message).toContain("Invalid value for field 'resource.name': 'Bad_Name'");

    const crossZone = await rejection(
      c.instances.insert({
        project: PROJECT,
        zone: 'us-central1-a',
        instanceResource: instanceBody(ZONE, 'wrong-zone'),
      }),
    );
    expect([crossZone.code, crossZone.reason]).toEqual([400, 'invalid']);
    expect(crossZone.message).toContain("'resource.machineType'");

    const noZone = await rejection(c.instances.list({ project: PROJECT, zone: 'us-central1-z' }));
    expect([noZone.code, noZone.reason]).toEqual([400, 'invalid']);
    expect(noZone.message).toContain('Unknown zone');

    const otherProject = await rejection(
      c.instances.get({ project: 'someone-else', zone: ZONE, instance: 'kubernetes-master' }),
    );
    expect([otherProject.code, otherProject.message]).toEqual([
      404,
      "The resource 'projects/someone-else' was not found",
    ]);

    // A disk of another zone, and a disk someone else writes to.
    const foreignDisk = await rejection(
      c.instances.insert({
        project: PROJECT,
        zone: 'us-central1-a',
        instanceResource: instanceBody('us-central1-a', 'foreign-disk', {
          disks: [{ boot: true, source: `${zoneUrl(ZONE)}/disks/kubernetes-master` }],
        }),
      }),
    );
    expect([foreignDisk.code, foreignDisk.reason]).toEqual([400, 'invalid']);
    const taken = await rejection(
      c.instances.insert({
        project: PROJECT,
        zone: ZONE,
        instanceResource: instanceBody(ZONE, 'thief', {
          disks: [{ boot: true, source: `${zoneUrl(ZONE)}/disks/kubernetes-master` }],
        }),
      }),
    );
    expect([taken.code, taken.reason]).toEqual([400, 'resourceInUseByAnotherResource']);
    expect(taken.message).toContain(
      `is already being used by 'projects/${PROJECT}/zones/${ZONE}/instances/kubernetes-master'`,
    );
    // Nothing of the refused inserts was left behind.
    const [left] = await c.instances.list({ project: PROJECT, zone: ZONE });
    expect(left.map((i) => i.name)).toEqual(['kubernetes-master']);
  });

  it('setMetadata needs the current fingerprint (412 conditionNotMet otherwise)', async () => {
    const c = lab.clients;
    const [before] = await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'kubernetes-master' });
    const stale = await rejection(
      c.instances.setMetadata({
        project: PROJECT,
        zone: ZONE,
        instance: 'kubernetes-master',
        metadataResource: { fingerprint: 'AAAAAAAAAAA=', items: [{ key: 'kube-env', value: 'x' }] },
      }),
    );
    expect([stale.code, stale.reason]).toEqual([412, 'conditionNotMet']);
    const missing = await rejection(
      c.instances.setMetadata({
        project: PROJECT,
        zone: ZONE,
        instance: 'kubernetes-master',
        metadataResource: { items: [] },
      }),
    );
    expect(missing.code).toBe(412);

    const r = await c.instances.setMetadata({
      project: PROJECT,
      zone: ZONE,
      instance: 'kubernetes-master',
      metadataResource: {
        fingerprint: before.metadata?.fingerprint ?? '',
        items: [{ key: 'kube-env', value: 'INITIAL_ETCD_CLUSTER_STATE: existing' }],
      },
    });
    // Another change while this one runs is refused, as GCE serialises operations per resource.
    const busy = await rejection(
      c.instances.setMetadata({
        project: PROJECT,
        zone: ZONE,
        instance: 'kubernetes-master',
        metadataResource: { fingerprint: before.metadata?.fingerprint ?? '', items: [] },
      }),
    );
    expect([busy.code, busy.reason]).toEqual([400, 'resourceNotReady']);
    const op = await done(r);
    expect(op.operationType).toBe('setMetadata');
    const [after] = await c.instances.get({ project: PROJECT, zone: ZONE, instance: 'kubernetes-master' });
    expect(after.metadata?.items).toEqual([
      expect.objectContaining({ key: 'kube-env', value: 'INITIAL_ETCD_CLUSTER_STATE: existing' }),
    ]);
    expect(after.metadata?.fingerprint).not.toBe(before.metadata?.fingerprint);
    // The old fingerprint is now stale.
    const again = await rejection(
      c.instances.setMetadata({
        project: PROJECT,
        zone: ZONE,
        instance: 'kubernetes-master',
        metadataResource: { fingerprint: before.metadata?.fingerprint ?? '', items: [] },
      }),
    );
    expect(again.code).toBe(412);
  });

  it('setLabels needs the current label fingerprint', async () => {
    const c = lab.clients;
    const target = { project: PROJECT, zone: ZONE, instance: 'kubernetes-master' };
    const stale = await rejection(
      c.instances.setLabels({
        ...target,
        instancesSetLabelsRequestResource: { labels: { role: 'cp' }, labelFingerprint: 'AAAAAAAAAAA=' },
      }),
    );
    expect([stale.code, stale.reason]).toEqual([412, 'conditionNotMet']);
    const [before] = await c.instances.get(target);
    await done(
      await c.instances.setLabels({
        ...target,
        instancesSetLabelsRequestResource: {
          labels: { role: 'cp' },
          labelFingerprint: before.labelFingerprint ?? '',
        },
      }),
    );
    const [after] = await c.instances.get(target);
    expect(after.labels).toEqual({ role: 'cp' });
    expect(after.labelFingerprint).not.toBe(before.labelFingerprint);
  });

  it('deletes: STOPPING, the stop hook, then gone with IPs released, autoDelete disks deleted, others detached', async () => {
    const c = lab.clients;
    await done(
      await c.disks.insert({
        project: PROJECT,
        zone: 'us-central1-a',
        diskResource: { name: 'data-pd', sizeGb: '10' },
      }),
    );
    await done(
      await c.instances.insert({
        project: PROJECT,
        zone: 'us-central1-a',
        instanceResource: instanceBody('us-central1-a', 'doomed', {
          disks: [
            {
              boot: true,
              autoDelete: true,
              initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-12' },
            },
            {
              autoDelete: false,
              deviceName: 'master-pd',
              source: `${zoneUrl('us-central1-a')}/disks/data-pd`,
            },
          ],
        }),
      }),
    );
    const [inst] = await c.instances.get({ project: PROJECT, zone: 'us-central1-a', instance: 'doomed' });
    const ips = [
      inst.networkInterfaces?.[0]?.networkIP,
      inst.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP,
    ];
    const inUse = await rejection(
      c.disks.delete({ project: PROJECT, zone: 'us-central1-a', disk: 'data-pd' }),
    );
    expect([inUse.code, inUse.reason]).toEqual([400, 'resourceInUseByAnotherResource']);

    const del = await c.instances.delete({ project: PROJECT, zone: 'us-central1-a', instance: 'doomed' });
    await done(del);
    expect(lab.rec.events).toContain('stopping doomed STOPPING');
    const gone = await rejection(
      c.instances.get({ project: PROJECT, zone: 'us-central1-a', instance: 'doomed' }),
    );
    expect(gone.code).toBe(404);
    expect(lab.rec.released).toEqual(expect.arrayContaining(ips));
    const bootGone = await rejection(
      c.disks.get({ project: PROJECT, zone: 'us-central1-a', disk: 'doomed' }),
    );
    expect(bootGone.code).toBe(404);
    const [data] = await c.disks.get({ project: PROJECT, zone: 'us-central1-a', disk: 'data-pd' });
    expect(data.users ?? []).toEqual([]);
    await done(await c.disks.delete({ project: PROJECT, zone: 'us-central1-a', disk: 'data-pd' }));
    expect(
      (await rejection(c.disks.get({ project: PROJECT, zone: 'us-central1-a', disk: 'data-pd' }))).code,
    ).toBe(404);
  });

  it('returns the same operation for a retried requestId', async () => {
    const requestId = '8c3f6a52-3b1e-4d8a-9f0e-2a7c1b5d9e41';
    const [a] = await lab.clients.disks.insert({
      project: PROJECT,
      zone: ZONE,
      requestId,
      diskResource: { name: 'once-pd' },
    });
    const [b] = await lab.clients.disks.insert({
      project: PROJECT,
      zone: ZONE,
      requestId,
      diskResource: { name: 'once-pd' },
    });
    const name = (x: unknown) => (x as { latestResponse: { name: string } }).latestResponse.name;
    expect(name(b)).toBe(name(a));
    const dup = await rejection(
      lab.clients.disks.insert({ project: PROJECT, zone: ZONE, diskResource: { name: 'once-pd' } }),
    );
    expect(dup.code).toBe(409);
  });

  it("answers paths outside the API with Google's 404, or hands them to fallthrough", async () => {
    const outside = await fetch(`${lab.endpoint}/lab/v1/vms`);
    expect(outside.status).toBe(404);
    expect(
      ((await outside.json()) as { error: { errors: { reason: string }[] } }).error.errors[0]?.reason,
    ).toBe('notFound');
    const noSuchMethod = await fetch(
      `${lab.endpoint}/compute/v1/projects/${PROJECT}/zones/${ZONE}/instances/kubernetes-master/frobnicate`,
      {
        method: 'POST',
      },
    );
    expect(noSuchMethod.status).toBe(404);
    const badJson = await fetch(`${lab.endpoint}/compute/v1/projects/${PROJECT}/zones/${ZONE}/disks`, {
      method: 'POST',
      body: '{oops',
    });
    expect([
      badJson.status,
      ((await badJson.json()) as { error: { errors: { reason: string }[] } }).error.errors[0]?.reason,
    ]).toEqual([400, 'parseError']);

    const seen: string[] = [];
    const other = await startService({
      fallthrough: (req, res) => {
        seen.push(req.url ?? '');
        res.writeHead(204).end();
      },
    });
    try {
      expect((await fetch(`${other.endpoint}/lab/v1/vms`)).status).toBe(204);
      expect((await fetch(`${other.endpoint}/compute/v1/projects/${PROJECT}/zones`)).status).toBe(200);
      expect(seen).toEqual(['/lab/v1/vms']);
    } finally {
      await other.close();
    }
  });
});
