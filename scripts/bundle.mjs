// Bundles every command path of the CLI into dist/bundle/: main.js (the entry
// bin/kube-ha.js loads) with a chunk per command (status, add/remove/replace/
// operation, the console) and the chunks they share, and gce-worker.js (the
// console's GCE worker thread, which starts itself from its own URL). Also
// writes the Compute clients' trimmed API definition (trim-compute-protos.mjs).
//
// Why: Node 20 resolves and reads ESM files one by one: loading Ink and the
// console as ~400 modules cost most of the console's first second (issue 3),
// and status as ~70 modules plus its libraries ~0.2 s more (issue 12). One file
// per command loads in a fraction of that.
//
// process.env.NODE_ENV is defined as "production": React and its reconciler
// then ship only their production builds (the development reconciler is
// several times slower on every redraw, and 1.5 MB to parse).
//
// The libraries are bundled too (etcd3 and @grpc/grpc-js, google-gax and the
// Compute clients): as modules they were another ~300 files to resolve and
// read. Where they read their own files at run time:
// - etcd3 parses proto/rpc.proto when imported: etcd-protos.mjs puts a
//   precompiled definition in its place;
// - the Compute clients require build/protos/protos.json: that import stays
//   one (from node_modules), so that src/gce/clients.ts's trimmed definition,
//   put in the require cache in its place, is what they get;
// - google-gax and grpc-js name __dirname-relative .proto files only for gRPC
//   transport and servers, which kube-ha does not use (Compute is REST).
//
// Kept out of the bundles, loaded from their own files as usual:
// - dist/cli/lab.js and the lab behind it (~300 KB): only `kube-ha lab` and
//   `kube-ha demo` start a lab (the other commands read a lab's context.json,
//   dist/lab/context.js, and no more);
// - dist/cli/usage.js, which the lab modules import too: its UsageError must
//   be one class for both.
//
// bin/kube-ha.js runs the bundle when it is at least as new as the last
// compile (dist/.tsbuildinfo), else dist/cli/main.js and its modules.
//
// `kube-ha status` has a second build of its own: dist/bundle/status.cjs (main
// with the status path and etcd3) and status-gce.cjs (the Compute clients,
// which status.cjs requires only when it observes GCE), CommonJS so that the
// launcher can compile them through vm.Script with V8's code cache
// (bin/code-cache.js): Node 20 has no compile cache for ES modules, and
// compiling the status path's ~1.3 MB (and the functions it runs) was ~0.1 s
// of an etcd-only status' ~0.7 s of CPU (issue 12). code-cache.json names each
// file's content hash, which keys its cache.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { etcdProtosPlugin } from './etcd-protos.mjs';
import { writeTrimmed } from './trim-compute-protos.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist', 'bundle');

// The Compute clients' trimmed API definition (see trim-compute-protos.mjs).
writeTrimmed(join(ROOT, 'dist'));

/** Files of packages that stay imports, from node_modules. */
export const EXTERNAL_FILES = ['@google-cloud/compute/build/protos/protos.json'];

/**
 * Relative imports that stay imports, by the file they name: the lab command,
 * and the worker module (the worker bundle beside main.js, which a worker
 * thread starts from its own URL).
 */
