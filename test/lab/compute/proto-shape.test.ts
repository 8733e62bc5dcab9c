// Every field the server returns must exist in compute.proto's message, with
// the wire type the REST API uses (int64 as strings, enums by name): the client
// library silently drops unknown fields, so a misspelt one would otherwise go
// unnoticed until real GCE behaves differently.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitForOperation } from '../../../src/gce/operations.js';
import { instanceBody, type Lab, PROJECT, startLab } from './harness.js';

interface ProtoField {
  type: string;
  rule?: string;
  keyType?: string;
}
interface ProtoType {
  fields?: Record<string, ProtoField>;
  values?: Record<string, number>;
  nested?: Record<string, ProtoType>;
}

const require = createRequire(import.meta.url);
const V1 = (
  require('@google-cloud/compute/build/protos/protos.json') as { nested: Record<string, ProtoType> }
).nested.google?.nested?.cloud?.nested?.compute?.nested?.v1?.nested as Record<string, ProtoType>;

const INT64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const NUMBER = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'float', 'double']);

function checkValue(scope: ProtoType, type: string, value: unknown, path: string, out: string[]): void {
  if (type === 'string') {
    if (typeof value !== 'string') out.push(`${path}: ${JSON.stringify(value)} is not a string`);
    return;
  }
  if (INT64.has(type)) {
    if (typeof value !== 'string' || !/^-?[0-9]+$/.test(value))
      out.push(`${path}: int64 ${JSON.stringify(value)} must be a decimal string`);
    return;
  }
  if (NUMBER.has(type)) {
    if (typeof value !== 'number') out.push(`${path}: ${JSON.stringify(value)} is not a number`);
    return;
  }
  if (type === 'bool') {
    if (typeof value !== 'boolean') out.push(`${path}: ${JSON.stringify(value)} is not a boolean`);
    return;
  }
  const t = scope.nested?.[type] ?? V1[type];
  if (!t) {
    out.push(`${path}: unknown proto type ${type}`);
    return;
  }
  if (t.values) {
    if (typeof value !== 'string' || !(value in t.values))
      out.push(`${path}: ${JSON.stringify(value)} is not a ${type} value`);
    return;
  }
  checkMessage(type, t, value, path, out);
}

function checkMessage(name: string, t: ProtoType, value: unknown, path: string, out: string[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    out.push(`${path}: expected a ${name} object`);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    const f = t.fields?.[key];
    if (!f) {
      out.push(`${path}.${key}: no such field in ${name}`);
      continue;
    }
    if (f.rule === 'repeated') {
      if (!Array.isArray(v)) out.push(`${path}.${key}: expected a list`);
      else
        v.forEach((x, i) => {
          checkValue(t, f.type, x, `${path}.${key}[${i}]`, out);
        });
    } else if (f.keyType) {
      for (const [k, x] of Object.entries(v as object)) checkValue(t, f.type, x, `${path}.${key}.${k}`, out);
    } else checkValue(t, f.type, v, `${path}.${key}`, out);
  }
}

function violations(type: string, value: unknown): string[] {
  const out: string[] = [];
  const t = V1[type];
  if (!t) return [`no message ${type}`];
  checkMessage(type, t, value, type, out);
  return out;
}

let lab: Lab;
beforeAll(async () => {
  lab = await startLab();
});
afterAll(async () => {
  await lab?.close();
});

