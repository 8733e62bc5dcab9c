import { describe, expect, it } from 'vitest';
import { verifyProblems } from '../../src/ops/runners.js';
import { crashed, status } from './fixtures.js';

const names = ['kubernetes-master', 'kubernetes-master-x7k', 'kubernetes-master-q2p'];

describe('the final verification', () => {
  it('passes on the expected healthy result', () => {
    expect(verifyProblems(status(3), new Set(names), true)).toEqual([]);
    expect(verifyProblems(status(1), new Set(names.slice(0, 1)), false)).toEqual([]);
  });

  it('names each thing that is wrong', () => {
    expect(verifyProblems(status(3), new Set(names.slice(0, 2)), true)).toEqual([
      'kubernetes-master-q2p still present',
      'kubernetes-master-q2p still in the target pool',
    ]);
    expect(verifyProblems(crashed(3, 2), new Set(names), true)).toEqual([
      'kubernetes-master-q2p unhealthy in etcd main',
      'kubernetes-master-q2p unhealthy in etcd events',
    ]);
    expect(verifyProblems(status(2), new Set(names.slice(0, 1)), false)).toContain(
      'the forwarding rule still exists',
    );
    const s = status(1);
    s.apiserverIP = { address: '127.20.3.1', attachedTo: null };
    expect(verifyProblems(s, new Set(names.slice(0, 1)), false)).toEqual([
      'the static IP is on nothing, not kubernetes-master',
    ]);
  });
});
