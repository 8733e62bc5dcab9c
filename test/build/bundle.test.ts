// The CLI bundles (scripts/bundle.mjs, dist/bundle/): React's production
// builds only, no lab beyond the context reader, and every command's chunk
// loads and runs from the bundle (a usage error is the cheapest run that
// loads it), the lab command from its own modules beside it; and the bundled
// libraries (etcd3 on its precompiled definition, the Compute clients on the
// trimmed one) answer a status against a real etcd and the lab's Compute service.
// `status` from its CommonJS build through V8's code cache (bin/code-cache.js,
// the default; KUBE_HA_CODE_CACHE=0 runs the ES module bundle):
// etcd only, it does not load the Compute clients' file; the cache is written
// by the first run and used by the next; a corrupt or rejected one is ignored
// and written anew.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

function withoutCodeCacheSetting(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { KUBE_HA_CODE_CACHE: _, ...rest } = env;
  return rest;
}

/** Runs node with `argv` in a fresh process, its V8 code cache under `cacheHome`; also returns its trace marks. */
function runTraced(
  argv: string[],
  cacheHome: string,
  /** KUBE_HA_CODE_CACHE for the run (unset: the launcher's default). */
  codeCache?: string,
): Promise<{ code: number; stdout: string; stderr: string; marks: string[] }> {
  const trace = join(cacheHome, `trace-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      argv,
      {
        timeout: 30_000,
        env: {
          ...withoutCodeCacheSetting(process.env),
          KUBE_HA_TRACE: trace,
          XDG_CACHE_HOME: cacheHome,
          ...(codeCache === undefined ? {} : { KUBE_HA_CODE_CACHE: codeCache }),
        },
      },
      (err, stdout, stderr) => {
        const marks = existsSync(trace)
          ? readFileSync(trace, 'utf8')
              .trim()
              .split('\n')
              .map((l) => l.replace(/^\d+ /, ''))
          : [];
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr, marks });
      },
    );
  });
}

/** Runs bin/kube-ha.js through runTraced. */
const runLauncher = (args: string[], cacheHome: string, codeCache?: string) =>
  runTraced([join(ROOT, 'bin/kube-ha.js'), ...args], cacheHome, codeCache);

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

describe('status through the code cache', () => {
  const status = JSON.parse(readFileSync(join(BUNDLE, 'status-meta.json'), 'utf8')) as {
    status: { inputs: Record<string, unknown> };
    gce: { inputs: Record<string, unknown> };
  };
  const etcdOnly = () => ['status', '--json', '--etcd-endpoints', etcd!.endpoints[0]!];
  // A one-member cluster with no apiserver beside it is degraded (exit 5): either is an answer.
  const answered = (r: { code: number; stderr: string }) => expect([0, 5], r.stderr).toContain(r.code);
  const healthy = (stdout: string) =>
    (JSON.parse(stdout) as { etcd: { main: { healthyMembers: number } } }).etcd.main.healthyMembers;
  let home = '';
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'kube-ha-code-cache-'));
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  const cacheOf = (name: string) => {
    const dir = join(home, 'kube-ha', 'v8');
    const files = readdirSync(dir).filter((f) => f.startsWith(`${name}-`));
    expect(files, name).toHaveLength(1);
    return join(dir, files[0]!);
  };

  it('builds the status path without the Compute clients, React or the lab; those clients in a file of their own', () => {
    const inputs = Object.keys(status.status.inputs);
    expect(
      inputs.filter((i) => /google-gax|@google-cloud|\/ink\/|\/react|dist\/gce\/clients/.test(i)),
    ).toEqual([]);
    expect(inputs.filter((i) => i.startsWith('dist/lab/'))).toEqual(['dist/lab/context.js']);
    expect(inputs).toContain('dist/cli/status.js');
    // Of files beside it, it requires only the Compute clients' (an ES module there, e.g. the lab, would need require(esm)).
    const relative = readFileSync(join(BUNDLE, 'status.cjs'), 'utf8').match(/require\("\.{1,2}\/[^"]*"\)/g);
    expect([...new Set(relative)]).toEqual(['require("./status-gce.cjs")']);
    const gce = Object.keys(status.gce.inputs);
    expect(gce).toContain('dist/gce/clients.js');
    expect(gce.some((i) => i.includes('@google-cloud/compute/build/src/v1/instances_client.js'))).toBe(true);
  });

  it('writes the cache on the first run, uses it on the next, and never loads Compute for etcd only', async () => {
    const first = await runLauncher(etcdOnly(), home);
    answered(first);
    expect(first.marks).toEqual(
      expect.arrayContaining(['code cache missing status.cjs', 'code cache written status.cjs']),
    );
    const second = await runLauncher(etcdOnly(), home);
    answered(second);
    expect(second.marks).toContain('code cache used status.cjs');
    expect(second.marks.filter((m) => m.startsWith('code cache written'))).toEqual([]);
    expect(healthy(second.stdout)).toBe(1);
    for (const r of [first, second]) expect(r.marks.filter((m) => m.includes('status-gce.cjs'))).toEqual([]);
    // KUBE_HA_CODE_CACHE=0: the ES module bundle runs.
    const plain = await runLauncher(etcdOnly(), home, '0');
    answered(plain);
    expect(plain.marks.filter((m) => m.startsWith('code cache'))).toEqual([]);
    expect(healthy(plain.stdout)).toBe(1);
  }, 60_000);

  it('ignores a corrupt or rejected cache, answers the same, and writes a good one', async () => {
    await runLauncher(etcdOnly(), home);
    const file = cacheOf('status.cjs');
    // Bytes changed in the middle: the checksum no longer matches.
    const good = readFileSync(file);
    const bad = Buffer.from(good);
    const mid = Math.floor(bad.length / 2);
    bad.fill(0xa5, mid, mid + 64);
    writeFileSync(file, bad);
    const corrupt = await runLauncher(etcdOnly(), home);
    answered(corrupt);
    expect(corrupt.marks).toEqual(
      expect.arrayContaining(['code cache corrupt status.cjs', 'code cache written status.cjs']),
    );
    expect(healthy(corrupt.stdout)).toBe(1);
    // A well-formed file of data V8 does not take (its checksum right): rejected, then rewritten.
    const junk = Buffer.alloc(4096, 7);
    const { createHash } = await import('node:crypto');
    writeFileSync(cacheOf('status.cjs'), Buffer.concat([createHash('sha256').update(junk).digest(), junk]));
    const rejected = await runLauncher(etcdOnly(), home);
    answered(rejected);
    expect(rejected.marks).toEqual(
      expect.arrayContaining(['code cache rejected status.cjs', 'code cache written status.cjs']),
    );
    expect(healthy(rejected.stdout)).toBe(1);
    const again = await runLauncher(etcdOnly(), home);
    expect(again.marks).toContain('code cache used status.cjs');
  }, 90_000);

  it("the console's GCE worker loads the Compute clients through the cache too, and answers the same", async () => {
    // The bundled worker (what the console starts), driven by a script in a fresh node.
    const script = [
      `const { createGceWorker } = await import(${JSON.stringify(join(BUNDLE, 'gce-worker.js'))});`,
      'const target = { project: "kube-ha-test", region: "us-central1", masterName: "kubernetes-master",',
      `  compute: { endpoint: ${JSON.stringify(compute!.endpoint)} }, etcd: { main: null, events: null },`,
      '  etcdPrefix: "/registry", apiserverPort: 443, lab: null, stateDir: "/nonexistent", callTimeoutMs: 5000 };',
      'const w = createGceWorker(target);',
      'const o = await w.observe();',
      // The cache is written after the first answer, off its path: wait for it (bounded).
      'const { readdirSync } = await import("node:fs");',
      'const dir = process.env.XDG_CACHE_HOME + "/kube-ha/v8";',
      'for (let i = 0; i < 100; i++) { let names = []; try { names = readdirSync(dir); } catch {}',
      '  if (names.some((n) => n.startsWith("status-gce.cjs-") && !n.endsWith(".tmp"))) break;',
      '  await new Promise((r) => setTimeout(r, 100)); }',
      'await w.close();',
      'console.log(JSON.stringify({ instances: o.instances.length, rule: o.forwardingRule }));',
    ].join('\n');
    const home = mkdtempSync(join(tmpdir(), 'kube-ha-worker-cache-'));
    const scriptFile = join(home, 'observe.mjs');
    writeFileSync(scriptFile, script);
    // A file, not -e: a worker inherits the process' flags, and --input-type is refused there.
    const run = async (codeCache?: string) => {
      const r = await runTraced([scriptFile], home, codeCache);
      expect(r.code, r.stderr).toBe(0);
      return r;
    };
    try {
      const first = await run();
      expect(first.marks).toEqual(
        expect.arrayContaining(['code cache missing status-gce.cjs', 'code cache written status-gce.cjs']),
      );
      const second = await run();
      expect(second.marks).toContain('code cache used status-gce.cjs');
      // KUBE_HA_CODE_CACHE=0: the bundle's own chunks, no cache; the same answer.
      const plain = await run('0');
      expect(plain.marks.filter((m) => m.startsWith('code cache'))).toEqual([]);
      expect(JSON.parse(second.stdout)).toEqual(JSON.parse(plain.stdout));
      expect(JSON.parse(first.stdout)).toEqual(JSON.parse(plain.stdout));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 90_000);

  it('loads the Compute clients from their file, through the cache too, when it observes GCE', async () => {
    const args = [
      ...etcdOnly(),
      '--project',
      'kube-ha-test',
      '--region',
      'us-central1',
      '--compute-endpoint',
      compute!.endpoint,
    ];
    const first = await runLauncher(args, home);
    answered(first);
    expect(first.marks).toEqual(expect.arrayContaining(['code cache written status-gce.cjs']));
    const second = await runLauncher(args, home);
    expect(second.marks).toContain('code cache used status-gce.cjs');
    const out = JSON.parse(second.stdout) as { sources: { gce: boolean; etcd: boolean } };
    expect(out.sources).toEqual({ gce: true, etcd: true });
  }, 60_000);
});
