// The CLI bundles (scripts/bundle.mjs, dist/bundle/): React's production
// builds only, no lab beyond the context reader, and every command's chunk
// loads and runs from the bundle (a usage error is the cheapest run that
// loads it), the lab command from its own modules beside it; and the bundled
// libraries (etcd3 on its precompiled definition, the Compute clients on the
// trimmed one) answer a status against a real etcd and the lab's Compute service.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';
import { startService } from '../lab/compute/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUNDLE = join(ROOT, 'dist/bundle');

interface Meta {
  inputs: Record<string, unknown>;
  outputs: Record<
    string,
    { inputs: Record<string, unknown>; entryPoint?: string; imports: { path: string; external?: boolean }[] }
  >;
}
let meta: Meta;
let etcd: TestCluster | undefined;
let compute: Awaited<ReturnType<typeof startService>> | undefined;

beforeAll(async () => {
  if (!existsSync(join(BUNDLE, 'meta.json'))) throw new Error('no dist/bundle: run `npm run build`');
  meta = JSON.parse(readFileSync(join(BUNDLE, 'meta.json'), 'utf8')) as Meta;
  [etcd, compute] = await Promise.all([startTestCluster(1), startService()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([etcd?.stop(), compute?.close()]);
});

/** Runs main() of the bundled entry, as bin/kube-ha.js does, in a fresh node. */
function runBundled(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const script =
    `const { main } = await import(${JSON.stringify(join(BUNDLE, 'main.js'))});` +
    `process.exitCode = await main(${JSON.stringify(args)});`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { timeout: 30_000, env: { ...process.env, KUBE_HA_TRACE: '' } },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('the CLI bundles', () => {
  it('carry React and its reconciler in production builds only', () => {
    const inputs = Object.keys(meta.inputs);
    expect(
      inputs.some((i) => /node_modules\/react-reconciler\/cjs\/react-reconciler\.production/.test(i)),
    ).toBe(true);
    expect(inputs.filter((i) => /\.development\.js$/.test(i))).toEqual([]);
  });

  it('hold no lab code but the reader of a lab context', () => {
    const lab = Object.keys(meta.inputs).filter((i) => i.startsWith('dist/lab/'));
    expect(lab).toEqual(['dist/lab/context.js']);
    // The lab command stays a module of its own beside the bundle.
    const externals = Object.values(meta.outputs).flatMap((o) => o.imports.filter((i) => i.external));
    expect(externals.map((i) => i.path)).toContain('../cli/lab.js');
  });

  it('cover every command path: status, the operation commands and the console, each a chunk', () => {
    const chunkOf = (input: string) =>
      Object.entries(meta.outputs).filter(([, o]) => Object.keys(o.inputs).includes(input));
    for (const input of ['dist/cli/main.js', 'dist/cli/status.js', 'dist/cli/ops.js', 'dist/cli/console.js'])
      expect(chunkOf(input), input).toHaveLength(1);
    expect(chunkOf('dist/sources/gce-worker.js')[0]?.[0]).toBe('dist/bundle/gce-worker.js');
  });

  it('run: each command loads its chunk (usage errors, exit 2) and --version', async () => {
    const [version, status, ops, ui, lab] = await Promise.all([
      runBundled(['--version']),
      runBundled(['status', '--no-such-flag']),
      runBundled(['add', '--no-such-flag']),
      runBundled(['ui', '--no-such-flag']),
      runBundled(['lab', 'no-such-subcommand']),
    ]);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    for (const [name, r] of Object.entries({ status, ops, ui, lab })) {
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr, name).toMatch(/^kube-ha: /);
    }
  }, 60_000);

  it('run the libraries: status from the bundle against a real etcd and the lab Compute service', async () => {
    const r = await runBundled([
      'status',
      '--json',
      '--project',
      'kube-ha-test',
      '--region',
      'us-central1',
      '--compute-endpoint',
      compute!.endpoint,
      '--etcd-endpoints',
      etcd!.endpoints[0]!,
      '--events-endpoints',
      etcd!.endpoints[0]!,
    ]);
    const out = JSON.parse(r.stdout) as {
      sources: { gce: boolean; etcd: boolean };
      etcd: { main: { healthyMembers: number; leaderId: string | null } };
      warnings: { code: string; message: string }[];
    };
    expect(r.stderr).not.toMatch(/Error|at /);
    expect(out.sources).toEqual({ gce: true, etcd: true });
    expect(out.etcd.main.healthyMembers).toBe(1);
    expect(out.etcd.main.leaderId).toMatch(/^[0-9a-f]+$/);
    expect(out.warnings.filter((w) => /compute|gce/i.test(`${w.code} ${w.message}`))).toEqual([]);
  }, 60_000);
});
