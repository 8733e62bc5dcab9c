// The Compute API definition kube-ha loads: from the pinned @google-cloud/compute
// package's build/protos/protos.json (11.7 MB, every Compute service of v1,
// v1beta and v1small), only the methods kube-ha calls (METHODS below) of the
// services it makes clients for, and the message and enum types they reach
// (~0.15 MB).
//
// Why: each generated client hashes and parses the whole definition when it is
// made (and parses it again on every failed call), ~1 s of CPU and ~75 MB on
// the first client. src/gce/clients.ts puts this file in the place of
// protos.json in Node's require cache before it loads a client.
//
// Only the methods called, not whole services: parsing the definition of the
// 11 whole services (0.32 MB) took 280 ms of CPU in each process that makes a
// client, these methods' 110 ms (issue 12). A method missing here would fail
// only when called, with a TypeError inside the library: test/build/
// compute-protos.test.ts finds every Compute call in src/ and fails, naming
// it, when one is not in METHODS.
//
// `node scripts/trim-compute-protos.mjs` writes dist/gce/compute-protos-<version>.json
// (scripts/bundle.mjs runs it); the version in the name keeps a file made from
// another version of the package from being used.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The methods kube-ha calls, by the Compute v1 service of each client
 * src/gce/clients.ts makes (HttpHealthChecks is hand-made REST). The
 * operations' Get beside Wait, and Images.GetFromFamily (a clone's image
 * family), cost no type more.
 */
export const METHODS = {
  Instances: [
    'AggregatedList',
    'Get',
    'Insert',
    'Delete',
    'AddAccessConfig',
    'DeleteAccessConfig',
    // kube-ha reset | start (Stop: the lab's `lab stop` and tests drive the real client with it)
    'Reset',
    'Start',
    'Stop',
  ],
  Disks: ['AggregatedList', 'Get', 'Insert', 'Delete'],
  Addresses: ['Get', 'Insert', 'Delete'],
  TargetPools: ['Get', 'GetHealth', 'Insert', 'Delete', 'AddInstance', 'RemoveInstance'],
  ForwardingRules: ['Get', 'Insert', 'Delete'],
  Zones: ['Get'],
  Regions: ['Get'],
  ZoneOperations: ['Get', 'Wait'],
  RegionOperations: ['Get', 'Wait'],
  GlobalOperations: ['Get', 'Wait'],
  Images: ['Get', 'GetFromFamily'],
};
export const SERVICES = Object.keys(METHODS);

const PACKAGE = 'google.cloud.compute.v1';
const require = createRequire(import.meta.url);
// The protobufjs google-gax loads the definition with.
const protobuf = createRequire(require.resolve('google-gax'))('protobufjs');

/** Path and version of the pinned package's full definition. */
export function fullDefinition() {
  const file = require.resolve('@google-cloud/compute/build/protos/protos.json');
  const { version } = require('@google-cloud/compute/package.json');
  return { file, version };
}

/** The trimmed definition (a protobufjs JSON root) made from the full one. */
export function trimComputeProtos(full, methods = METHODS) {
  const root = protobuf.Root.fromJSON(full);
  const keep = new Set();
  const visit = (t) => {
    if (keep.has(t.fullName)) return;
    keep.add(t.fullName);
    if (t instanceof protobuf.Type) {
      for (const f of t.fieldsArray) {
        f.resolve();
        if (f.resolvedType) visit(f.resolvedType);
      }
      for (const n of t.nestedArray) visit(n);
    }
  };
  for (const [s, names] of Object.entries(methods)) {
    const svc = root.lookupService(`${PACKAGE}.${s}`);
    for (const name of names) {
      const m = svc.methods[name];
      if (!m) throw new Error(`no method ${s}.${name} in ${PACKAGE}`);
      m.resolve();
      visit(m.resolvedRequestType);
      visit(m.resolvedResponseType);
    }
  }
  const v1 = full.nested.google.nested.cloud.nested.compute.nested.v1;
  const nested = {};
  for (const name of [...keep].sort()) {
    // ".google.cloud.compute.v1.Instance.Status" -> "Instance": a kept type is
    // kept whole, with its nested types.
    if (name.startsWith('.google.protobuf.') || name.startsWith('.google.api.')) continue; // kept whole
    if (!name.startsWith(`.${PACKAGE}.`)) throw new Error(`reachable type outside ${PACKAGE}: ${name}`);
    const top = name.slice(PACKAGE.length + 2).split('.')[0];
    nested[top] = v1.nested[top];
  }
  for (const [s, names] of Object.entries(methods)) {
    const svc = v1.nested[s];
    nested[s] = { ...svc, methods: Object.fromEntries(names.map((n) => [n, svc.methods[n]])) };
  }
  const google = full.nested.google;
  const cloud = google.nested.cloud;
  // google.api, google.protobuf and google.cloud's option extensions stay whole (~25 KB).
  return {
    nested: {
      google: {
        ...google,
        nested: {
          ...google.nested,
          cloud: {
            ...cloud,
            nested: { ...cloud.nested, compute: { nested: { v1: { ...v1, nested } } } },
          },
        },
      },
    },
  };
}

/** Where the build puts the trimmed definition for this version of the package. */
export function trimmedFile(version, distDir) {
  return join(distDir, 'gce', `compute-protos-${version}.json`);
}

/** Writes the trimmed definition unless it is newer than its inputs; returns its path. */
export function writeTrimmed(distDir) {
  const { file, version } = fullDefinition();
  const out = trimmedFile(version, distDir);
  const self = fileURLToPath(import.meta.url);
  const mtime = (p) => {
    try {
      return statSync(p).mtimeMs;
    } catch {
      return -1;
    }
  };
  if (mtime(out) >= Math.max(mtime(file), mtime(self))) return out;
  const trimmed = trimComputeProtos(JSON.parse(readFileSync(file, 'utf8')));
  mkdirSync(dirname(out), { recursive: true });
  // Written whole, then renamed: a reader never sees half a file.
  writeFileSync(`${out}.tmp`, JSON.stringify(trimmed));
  renameSync(`${out}.tmp`, out);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  writeTrimmed(join(root, 'dist'));
}
