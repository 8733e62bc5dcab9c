// kube-ha where operators install it (issue 13), against one 1-replica lab:
// - the npm package: packed (from the built dist/, as `npm test` leaves it),
//   installed with `npm install -g --prefix` (tarballs from npm's cache, which
//   npm ci filled; --offline cannot be: npm ci fetches no package metadata,
//   which resolving the tarball's dependency ranges needs), and run from
//   another directory;
// - the single executable (scripts/sea.mjs, Node.js 24): copied alone into an
//   empty directory and run with an empty environment and no PATH: --version,
//   status --json, the lab refused, and the console in a real terminal.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needTmux, TmuxPane } from '../../src/bench/tmux-pane.js';
import { labDown, labUp, tempLabDir } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Run> {
  return new Promise((resolve) =>
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs, maxBuffer: 16 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    ),
  );
}
async function ok(p: Promise<Run>, what: string): Promise<Run> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r;
}

const tmp = mkdtempSync(join(tmpdir(), 'kube-ha-dist-'));
const prefix = join(tmp, 'prefix');
const elsewhere = join(tmp, 'elsewhere');
const exeDir = join(tmp, 'exe');
const exeHome = join(tmp, 'home');
let lab = '';
const nodeEnv = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
// env -i HOME=... PATH=/nonexistent: no Node.js, npm or anything else to lean on.
const bareEnv = { HOME: exeHome, PATH: '/nonexistent' };

async function packAndInstall(): Promise<void> {
  const packed = await ok(
    run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], {
      cwd: ROOT,
      env: nodeEnv,
      timeoutMs: 60_000,
    }),
    'npm pack',
  );
  const tarball = join(tmp, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
  await ok(
    run(
      'npm',
      ['install', '-g', '--prefix', prefix, tarball, '--prefer-offline', '--no-audit', '--no-fund'],
      {
        cwd: elsewhere,
        env: nodeEnv,
        timeoutMs: 120_000,
      },
    ),
    'npm install -g',
  );
}

async function buildExecutable(): Promise<void> {
  await ok(
    run(process.execPath, [join(ROOT, 'scripts', 'sea.mjs')], {
      cwd: ROOT,
      env: nodeEnv,
      timeoutMs: 400_000,
    }),
    'scripts/sea.mjs',
  );
  copyFileSync(join(ROOT, 'dist', 'sea', 'kube-ha'), join(exeDir, 'kube-ha'));
}

beforeAll(async () => {
  needTmux();
  for (const d of [elsewhere, exeDir, exeHome]) mkdirSync(d);
  lab = tempLabDir();
  const timed = async (what: string, p: Promise<unknown>) => {
    const t = Date.now();
    await p;
    process.stderr.write(`distribution test: ${what} in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
  };
  await Promise.all([
    timed('lab up', labUp(lab, ['--replicas', '1'])),
    timed('pack and install', packAndInstall()),
    timed('executable built', buildExecutable()),
  ]);
}, 480_000);

afterAll(async () => {
  if (lab) await labDown(lab);
  rmSync(tmp, { recursive: true, force: true });
});

/** What status --json must show of a healthy 1-replica lab. */
function expectHealthyLab(r: Run): void {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const s = JSON.parse(r.stdout) as {
    replicas: { name: string; vm: { status: string } }[];
    etcd: Record<'main' | 'events', { healthyVoters: number; leaderId: string | null }>;
    leases: { name: string; holderReplica: string | null }[];
  };
  expect(s.replicas.map((x) => [x.name, x.vm.status])).toEqual([['kubernetes-master', 'RUNNING']]);
  expect(s.etcd.main.healthyVoters).toBe(1);
  expect(s.etcd.events.healthyVoters).toBe(1);
  expect(s.etcd.main.leaderId).toBeTruthy();
  expect(s.leases.length).toBeGreaterThan(0);
  expect(s.leases.every((l) => l.holderReplica === 'kubernetes-master')).toBe(true);
}

describe('the npm package, installed from its tarball', () => {
  const bin = () => join(prefix, 'bin', 'kube-ha');

  it('holds the built code and no sources or tests, and prints its version', async () => {
    const installed = readdirSync(join(prefix, 'lib', 'node_modules', 'kube-ha')).sort();
    expect(installed).toEqual(['README.md', 'bin', 'dist', 'node_modules', 'package.json']);
    const r = await run(bin(), ['--version'], { cwd: elsewhere, env: nodeEnv, timeoutMs: 30_000 });
    expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('shows the lab with status --lab-dir D --json from another directory', async () => {
    expectHealthyLab(
      await run(bin(), ['status', '--lab-dir', lab, '--json'], {
        cwd: elsewhere,
        env: nodeEnv,
        timeoutMs: 60_000,
      }),
    );
  });
});

describe('the single executable, alone, with no Node.js', () => {
  const exe = () => join(exeDir, 'kube-ha');

  it('says what it is: the version, a single executable, its Node.js 24', async () => {
    const r = await run(exe(), ['--version'], { cwd: exeDir, env: bareEnv, timeoutMs: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(
      new RegExp(
        `^${version.replaceAll('.', '\\.')} \\(single executable, Node\\.js v24\\.\\d+\\.\\d+\\)\\n$`,
      ),
    );
    expect(r.code).toBe(0);
  });

  it('shows replicas, etcd and leases with status --lab-dir D --json', async () => {
    expectHealthyLab(
      await run(exe(), ['status', '--lab-dir', lab, '--json'], {
        cwd: exeDir,
        env: bareEnv,
        timeoutMs: 60_000,
      }),
    );
  });

  it('refuses the lab, which only the npm package holds, as a usage error', async () => {
    const r = await run(exe(), ['lab', 'up', '--dir', join(tmp, 'nolab')], {
      cwd: exeDir,
      env: bareEnv,
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the lab is not in the single executable: install the npm package/);
    expect(readdirSync(tmp)).not.toContain('nolab');
  });

  it('runs the console in a real terminal: the full view, with the Compute part from its worker; q exits 0', async () => {
    const pane = await TmuxPane.startShell(
      `cd '${exeDir}' && env -i HOME='${exeHome}' PATH=/nonexistent TERM=xterm-256color ./kube-ha --lab-dir '${lab}'`,
      { cols: 120, rows: 40, keepScreen: true },
    );
    try {
      // The full view: etcd, the VM from the Compute API (the console's worker thread), the leases.
      const { screen } = await pane.waitFor(
        (s) =>
          // Compute's first answer is its own event, or (when it came before etcd's) the first observation's zones.
          /Compute API first answered|first observation: 1 replica in 1 zone/.test(s) &&
          /VM RUNNING/.test(s) &&
          /kube-controller-manager\s+★ kubernetes-master held/.test(s) &&
          /q quit/.test(s),
        60_000,
      );
      expect(screen).toMatch(/main\s+1\/1 healthy/);
      await pane.tmux('send-keys', 'q');
      expect(await pane.waitForExit(10_000)).toBe(0);
    } finally {
      await pane.close();
    }
    // The first start unpacks the program into its cache and loads the Compute definition in
    // its worker: on a CI machine running the suite beside it, that took over 30 s.
  }, 90_000);
});