it('returns only fields compute.proto knows, with REST wire types', async () => {
  const c = lab.clients;
  const region = 'us-central1';
  const zone = 'us-central1-a';
  const done = (r: [unknown, ...unknown[]]) =>
    waitForOperation(c, r[0] as { latestResponse?: unknown }, { deadlineMs: 5000 });
  await done(await c.addresses.insert({ project: PROJECT, region, addressResource: { name: 'lb-ip' } }));
  await done(await c.addresses.insert({ project: PROJECT, region, addressResource: { name: 'vm-ip' } }));
  const [vmIp] = await c.addresses.get({ project: PROJECT, region, address: 'vm-ip' });
  await done(
    await c.addresses.insert({
      project: PROJECT,
      region,
      addressResource: { name: 'vm-internal-ip', addressType: 'INTERNAL' },
    }),
  );
  const [vmInternal] = await c.addresses.get({ project: PROJECT, region, address: 'vm-internal-ip' });
  await done(
    await c.disks.insert({
      project: PROJECT,
      zone,
      diskResource: { name: 'data-pd', labels: { role: 'etcd' } },
    }),
  );
  await done(
    await c.instances.insert({
      project: PROJECT,
      zone,
      instanceResource: {
        ...instanceBody(zone, 'vm', { natIP: vmIp.address ?? '' }),
        networkInterfaces: [
          {
            network: `projects/${PROJECT}/global/networks/default`,
            subnetwork: `projects/${PROJECT}/regions/${region}/subnetworks/default`,
            networkIP: vmInternal.address ?? '',
            aliasIpRanges: [{ subnetworkRangeName: 'pods-default', ipCidrRange: '/24' }],
            accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT', natIP: vmIp.address ?? '' }],
          },
        ],
        labels: { role: 'cp' },
        tags: { items: ['kubernetes-master'] },
        serviceAccounts: [{ email: 'default', scopes: ['https://www.googleapis.com/auth/compute'] }],
      },
    }),
  );
  await done(await c.httpHealthChecks.insert({ project: PROJECT, httpHealthCheckResource: { name: 'hc' } }));
  await done(
    await c.targetPools.insert({
      project: PROJECT,
      region,
      targetPoolResource: {
        name: 'pool',
        healthChecks: [`projects/${PROJECT}/global/httpHealthChecks/hc`],
        instances: [`zones/${zone}/instances/vm`],
      },
    }),
  );
  const [lb] = await c.addresses.get({ project: PROJECT, region, address: 'lb-ip' });
  await done(
    await c.forwardingRules.insert({
      project: PROJECT,
      region,
      forwardingRuleResource: {
        name: 'rule',
        IPAddress: lb.address ?? '',
        portRange: '443',
        target: `regions/${region}/targetPools/pool`,
      },
    }),
  );
  const failed = lab.service.setFault({ method: 'disks.delete', mode: 'operation', times: 1 });
  await done(await c.disks.delete({ project: PROJECT, zone, disk: 'data-pd' })).catch(() => {});
  expect(failed.hits()).toBe(1);

  const base = `${lab.endpoint}/compute/v1/projects/${PROJECT}`;
  const get = async (path: string, method = 'GET', body?: unknown) => {
    const res = await fetch(`${base}/${path}`, {
      method,
      ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    expect(res.status, path).toBe(200);
    return (await res.json()) as unknown;
  };
  const checks: [string, unknown][] = [
    ['Instance', await get(`zones/${zone}/instances/vm`)],
    ['InstanceList', await get(`zones/${zone}/instances`)],
    ['InstanceAggregatedList', await get('aggregated/instances?maxResults=1')],
    ['Disk', await get(`zones/${zone}/disks/vm`)],
    ['DiskAggregatedList', await get('aggregated/disks')],
    ['Address', await get(`regions/${region}/addresses/lb-ip`)],
    ['Address', await get(`regions/${region}/addresses/vm-internal-ip`)],
    [
      'Image',
      await (
        await fetch(`${lab.endpoint}/compute/v1/projects/cos-cloud/global/images/family/cos-stable`)
      ).json(),
    ],
    [
      'ImageList',
      await (await fetch(`${lab.endpoint}/compute/v1/projects/debian-cloud/global/images`)).json(),
    ],
    ['AddressList', await get(`regions/${region}/addresses`)],
    ['TargetPool', await get(`regions/${region}/targetPools/pool`)],
    ['TargetPoolAggregatedList', await get('aggregated/targetPools')],
    [
      'TargetPoolInstanceHealth',
      await get(`regions/${region}/targetPools/pool/getHealth`, 'POST', {
        instance: `zones/${zone}/instances/vm`,
      }),
    ],
    ['ForwardingRule', await get(`regions/${region}/forwardingRules/rule`)],
    ['ForwardingRuleList', await get(`regions/${region}/forwardingRules`)],
    ['OperationList', await get(`zones/${zone}/operations`)],
    ['OperationList', await get(`regions/${region}/operations`)],
    ['OperationList', await get('global/operations')],
    ['Zone', await get(`zones/${zone}`)],
    ['ZoneList', await get('zones')],
    ['Region', await get(`regions/${region}`)],
    ['RegionList', await get('regions')],
  ];
  const ops = checks.find(([t, v]) => t === 'OperationList' && JSON.stringify(v).includes('"error"'));
  expect(ops, 'the failed disks.delete is listed with its error').toBeDefined();
  expect(checks.flatMap(([type, value]) => violations(type, value))).toEqual([]);
  // The checker itself catches a misspelt field and a wrong wire type.
  expect(violations('Instance', { name: 'x', netwrkInterfaces: [] })).toEqual([
    'Instance.netwrkInterfaces: no such field in Instance',
  ]);
  expect(violations('Disk', { sizeGb: 10 })).toHaveLength(1);
  expect(violations('Operation', { status: 'FINISHED' })).toHaveLength(1);
});
