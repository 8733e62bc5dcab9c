// The trimmed Compute definition (scripts/trim-compute-protos.mjs, made by the
// build) is what the clients load, and it holds every service kube-ha makes a
// client for and every method kube-ha calls: checked statically against the
// calls found in src/ (`<collection>.<method>(`, as the code writes them), then
// through the real client against the lab's Compute service (operations in all
// three scopes, an error answer, a paged list).
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a build script in plain JavaScript, without types
import { METHODS, trimmedFile } from '../../scripts/trim-compute-protos.mjs';
import { loadTrimmedComputeDefinition } from '../../src/gce/clients.js';
import { toGceApiError, waitForOperation } from '../../src/gce/operations.js';
import { type Lab, PROJECT, startLab } from '../lab/compute/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const FULL = require.resolve('@google-cloud/compute/build/protos/protos.json');
const VERSION = (require('@google-cloud/compute/package.json') as { version: string }).version;
const protobuf = createRequire(require.resolve('google-gax'))('protobufjs') as typeof import('protobufjs');

interface RawService {
  methods: Record<string, { options?: Record<string, unknown> }>;
}
type RawNamespace = { nested?: Record<string, RawNamespace & Partial<RawService>> };

const v1Of = (json: RawNamespace) =>
  json.nested?.google?.nested?.cloud?.nested?.compute?.nested?.v1?.nested ?? {};

/** `zone_operations` -> `ZoneOperations`. */
const pascal = (snake: string) => snake.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return p.endsWith('lab/compute') ? [] : sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

let lab: Lab;
let inUse: string | null;
let trimmed: RawNamespace;
let full: Record<string, RawNamespace & Partial<RawService>>;

beforeAll(async () => {
  // First, as a command does: the definition goes into the require cache before any client loads.
  inUse = loadTrimmedComputeDefinition();
  lab = await startLab();
  trimmed = require(FULL) as RawNamespace;
  full = v1Of(JSON.parse(readFileSync(FULL, 'utf8')) as RawNamespace);
}, 60_000);
afterAll(async () => {
  await lab?.close();
});

