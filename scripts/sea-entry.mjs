// The single executable's program (scripts/sea.mjs bundles it, with all of
// kube-ha and its libraries, into the ES modules sea-boot.cjs loads).

// For `kube-ha --version` (src/cli/version.ts); KUBE_HA_VERSION is the package's, defined at build time.
globalThis.kubeHaExecutable = { version: KUBE_HA_VERSION };

const { main } = await import('../dist/cli/main.js');
// As bin/kube-ha.js: exit as soon as the command is done (a channel to a
// frozen etcd member can keep the event loop alive past its deadline).
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`kube-ha: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
