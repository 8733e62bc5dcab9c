// node:module as src/gce/clients.ts sees it in the single executable: its
// createRequire() answers for @google-cloud/compute's package.json and
// protos.json, which are not on disk there (the bundle holds the trimmed API
// definition in protos.json's place, scripts/sea.mjs), and asks Node's own
// require for anything else.
import nodeModule from 'node:module';
import computePackage from '@google-cloud/compute/package.json' with { type: 'json' };

export const Module = nodeModule.Module;

const EMBEDDED = {
  '@google-cloud/compute/package.json': { version: computePackage.version },
  // Already in the bundle: nothing is to be put in the require cache for it.
  '@google-cloud/compute/build/protos/protos.json': null,
};

export function createRequire(from) {
  const real = nodeModule.createRequire(from);
  const require = (id) => (id in EMBEDDED ? EMBEDDED[id] : real(id));
  require.resolve = (id) => (id in EMBEDDED ? `/kube-ha-executable/node_modules/${id}` : real.resolve(id));
  require.cache = real.cache;
  return require;
}
