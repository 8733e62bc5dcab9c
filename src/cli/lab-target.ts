// The target `--lab` / `--lab-dir` name: what the running lab's context file
// says, read like a real project's gcloud configuration. The CLI's one door
// into src/lab outside the lab's own commands (biome's noRestrictedImports
// keeps it so).
import { readLabApiserverPort, readLabContext } from '../lab/context.js';
import type { Target } from '../sources/target.js';

/** The lab in `dir` as a target; the caller supplies what is not the lab's (prefix, state dir, timeout). */
export function labTarget(
  dir: string,
  own: Pick<Target, 'etcdPrefix' | 'stateDir' | 'callTimeoutMs'>,
): Target {
  const ctx = readLabContext(dir);
  return {
    project: ctx.project,
    region: ctx.region,
    masterName: ctx.masterName,
    compute: { endpoint: ctx.computeEndpoint },
    etcd: {
      main: {
        endpoints: ctx.etcd.main.endpoints,
        tls: {
          caFile: ctx.etcd.main.caFile,
          certFile: ctx.etcd.main.certFile,
          keyFile: ctx.etcd.main.keyFile,
        },
      },
      events: { endpoints: ctx.etcd.events.endpoints, tls: null },
    },
    etcdPrefix: own.etcdPrefix,
    // The lab's own port: 443 when it could bind it, else 6443.
    apiserverPort: readLabApiserverPort(dir),
    lab: { dir, controlURL: ctx.controlURL },
    stateDir: own.stateDir,
    callTimeoutMs: own.callTimeoutMs,
  };
}
