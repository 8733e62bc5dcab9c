// `npm run sea`: dist/sea/kube-ha, kube-ha as one Node.js single executable
// application (SEA): the console, status and the operator flows, every library
// and API definition inside, on Node.js 24 LTS (scripts/node24.sh), for hosts
// with no Node.js, such as kube-up's Container-Optimized OS replicas. The lab
// stays in the npm package (scripts/sea-lab.mjs).
//
// Node 24 runs a SEA's main script as CommonJS only, and kube-ha and Ink use
// top-level await: the program is ES modules (dist/sea/program/, built here
// from dist/ as scripts/bundle.mjs builds its chunks) embedded as assets,
// which scripts/sea-boot.cjs writes to a cache directory and imports. They
// import only node: built-ins and each other: everything is bundled, and
// what the libraries read from disk at run time is made part of the bundle:
// - etcd3's rpc.proto: precompiled (scripts/etcd-protos.mjs, as bundle.mjs);
// - the Compute clients' protos.json: the trimmed definition the build writes
//   (dist/gce/compute-protos-<version>.json), and src/gce/clients.ts's
//   createRequire answers for it (scripts/sea-module.mjs);
// - the console's GCE worker thread starts its own module's URL: a chunk
//   file of its own, as in the npm package's bundle.
// google-gax and grpc-js read .proto files by __dirname only for gRPC
// transport, which kube-ha does not use (Compute is REST).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { etcdProtosPlugin } from './etcd-protos.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist', 'sea');
const require = createRequire(import.meta.url);
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const computeVersion = require('@google-cloud/compute/package.json').version;
const TRIMMED = join(ROOT, 'dist', 'gce', `compute-protos-${computeVersion}.json`);
// A SEA's resource, and the fuse Node looks for (Node's documentation, "Single executable applications").
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

for (const f of [join(ROOT, 'dist', 'cli', 'main.js'), TRIMMED]) {
  if (!existsSync(f)) throw new Error(`${relative(ROOT, f)} is missing: run \`npm run build\` first`);
}

const started = Date.now();
const step = (what) =>
  process.stderr.write(`sea: ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);

const seaPlugin = {
  name: 'kube-ha-sea',
  setup(b) {
    // The lab stays out (dist/cli/lab.js and dist/lab/ behind it).
    b.onResolve({ filter: /^\.\/lab\.js$/ }, (args) =>
      args.importer.startsWith(join(ROOT, 'dist', 'cli'))
        ? { path: join(ROOT, 'scripts', 'sea-lab.mjs') }
        : undefined,
    );
    b.onResolve({ filter: /^node:module$/ }, (args) =>
      args.importer === join(ROOT, 'dist', 'gce', 'clients.js')
        ? { path: join(ROOT, 'scripts', 'sea-module.mjs') }
        : undefined,
    );
    b.onResolve({ filter: /\/protos\/protos\.json$/ }, (args) =>
      /[\\/]@google-cloud[\\/]compute[\\/]build[\\/]src[\\/]v1[\\/]/.test(args.importer)
        ? { path: TRIMMED, namespace: 'compute-protos' }
        : undefined,
    );
    // JSON.parse of the text: faster to start than the same JSON as a JavaScript literal.
    b.onLoad({ filter: /.*/, namespace: 'compute-protos' }, (args) => ({
      contents: `module.exports = JSON.parse(${JSON.stringify(readFileSync(args.path, 'utf8'))});`,
      loader: 'js',
    }));
    // The console's GCE worker thread starts its own module's URL: the
    // gce-worker entry beside main.js, where it runs the worker's side.
    b.onResolve({ filter: /\/gce-worker\.js$/ }, (args) =>
      args.kind === 'entry-point' ? undefined : { path: './gce-worker.js', external: true },
    );
    // Ink imports React devtools only when DEV=true; they are not installed.
    b.onResolve({ filter: /^react-devtools-core$/ }, () => ({
      path: 'react-devtools-core',
      namespace: 'absent',
    }));
    b.onLoad({ filter: /.*/, namespace: 'absent' }, () => ({
      contents:
        "const e = new Error('react-devtools-core is not installed'); e.code = 'ERR_MODULE_NOT_FOUND'; throw e;",
    }));
  },
};

rmSync(OUT, { recursive: true, force: true });
const PROGRAM = join(OUT, 'program');
const { metafile } = await build({
  absWorkingDir: ROOT,
  entryPoints: {
    main: join(ROOT, 'scripts', 'sea-entry.mjs'),
    'gce-worker': join(ROOT, 'dist', 'sources', 'gce-worker.js'),
  },
  outdir: PROGRAM,
  bundle: true,
  splitting: true,
  chunkNames: '[name]-[hash]',
  platform: 'node',
  target: 'node24',
  format: 'esm',
  plugins: [seaPlugin, etcdProtosPlugin()],
  define: { 'process.env.NODE_ENV': '"production"', KUBE_HA_VERSION: JSON.stringify(version) },
  // CommonJS packages inside call require() for Node's modules, and some name __dirname.
  banner: {
    js: [
      "import { createRequire as __kubeHaRequire } from 'node:module';",
      "import { dirname as __kubeHaDirname } from 'node:path';",
      "import { fileURLToPath as __kubeHaPath } from 'node:url';",
      'const require = __kubeHaRequire(import.meta.url);',
      'const __filename = __kubeHaPath(import.meta.url);',
      'const __dirname = __kubeHaDirname(__filename);',
    ].join('\n'),
  },
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
});
// Nothing may be left to load from disk but Node's own modules and the
// program's files: there is no node_modules beside the executable. (ws and
// debug require these optional packages inside try/catch, and do without.)
const OPTIONAL = ['bufferutil', 'utf-8-validate', 'supports-color'];
const outside = Object.values(metafile.outputs)
  .flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path))
  .filter(
    (p) =>
      p !== './gce-worker.js' && !OPTIONAL.includes(p) && !builtinModules.includes(p.replace(/^node:/, '')),
  );
if (outside.length > 0)
  throw new Error(
    `the executable's program imports from outside itself: ${[...new Set(outside)].join(', ')}`,
  );
