// On a replica, no flags (issue 10 item 2): who and where kube-ha is comes
// from the metadata server (the lab's own, src/lab/metadata-server.ts, here
// on loopback), the TLS files from kube-up's /etc/srv/kubernetes (a temporary
// directory here), and the seeds are the local members on 127.0.0.1.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchMetadataIdentity } from '../../src/cli/gcloud-config.js';
import { kubeUpEtcdTls, resolveTargetAsync } from '../../src/cli/target-flags.js';
import { masterNameOfInstance } from '../../src/domain/gce-target.js';
import {
  type MetadataInstance,
  type RunningMetadataServer,
  startMetadataServer,
} from '../../src/lab/metadata-server.js';

const root = mkdtempSync(join(tmpdir(), 'kube-ha-replica-'));
const notGce = join(root, 'product_name-absent');
const base = { HOME: '/nonexistent', CLOUDSDK_CONFIG: join(root, 'no-gcloud') } as NodeJS.ProcessEnv;

/** kube-up's /etc/srv/kubernetes with the apiserver's etcd client pair. */
const srvDir = (() => {
  const dir = join(root, 'srv', 'kubernetes');
  mkdirSync(join(dir, 'pki'), { recursive: true });
  for (const f of ['etcd-apiserver-ca.crt', 'etcd-apiserver-client.crt', 'etcd-apiserver-client.key'])
    writeFileSync(join(dir, 'pki', f), 'x');
  return dir;
})();

let instance: MetadataInstance = { name: 'x', zone: 'zones/us-central1-a' };
let md: RunningMetadataServer;
beforeAll(async () => {
  md = await startMetadataServer(
    { project: 'p-md', instance: async () => instance, cacheMs: 0 },
    { host: '127.0.0.1' },
  );
});
afterAll(async () => {
  await md.close();
  rmSync(root, { recursive: true, force: true });
});

const on = (name: string, zone: string, clusterName = 'kubernetes') => {
  instance = {
    name,
    zone: `projects/p-md/zones/${zone}`,
    metadata: { items: [{ key: 'cluster-name', value: clusterName }] },
  };
};
const resolve = (values = {}, env: NodeJS.ProcessEnv = {}, warn: string[] = []) =>
  resolveTargetAsync(
    values,
    { ...base, GCE_METADATA_HOST: md.host, ...env },
    { deriveEtcd: true, productNameFile: notGce, srvDir, warn: (l) => warn.push(l) },
  );

