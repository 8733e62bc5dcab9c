// The npm package (issue 13): `npm pack` ships what kube-ha needs at run time
// and nothing else, and what it ships is complete: every relative import of a
// shipped module names a shipped file. Reads the built dist/ (npm test builds
// it first); --ignore-scripts so that listing does not rebuild it.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as {
  version: string;
  private?: boolean;
  bin: Record<string, string>;
  scripts: Record<string, string>;
};
const computeVersion = (
  JSON.parse(readFileSync(`${ROOT}/node_modules/@google-cloud/compute/package.json`, 'utf8')) as {
    version: string;
  }
).version;

let files: string[] = [];

beforeAll(async () => {
  const out = await new Promise<string>((resolve, reject) =>
    execFile(
      'npm',
      ['pack', '--dry-run', '--json', '--ignore-scripts'],
      { cwd: ROOT, timeout: 60_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => (err ? reject(new Error(`npm pack: ${stderr}`)) : resolve(stdout)),
    ),
  );
  files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
}, 90_000);

describe('npm pack', () => {
  it('ships the launcher, the bundles, the lab and the trimmed Compute definition', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        pkg.bin['kube-ha']!,
        'dist/bundle/main.js',
        'dist/bundle/gce-worker.js',
        'dist/cli/main.js',
        'dist/cli/usage.js',
        'dist/cli/lab.js',
        'dist/lab/daemon.js',
        'dist/lab/context.js',
        `dist/gce/compute-protos-${computeVersion}.json`,
      ]),
    );
  });

  it('ships no sources, tests, screenshots, build scripts, benchmarks, executable, maps or bundle metafiles', () => {
    const unwanted = files.filter(
      (f) =>
        /^(src|test|screenshots|scripts|docs|\.ci|node_modules|dist\/bench|dist\/sea)\//.test(f) ||
        /\.(ts|tsx|map|tsbuildinfo)$/.test(f) ||
        /^dist\/bundle\/(status-)?meta\.json$/.test(f),
    );
    expect(unwanted).toEqual([]);
  });

  it('ships every module that a shipped module imports by a relative path', () => {
    const shipped = new Set(files);
    const missing: string[] = [];
    const spec = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g;
    for (const f of files.filter((p) => p.endsWith('.js'))) {
      for (const m of readFileSync(`${ROOT}/${f}`, 'utf8').matchAll(spec)) {
        const target = posix.normalize(posix.join(posix.dirname(f), m[2]!));
        if (!shipped.has(target)) missing.push(`${f} -> ${m[2]}`);
      }
    }
    expect(files.filter((p) => p.endsWith('.js')).length).toBeGreaterThan(50);
    expect(missing).toEqual([]);
  });

  it('runs nothing at install: the build needs devDependencies, which an installed package has not', () => {
    // npm runs these when a tarball is installed; `prepare` only for a clone (npm ci) and at pack time.
    for (const s of ['preinstall', 'install', 'postinstall']) expect(pkg.scripts[s]).toBeUndefined();
    expect(pkg.scripts.prepare).toMatch(/tsc -p tsconfig\.build\.json && node scripts\/bundle\.mjs/);
    expect(pkg.private).toBe(true);
  });
});
