// With no seeds given, EtcdClusterSource asks every VM's address on kube-up's
// client port; where nothing is known or nothing answers it says why and what
// to set. (Members answering at derived seeds: test/integration/status-lab.test.ts.)
import { describe, expect, it } from 'vitest';
import { EtcdClusterSource } from '../../src/sources/etcd.js';

describe('EtcdClusterSource without seeds', () => {
  it('waits for the VMs: nothing to ask before Compute answers, nor when it lists no VM', async () => {
    const s = new EtcdClusterSource('events', { endpoints: [], tls: null }, 500);
    try {
      expect(s.derivesSeeds).toBe(true);
      const before = await s.observe();
      expect(before).toMatchObject({ seeds: [], members: null, statuses: [] });
      expect(before.membersError).toMatch(/none given \(--etcd-endpoints\).*not known/);
      const none = await s.observe({ hosts: Promise.resolve(new Map()) });
      expect(none.membersError).toMatch(/Compute lists no replica VM/);
      // A failed Compute call leaves what was known.
      expect(await s.seeds(Promise.reject(new Error('down')))).toEqual([]);
    } finally {
      s.close();
    }
  });

  it('asks each VM on the client port; when none answers, says what kube-up needs set', async () => {
    // An unbound loopback address: refused at once, nothing else listens there.
    const s = new EtcdClusterSource('events', { endpoints: [], tls: null }, 800, {
      masterName: 'kubernetes-master',
    });
    try {
      const hosts = Promise.resolve(new Map([['kubernetes-master', '127.255.255.254']]));
      const obs = await s.observe({ hosts });
      expect(obs.seeds).toEqual(['http://127.255.255.254:4002']);
      expect(obs.members).toBeNull();
      expect(obs.membersError).toMatch(
        /^no etcd events member answered at its VM's address \(http:\/\/127\.255\.255\.254:4002\): .+ETCD_LISTEN_CLIENT_IP.+target tag kubernetes-master/,
      );
      // Later observations use the addresses learned (the console's pollers pass none).
      expect((await s.observe()).seeds).toEqual(['http://127.255.255.254:4002']);
    } finally {
      s.close();
    }
  });

  it('seeds given are used as they are, whatever the VMs say', async () => {
    const s = new EtcdClusterSource('main', { endpoints: ['https://10.9.9.9:2379'], tls: null }, 500);
    try {
      s.setHosts(new Map([['a', '10.0.0.2']]));
      expect(await s.seeds()).toEqual(['https://10.9.9.9:2379']);
    } finally {
      s.close();
    }
  });
});
