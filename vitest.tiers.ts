// Test tiers (issue 14): `npm test` runs every file; `npm run test:unit` the
// ones that need neither etcd nor a lab nor a terminal (seconds, on any
// machine), `test:lab` the *.lab.test.ts files, `test:e2e` the *.e2e.test.ts
// ones. A file is unit unless its name says lab/e2e or it starts real parts
// (an etcd cluster, a lab, the CLI, tmux): read from its source, so a new test
// lands in the right tier without a list to keep. The unit tier runs with etcd
// out of reach (KUBE_HA_ETCD_BIN points nowhere): a unit test that starts etcd
// fails there instead of passing only on machines that have it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const REAL_PARTS =
  /startTestCluster|startKubeUpCluster|startEtcd|labUp|opsLab|lab-helpers|runCli|helpers\/cli\.js|tmux-pane\.js|TmuxPane/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return testFiles(p);
    return /\.test\.tsx?$/.test(e.name) ? [p] : [];
  });
}

/**
 * Unit files that need a fresh worker of their own: they change or read which
 * Compute definition Node's require cache holds (src/gce/clients.ts puts the
 * trimmed one there). The other unit files share their workers' module cache.
 */
const OWN_WORKER = /protos\.json|loadTrimmedComputeDefinition|require\.cache/;

export function ownWorker(file: string): boolean {
  return OWN_WORKER.test(readFileSync(file, 'utf8'));
}

export function unitTestFiles(root = 'test'): string[] {
  return testFiles(root)
    .filter((f) => !/\.(lab|e2e)\.test\.tsx?$/.test(f))
    .filter((f) => !REAL_PARTS.test(readFileSync(f, 'utf8')))
    .sort();
}
