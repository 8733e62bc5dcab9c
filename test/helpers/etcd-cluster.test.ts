import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from './etcd-cluster.js';

describe('test etcd cluster harness', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster(3);
  });
  afterAll(async () => cluster?.stop());

  it('starts three real members that agree on membership', async () => {
    const res = await fetch(`${cluster.endpoints[0]}/v3/cluster/member/list`, { method: 'POST', body: '{}' });
    const body = (await res.json()) as { members: { name: string }[] };
    expect(body.members.map((m) => m.name).sort()).toEqual(['m0', 'm1', 'm2']);
  });
});

/** Command lines of the running processes that mention `text`. */
function processesWith(text: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ');
        return cmd.includes(text) ? [cmd] : [];
      } catch {
        return []; // ended meanwhile
      }
    });
}

describe('a test cluster that never reports healthy', () => {
  it('is stopped and removed before the error reaches the test', async () => {
    const err = await startTestCluster(2, { healthTimeoutMs: 0 }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/not healthy after 0 ms/);
    const dir = /its cluster in (\S+) was stopped/.exec(err?.message ?? '')?.[1];
    expect(dir).toMatch(/kube-ha-etcd-/);
    expect(existsSync(dir!)).toBe(false);
    expect(processesWith(dir!)).toEqual([]);
  });
});
