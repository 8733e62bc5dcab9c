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
