// The fault matrix's failpoints: parsed strictly, and a set one really kills.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFailpoints } from '../../src/ops/failpoints.js';

describe('failpoints', () => {
  it('parses kill-before / kill-after[-undo]=STEP and refuses anything else', () => {
    expect(parseFailpoints('kill-after=add.promote.main, kill-before-undo=add.disk')).toEqual([
      { when: 'after', stepId: 'add.promote.main', mode: 'forward' },
      { when: 'before', stepId: 'add.disk', mode: 'undo' },
    ]);
    expect(parseFailpoints(undefined)).toEqual([]);
    expect(() => parseFailpoints('kill-after')).toThrow(/is not kill-before\|kill-after/);
    expect(() => parseFailpoints('sleep=add.disk')).toThrow(/KUBE_HA_FAILPOINTS/);
  });

  it('kills the process with SIGKILL at the named step, and only there', () => {
    // The built module (npm test builds first): a child process of plain Node 20.
    const mod = join(import.meta.dirname, '..', '..', 'dist', 'ops', 'failpoints.js');
    const script = `const { failpoint } = await import(${JSON.stringify(mod)});
failpoint('after', 'add.disk', 'forward'); console.log('passed add.disk');
failpoint('after', 'add.instance', 'forward'); console.log('not reached');`;
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, KUBE_HA_FAILPOINTS: 'kill-after=add.instance' },
      encoding: 'utf8',
    });
    expect(res.signal).toBe('SIGKILL');
    expect(res.stdout).toContain('passed add.disk');
    expect(res.stdout).not.toContain('not reached');
  });
});