describe('the trimmed Compute definition', () => {
  it('is the build output for the pinned package, and what the clients load', () => {
    expect(inUse, 'no trimmed definition: run `npm run build`').toBe(
      trimmedFile(VERSION, join(ROOT, 'dist')),
    );
    // The cached protos.json is the trimmed one: v1 only, and far fewer types.
    const cached = require(FULL) as RawNamespace;
    expect(cached).toBe(trimmed);
    expect(Object.keys(cached.nested?.google?.nested?.cloud?.nested?.compute?.nested ?? {})).toEqual(['v1']);
    expect(Object.keys(v1Of(cached)).length).toBeLessThan(500);
  });

  it('holds every service src/gce/clients.ts makes a client for, with the methods listed', () => {
    const clients = readFileSync(join(ROOT, 'src/gce/clients.ts'), 'utf8');
    const made = [...clients.matchAll(/build\/src\/v1\/(\w+)_client\.js/g)].map((m) => pascal(m[1]!));
    expect(made.length).toBeGreaterThan(5);
    const listed = METHODS as Record<string, string[]>;
    expect([...made].sort()).toEqual(Object.keys(listed).sort());
    const root = protobuf.Root.fromJSON(trimmed as protobuf.INamespace);
    for (const name of made) {
      const svc = root.lookupService(`google.cloud.compute.v1.${name}`);
      // Every request and response type, and every type they reach, resolves.
      expect(() => svc.resolveAll(), name).not.toThrow();
      expect(Object.keys(svc.methods).sort(), name).toEqual([...listed[name]!].sort());
    }
  });

  it('resolves every Compute method called in src/, with its REST binding', () => {
    const collections: Record<string, string> = {
      instances: 'Instances',
      disks: 'Disks',
      addresses: 'Addresses',
      targetPools: 'TargetPools',
      forwardingRules: 'ForwardingRules',
      zones: 'Zones',
      regions: 'Regions',
      zoneOperations: 'ZoneOperations',
      regionOperations: 'RegionOperations',
      globalOperations: 'GlobalOperations',
      images: 'Images',
    };
    const call = new RegExp(`\\b(${Object.keys(collections).join('|')})\\s*\\.\\s*(\\w+)\\s*\\(`, 'g');
    const called = new Set<string>();
    for (const file of sourceFiles(join(ROOT, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(call)) {
        const service = collections[m[1]!]!;
        // `aggregatedListAsync` -> `AggregatedList`; Set/Map/array methods of
        // same-named variables (addresses.has, zones.map) are no Compute method.
        const method = pascal(m[2]!.replace(/(Async|Stream)$/, ''));
        if (full[service]?.methods?.[method]) called.add(`${service}.${method}`);
      }
    }
    // The scan finds what the commands rely on (the lock-step waits, the
    // console's aggregated list, the clone's image lookup).
    for (const known of [
      'ZoneOperations.Wait',
      'Instances.AggregatedList',
      'Images.Get',
      'TargetPools.AddInstance',
    ])
      expect(called).toContain(known);
    const listed = Object.entries(METHODS as Record<string, string[]>).flatMap(([s, ms]) =>
      ms.map((m) => `${s}.${m}`),
    );
    expect(
      [...called].filter((c) => !listed.includes(c)),
      'called in src/ but not in METHODS of scripts/trim-compute-protos.mjs',
    ).toEqual([]);
    const root = protobuf.Root.fromJSON(trimmed as protobuf.INamespace);
    for (const c of called) {
      const [service, method] = c.split('.') as [string, string];
      const rpc = root.lookupService(`google.cloud.compute.v1.${service}`).methods[method];
      expect(rpc, c).toBeDefined();
      rpc!.resolve();
      expect(rpc!.resolvedRequestType, c).not.toBeNull();
      expect(
        Object.keys(rpc!.options ?? {}).some((k) => k.startsWith('(google.api.http).')),
        c,
      ).toBe(true);
    }
    // Long-running operations: the waits answer the Operation with its status and errors.
    const op = root.lookupType('google.cloud.compute.v1.Operation');
    op.resolveAll();
    for (const f of ['name', 'status', 'error', 'zone', 'region', 'targetLink', 'selfLink'])
      expect(op.fields[f], f).toBeDefined();
    expect(root.lookupType('google.cloud.compute.v1.Errors').fields.code).toBeDefined();
  });
});

describe('the real client on the trimmed definition, against the lab Compute service', () => {
  it('inserts and waits in zone, region and global scope, lists, and reads an error', async () => {
    const c = lab.clients;
    const region = 'us-central1';
    const zone = 'us-central1-b';
    const done = async (r: [unknown, ...unknown[]]) =>
      waitForOperation(c, r[0] as { latestResponse?: unknown }, { deadlineMs: 10_000 });

    const diskOp = await done(
      await c.disks.insert({ project: PROJECT, zone, diskResource: { name: 'd1', sizeGb: '10' } }),
    );
    expect([diskOp.status, diskOp.error ?? null]).toEqual(['DONE', null]);
    const addrOp = await done(
      await c.addresses.insert({ project: PROJECT, region, addressResource: { name: 'a1' } }),
    );
    expect(addrOp.status).toBe('DONE');
    const hcOp = await done(
      await c.httpHealthChecks.insert({
        project: PROJECT,
        httpHealthCheckResource: { name: 'hc1', port: 80 },
      }),
    );
    expect(hcOp.status).toBe('DONE');
    expect(hcOp.zone ?? hcOp.region ?? null).toBeNull();

    const [disk] = await c.disks.get({ project: PROJECT, zone, disk: 'd1' });
    expect(disk.sizeGb).toBe('10');
    const [image] = await c.images.getFromFamily({ project: 'cos-cloud', family: 'cos-stable' });
    expect(image.family).toBe('cos-stable');
    const zones: string[] = [];
    for await (const [scope] of c.instances.aggregatedListAsync(
      { project: PROJECT },
      { autoPaginate: false },
    ))
      zones.push(scope);
    expect(zones).toContain(`zones/${zone}`);

    let err: unknown = null;
    await c.instances.get({ project: PROJECT, zone, instance: 'absent' }).catch((e: unknown) => {
      err = e;
    });
    expect(toGceApiError(err).code).toBe(404);
  }, 60_000);
});
