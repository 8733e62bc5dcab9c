import { describe, expect, it } from 'vitest';
import { initialEtcdCluster, parseKubeEnv, renderKubeEnv } from '../../src/domain/kube-env.js';
import { isReplicaName, newReplicaName, regionOfZone } from '../../src/domain/names.js';

describe('kube-env', () => {
  it('round-trips values with quotes and colons', () => {
    const env = { A: "it's: here", INITIAL_ETCD_CLUSTER: 'm,m-abc', EMPTY: '' };
    expect(parseKubeEnv(renderKubeEnv(env))).toEqual(env);
  });

  it('reads the etcd bootstrap keys', () => {
    const env = parseKubeEnv(
      "INITIAL_ETCD_CLUSTER: 'kubernetes-master, kubernetes-master-x7k'\nINITIAL_ETCD_CLUSTER_STATE: 'existing'\n",
    );
    expect(initialEtcdCluster(env)).toEqual({
      members: ['kubernetes-master', 'kubernetes-master-x7k'],
      state: 'existing',
    });
    expect(initialEtcdCluster({})).toEqual({ members: [], state: 'new' });
  });
});

describe('names', () => {
  it('regions and replica names', () => {
    expect(regionOfZone('europe-west1-b')).toBe('europe-west1');
    expect(isReplicaName('kubernetes-master', 'kubernetes-master-x7k')).toBe(true);
    expect(isReplicaName('kubernetes-master', 'kubernetes-master')).toBe(true);
    expect(isReplicaName('kubernetes-master', 'kubernetes-minion-1')).toBe(false);
    expect(isReplicaName('kubernetes-master', 'kubernetes-master-ip')).toBe(true);
  });

  it("kube-up's suffix rule: not a substring of an existing name", () => {
    const seq = [0, 0, 0, 1 / 36, 1 / 36, 1 / 36];
    let i = 0;
    const name = newReplicaName('m', ['m-aaa'], () => seq[i++] ?? 0.5);
    expect(name).toBe('m-bbb');
  });
});
