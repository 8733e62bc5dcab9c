import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertDistCurrent } from './dist-current.js';

const root = mkdtempSync(join(tmpdir(), 'kube-ha-dist-current-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes `rel` under the root with its change time `at` (seconds). */
function file(rel: string, at: number): void {
  const p = join(root, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, '');
  utimesSync(p, at, at);
}

describe('assertDistCurrent', () => {
  it('refuses a missing build, a source changed after the build, and passes a current one', () => {
    file('src/cli/main.ts', 1000);
    expect(() => assertDistCurrent(root)).toThrow(/dist\/ is not built: run `npm run --silent build`/);
    file('dist/.tsbuildinfo', 2000);
    expect(() => assertDistCurrent(root)).not.toThrow();
    file('src/ui/deep/card.ts', 3000);
    expect(() => assertDistCurrent(root)).toThrow(
      /dist\/ is older than src\/ui\/deep\/card\.ts .*npm run --silent build/,
    );
    // The bundle, written after that source, is what bin/kube-ha.js runs.
    file('dist/bundle/main.js', 4000);
    expect(() => assertDistCurrent(root)).not.toThrow();
  });
});