// What went in, for anyone asking why it is big.
writeFileSync(join(OUT, 'meta.json'), JSON.stringify(metafile));
const files = readdirSync(PROGRAM).sort();
const hash = createHash('sha256');
for (const f of files) hash.update(f).update(readFileSync(join(PROGRAM, f)));
// sea-boot.cjs writes the program into a directory of this name: one per build.
const program = { dir: `kube-ha-${version}-${hash.digest('hex').slice(0, 16)}`, main: 'main.js', files };
writeFileSync(join(OUT, 'program.json'), JSON.stringify(program));
const size = files.reduce((n, f) => n + statSync(join(PROGRAM, f)).size, 0);
step(`bundled dist/sea/program/: ${files.length} files, ${(size / 1e6).toFixed(1)} MB`);

const node24 = execFileSync('bash', [join(ROOT, 'scripts', 'node24.sh')], {
  encoding: 'utf8',
  timeout: 330_000,
}).trim();
const config = join(OUT, 'sea-config.json');
const blob = join(OUT, 'kube-ha.blob');
writeFileSync(
  config,
  JSON.stringify(
    {
      main: join(ROOT, 'scripts', 'sea-boot.cjs'),
      output: blob,
      disableExperimentalSEAWarning: true,
      // As bin/kube-ha.js: the console is long-lived and mostly idle.
      execArgv: ['--no-memory-reducer'],
      assets: {
        'program.json': join(OUT, 'program.json'),
        ...Object.fromEntries(files.map((f) => [`program/${f}`, join(PROGRAM, f)])),
      },
    },
    null,
    2,
  ),
);
execFileSync(node24, ['--experimental-sea-config', config], {
  cwd: OUT,
  stdio: ['ignore', 'ignore', 'inherit'],
  timeout: 120_000,
});
step(`blob ${(statSync(blob).size / 1e6).toFixed(1)} MB`);

const exe = join(OUT, 'kube-ha');
const partial = `${exe}.partial`;
copyFileSync(node24, partial);
const { inject } = require('postject');
await inject(partial, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE, overwrite: true });
chmodSync(partial, 0o755);
renameSync(partial, exe);
rmSync(blob);
step(
  `wrote ${relative(ROOT, exe)}, ${(statSync(exe).size / 1e6).toFixed(1)} MB, Node.js ${execFileSync(node24, ['--version'], { encoding: 'utf8' }).trim()}`,
);
