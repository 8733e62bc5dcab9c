// Bundles the console (dist/cli/console.js and everything it imports from this
// project, Ink, React and zustand) into dist/cli/console.bundle.js, which the
// launcher loads for `kube-ha`, `kube-ha ui` and `kube-ha demo`.
//
// Why: Node 20 resolves and reads ~400 ESM files one by one to load Ink and the
// console, ~0.4 s of main-thread time on an idle machine and ~0.9 s while the
// pollers and the GCE worker start beside it. That was most of the time before
// the etcd part reached the screen (issue 3). One file loads in ~0.1 s.
//
// Kept out of the bundle, loaded from node_modules as usual:
// - etcd3, google-gax, @google-cloud/compute: they read .proto/.json files
//   relative to their own directory;
// - dist/sources/gce-worker.js: it starts a worker thread on its own URL;
// - dist/cli/lab.js and the lab behind it (~100 KB): only `kube-ha demo`
//   starts a lab (the console itself reads a lab's context.json and no more).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writeTrimmed } from './trim-compute-protos.mjs';

// The Compute clients' trimmed API definition (see trim-compute-protos.mjs).
writeTrimmed(join(dirname(fileURLToPath(import.meta.url)), '..', 'dist'));

const external = ['etcd3', 'google-gax', '@google-cloud/compute', '@grpc/grpc-js'];

/** Package imports stay imports; relative ones to the worker module and the lab command too. */
const keepOut = {
  name: 'keep-out',
  setup(b) {
    b.onResolve({ filter: /\/gce-worker\.js$/ }, (args) => ({ path: args.path, external: true }));
    // The bundle sits in dist/cli/, beside lab.js: the relative import still resolves.
    b.onResolve({ filter: /^\.\/lab\.js$/ }, (args) =>
      args.importer.endsWith('/dist/cli/console.js') ? { path: args.path, external: true } : undefined,
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

await build({
  entryPoints: ['dist/cli/console.js'],
  outfile: 'dist/cli/console.bundle.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: external.flatMap((p) => [p, `${p}/*`]),
  plugins: [keepOut],
  // CommonJS packages inside the bundle (React) call require() for Node modules.
  banner: {
    js: "import { createRequire as __kubeHaRequire } from 'node:module';\nconst require = __kubeHaRequire(import.meta.url);",
  },
  logLevel: 'warning',
  legalComments: 'none',
});