const keepOut = {
  name: 'keep-out',
  setup(b) {
    // Every output file sits in dist/bundle/: the lab is one directory over.
    b.onResolve({ filter: /^\.\/lab\.js$/ }, (args) =>
      args.importer.startsWith(join(ROOT, 'dist', 'cli'))
        ? { path: '../cli/lab.js', external: true }
        : undefined,
    );
    // One UsageError class for the bundle and the lab modules (main tells a
    // usage error, exit 2, by instanceof): usage.js stays a module of its own.
    b.onResolve({ filter: /^\.\/usage\.js$/ }, (args) =>
      args.importer.startsWith(join(ROOT, 'dist', 'cli'))
        ? { path: '../cli/usage.js', external: true }
        : undefined,
    );
    b.onResolve({ filter: /\/gce-worker\.js$/ }, (args) =>
      args.kind === 'entry-point' ? undefined : { path: './gce-worker.js', external: true },
    );
    b.onResolve({ filter: /\/protos\/protos\.json$/ }, (args) =>
      /[\\/]@google-cloud[\\/]compute[\\/]build[\\/]src[\\/]v1[\\/]/.test(args.importer)
        ? { path: EXTERNAL_FILES[0], external: true }
        : undefined,
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

// Old chunks (their names carry a hash) would pile up.
rmSync(OUT, { recursive: true, force: true });
// The console bundle of earlier builds: nothing loads it any more.
rmSync(join(ROOT, 'dist', 'cli', 'console.bundle.js'), { force: true });

const { metafile } = await build({
  absWorkingDir: ROOT,
  entryPoints: { main: 'dist/cli/main.js', 'gce-worker': 'dist/sources/gce-worker.js' },
  outdir: OUT,
  bundle: true,
  splitting: true,
  chunkNames: '[name]-[hash]',
  platform: 'node',
  target: 'node20',
  format: 'esm',
  plugins: [keepOut, etcdProtosPlugin()],
  define: { 'process.env.NODE_ENV': '"production"' },
  // CommonJS packages inside the bundle (React, the libraries) call require()
  // for Node modules and the external files, and some name __dirname.
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
// What went in, for test/build/bundle.test.ts and for anyone asking why a bundle is big.
writeFileSync(join(OUT, 'meta.json'), JSON.stringify(metafile));

/** The commands other than status: the status build never runs them (the launcher sends them to main.js). */
const notStatus = {
  name: 'not-status',
  setup(b) {
    b.onResolve({ filter: /^\.\/(console|ops|lab|cleanup|snapshot|recover)\.js$/ }, (args) =>
      args.importer === join(ROOT, 'dist', 'cli', 'main.js')
        ? { path: args.path, namespace: 'not-status' }
        : undefined,
    );
    // Inside: with no lab beside it there is one UsageError class anyway (and
    // require() of an ES module is not for every Node 20).
    b.onResolve({ filter: /^\.\/usage\.js$/ }, (args) =>
      args.importer.startsWith(join(ROOT, 'dist', 'cli'))
        ? { path: join(ROOT, 'dist', 'cli', 'usage.js') }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'not-status' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in the status bundle`)});`,
    }));
    // The Compute clients: a file of their own, required when GCE is observed.
    b.onResolve({ filter: /^\.\.\/gce\/clients\.js$/ }, (args) =>
      /[\\/]dist[\\/](sources|cli)[\\/]/.test(args.importer)
        ? { path: './status-gce.cjs', external: true }
        : undefined,
    );
  },
};
/** Options of both CommonJS builds of the status path. */
const statusCjs = (entry, outfile, plugins) => ({
  absWorkingDir: ROOT,
  entryPoints: [entry],
  outfile: join(OUT, outfile),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // import() of status-gce.cjs becomes a require (what the launcher serves from the code cache).
  supported: { 'dynamic-import': false },
  // Its own resolutions first (keepOut would leave usage.js and the lab outside).
  plugins: [...plugins, keepOut],
  define: { 'process.env.NODE_ENV': '"production"', 'import.meta.url': '__kubeHaUrl' },
  banner: { js: "const __kubeHaUrl = require('node:url').pathToFileURL(__filename).href;" },
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
});
const [statusMeta, gceMeta] = await Promise.all([
  build(statusCjs('dist/cli/main.js', 'status.cjs', [notStatus, etcdProtosPlugin()])),
  build(statusCjs('dist/gce/clients.js', 'status-gce.cjs', [])),
]);
const hashOf = (file) =>
  createHash('sha256')
    .update(readFileSync(join(OUT, file)))
    .digest('hex')
    .slice(0, 16);
writeFileSync(
  join(OUT, 'code-cache.json'),
  `${JSON.stringify({ 'status.cjs': hashOf('status.cjs'), 'status-gce.cjs': hashOf('status-gce.cjs') }, null, 2)}\n`,
);
writeFileSync(
  join(OUT, 'status-meta.json'),
  JSON.stringify({ status: statusMeta.metafile, gce: gceMeta.metafile }),
);
