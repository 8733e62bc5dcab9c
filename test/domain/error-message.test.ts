import { describe, expect, it } from 'vitest';
import { errorMessage } from '../../src/sources/etcd-client.js';

describe('etcd error messages as operators read them', () => {
  it.each([
    [
      '4 DEADLINE_EXCEEDED: Deadline exceeded after 1.642s,name resolution: 0.004s,Waiting for LB pick',
      'deadline exceeded: no answer in 1.6 s',
    ],
    [
      '14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.8.1.1:2379. Resolution note: ',
      'connection refused (127.8.1.1:2379)',
    ],
    [
      '14 UNAVAILABLE: No connection established. Last error: null. Resolution note: ',
      'no connection (member down)',
    ],
    ['9 FAILED_PRECONDITION: etcdserver: unhealthy cluster\nmore', 'etcdserver: unhealthy cluster'],
  ])('%s', (raw, expected) => {
    expect(errorMessage(new Error(raw))).toBe(expected);
  });
});
