// Builds issue 12's floor for `npm run bench table`: the etcdctl pair's calls
// through etcd3 (scripts/etcd3-floor-program.cjs), bundled as kube-ha's own
// status is (etcd3's definition precompiled by scripts/etcd-protos.mjs) and
// run through V8's code cache, as bin/code-cache.js runs status. It is the
// least a Node program using the project's etcd client can cost for that work.
// Usage: node scripts/etcd3-floor.mjs OUTDIR; then node OUTDIR/floor.cjs ARGS.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { etcdProtosPlugin } from './etcd-protos.mjs';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: node scripts/etcd3-floor.mjs OUTDIR\n');
  process.exit(2);
}
await build({
  entryPoints: [fileURLToPath(new URL('./etcd3-floor-program.cjs', import.meta.url))],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: join(out, 'program.cjs'),
  plugins: [etcdProtosPlugin()],
  logLevel: 'error',
});
// The loader: compile with the cached data of the last run, write it after the first.
writeFileSync(
  join(out, 'floor.cjs'),
  `const { readFileSync, writeFileSync } = require('node:fs');
const { Script } = require('node:vm');
const { wrap } = require('node:module');
const file = require('node:path').join(__dirname, 'program.cjs');
let cachedData;
try { cachedData = readFileSync(file + '.v8'); } catch {}
const script = new Script(wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
if (!cachedData || script.cachedDataRejected) process.on('exit', () => writeFileSync(file + '.v8', script.createCachedData()));
const m = { exports: {} };
script.runInThisContext().call(m.exports, m.exports, require, m, file, __dirname);
`,
);