describe('kube-ha on a replica with no flags', () => {
  it('learns project, region and master name from the metadata server, and asks its own members on 127.0.0.1', async () => {
    on('kubernetes-master-x7k', 'us-central1-b');
    const t = await resolve();
    expect([t.project, t.region, t.masterName]).toEqual(['p-md', 'us-central1', 'kubernetes-master']);
    expect(t.compute).toEqual({ endpoint: null });
    expect(t.etcd.main).toEqual({
      endpoints: ['https://127.0.0.1:2379'],
      tls: {
        caFile: join(srvDir, 'pki', 'etcd-apiserver-ca.crt'),
        certFile: join(srvDir, 'pki', 'etcd-apiserver-client.crt'),
        keyFile: join(srvDir, 'pki', 'etcd-apiserver-client.key'),
      },
    });
    expect(t.etcd.events).toEqual({ endpoints: ['http://127.0.0.1:4002'], tls: null });
    expect(t.vantage).toEqual({
      replica: 'kubernetes-master-x7k',
      zone: 'us-central1-b',
      metrics: { main: 'http://127.0.0.1:2382/metrics', events: 'http://127.0.0.1:4002/metrics' },
      notes: [],
    });
  });

  it('takes the flags and the environment over what the metadata server says', async () => {
    on('kubernetes-master', 'us-central1-b');
    const t = await resolve(
      { region: 'europe-west1' },
      {
        CLOUDSDK_CORE_PROJECT: 'p-env',
        CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: 'http://127.0.0.9:8080/compute/v1/',
      },
    );
    expect([t.project, t.region, t.compute?.endpoint]).toEqual([
      'p-env',
      'europe-west1',
      'http://127.0.0.9:8080',
    ]);
    expect(t.vantage?.replica).toBe('kubernetes-master');
  });

  it('is no replica vantage on a VM of another cluster (a bastion): its zone is not the target region', async () => {
    on('bastion-1', 'europe-west1-b', 'tools');
    await expect(resolve()).rejects.toThrow(/--region is required/);
    const t = await resolve({ zone: 'us-central1-c' });
    expect([t.project, t.region, t.masterName, t.vantage, t.etcd.main]).toEqual([
      'p-md',
      'us-central1',
      'kubernetes-master',
      undefined,
      null,
    ]);
  });

  it('with --etcd-endpoints it observes from where they say; the operations (no deriveEtcd) take region and master name, not the local seeds', async () => {
    on('e2e-master-x7k', 'us-central1-b', 'e2e');
    const t = await resolve({ 'etcd-endpoints': 'https://10.0.0.2:2379' });
    expect([t.vantage, t.etcd.main?.endpoints]).toEqual([undefined, ['https://10.0.0.2:2379']]);
    const ops = await resolveTargetAsync(
      {},
      { ...base, GCE_METADATA_HOST: md.host },
      { productNameFile: notGce, srvDir },
    );
    expect([ops.project, ops.region, ops.masterName, ops.vantage, ops.etcd.main]).toEqual([
      'p-md',
      'us-central1',
      'e2e-master',
      undefined,
      null,
    ]);
  });

  it("kube-up's files that cannot be read: one line saying so, and etcd main left out", () => {
    expect(kubeUpEtcdTls(srvDir, (f) => !f.endsWith('.key'))).toEqual({
      unreadable: join(srvDir, 'pki', 'etcd-apiserver-client.key'),
    });
    expect(kubeUpEtcdTls(join(root, 'nowhere'))).toBeNull();
  });

  it('without kube-up files (no client mTLS), etcd main is plain http on 2379 and serves its own metrics', async () => {
    on('kubernetes-master-x7k', 'us-central1-b');
    const warn: string[] = [];
    const t = await resolveTargetAsync(
      {},
      { ...base, GCE_METADATA_HOST: md.host },
      { deriveEtcd: true, productNameFile: notGce, srvDir: join(root, 'nowhere'), warn: (l) => warn.push(l) },
    );
    expect([t.etcd.main, t.vantage?.metrics.main, warn]).toEqual([
      { endpoints: ['http://127.0.0.1:2379'], tls: null },
      'http://127.0.0.1:2379/metrics',
      [],
    ]);
  });

  it('reads the identity in one bounded round (the metadata server answering 404 for a missing attribute)', async () => {
    instance = { name: 'kubernetes-master', zone: 'zones/us-central1-a' };
    expect(await fetchMetadataIdentity(md.host)).toEqual({
      project: { project: 'p-md' },
      instance: { name: 'kubernetes-master', zone: 'us-central1-a', clusterName: null },
    });
  });
});

describe("the master name of the replica kube-ha runs on (kube-up's naming)", () => {
  it.each([
    ['kubernetes-master', 'kubernetes', 'kubernetes-master'],
    ['kubernetes-master-x7k', 'kubernetes', 'kubernetes-master'],
    ['e2e-master-abc', 'e2e', 'e2e-master'],
    ['e2e-master-abc', null, 'e2e-master'],
    ['prod-master', 'other', 'prod-master'],
  ])('%s (cluster-name %s) -> %s', (name, cluster, master) => {
    expect(masterNameOfInstance(name, cluster)?.value).toBe(master);
  });

  it('guesses nothing for a VM not named like a master', () => {
    expect(masterNameOfInstance('bastion-1', 'tools')).toBeNull();
    expect(masterNameOfInstance('kubernetes-master-toolong', null)).toBeNull();
  });
});
