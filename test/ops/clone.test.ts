import { describe, expect, it } from 'vitest';
import { parseKubeEnv } from '../../src/domain/kube-env.js';
import { CloneError, cloneInstanceResource, type SourceInstance } from '../../src/domain/ops/clone.js';
import { replicaInstanceResource, replicaKubeEnv } from '../../src/lab/topology.js';

const P = 'kube-ha-lab';

interface Cloned {
  name: string;
  machineType: string;
  tags: unknown;
  serviceAccounts: { scopes: string[] }[];
  disks: unknown[];
  networkInterfaces: {
    networkIP?: string;
    accessConfigs: unknown;
    subnetwork?: string;
    aliasIpRanges?: unknown;
  }[];
  metadata: { items: { key: string; value: string }[] };
}

function source(): SourceInstance {
  // What kube-up (and the lab) inserts, plus output-only fields GCE adds.
  const res = replicaInstanceResource(
    P,
    'us-central1-a',
    'kubernetes-master',
    {
      'kube-env': replicaKubeEnv(
        'kubernetes-master',
        'us-central1-a',
        ['kubernetes-master', 'kubernetes-master-x7k'],
        'new',
      ),
      'cluster-name': 'kubernetes',
      // kube-up adds these to one master only: a clone must not carry them.
      kubeconfig: 'apiVersion: v1\nkind: Config\n',
      'kube-master-internal-ip': '10.0.0.9',
    },
    { masterName: 'kubernetes-master', natIP: '127.20.3.1' },
  );
  return {
    ...res,
    zone: `https://compute.googleapis.com/compute/v1/projects/${P}/zones/us-central1-a`,
    disks: [
      {
        boot: true,
        autoDelete: true,
        deviceName: 'persistent-disk-0',
        source: `projects/${P}/zones/us-central1-a/disks/kubernetes-master`,
      },
      {
        boot: false,
        autoDelete: false,
        deviceName: 'master-pd',
        source: `projects/${P}/zones/us-central1-a/disks/kubernetes-master-pd`,
        mode: 'READ_WRITE',
      },
    ],
    networkInterfaces: [
      {
        network: `projects/${P}/global/networks/default`,
        subnetwork: `projects/${P}/regions/us-central1/subnetworks/default`,
        // GCE returns the CIDR it allocated from the secondary range.
        aliasIpRanges: [{ ipCidrRange: '10.64.3.0/24', subnetworkRangeName: 'pods-default' }],
        accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT', networkTier: 'PREMIUM' }],
      },
    ],
  } as SourceInstance;
}

const OPTS = {
  project: P,
  zone: 'us-central1-c',
  name: 'kubernetes-master-aaa',
  initialCluster: ['kubernetes-master', 'kubernetes-master-x7k', 'kubernetes-master-aaa'],
  bootDisk: { sourceImage: 'projects/cos-cloud/global/images/cos-113', sizeGb: '20', type: 'pd-standard' },
  dataDisk: 'kubernetes-master-aaa-pd',
  networkIP: null,
};

describe('cloneInstanceResource', () => {
  it("copies the replica's configuration into the new zone and joins the existing etcd clusters", () => {
    const r = cloneInstanceResource(source(), OPTS) as unknown as Cloned;
    expect(r.name).toBe('kubernetes-master-aaa');
    expect(r.machineType).toBe(`projects/${P}/zones/us-central1-c/machineTypes/e2-standard-2`);
    expect(r.tags).toEqual({ items: ['kubernetes-master'] });
    expect(r.serviceAccounts[0]?.scopes).toContain('https://www.googleapis.com/auth/compute');
    expect(r.disks[0]).toMatchObject({
      boot: true,
      initializeParams: {
        sourceImage: OPTS.bootDisk.sourceImage,
        diskType: `projects/${P}/zones/us-central1-c/diskTypes/pd-standard`,
      },
    });
    expect(r.disks[1]).toEqual({
      boot: false,
      autoDelete: false,
      type: 'PERSISTENT',
      deviceName: 'master-pd',
      mode: 'READ_WRITE',
      source: `projects/${P}/zones/us-central1-c/disks/kubernetes-master-aaa-pd`,
    });
    // No static IP: it belongs to the load balancer (or the first replica).
    expect(r.networkInterfaces[0]?.accessConfigs).toEqual([
      { name: 'External NAT', type: 'ONE_TO_ONE_NAT', networkTier: 'PREMIUM' },
    ]);
    expect(r.networkInterfaces[0]?.networkIP).toBeUndefined();
    const items = r.metadata.items;
    expect(items.find((i) => i.key === 'cluster-name')?.value).toBe('kubernetes');
    const env = parseKubeEnv(items.find((i) => i.key === 'kube-env')!.value);
    expect(env.INITIAL_ETCD_CLUSTER).toBe('kubernetes-master,kubernetes-master-x7k,kubernetes-master-aaa');
    expect(env.INITIAL_ETCD_CLUSTER_STATE).toBe('existing');
    expect(env.CLUSTER_NAME).toBe('kubernetes');
    expect(items.map((i) => i.key)).not.toContain('kubeconfig');
    expect(items.map((i) => i.key)).not.toContain('kube-master-internal-ip');
    // make-gcloud-network-argument: the same subnetwork, a pods range of the same size (not the same CIDR).
    expect(r.networkInterfaces[0]?.subnetwork).toBe(`projects/${P}/regions/us-central1/subnetworks/default`);
    expect(r.networkInterfaces[0]?.aliasIpRanges).toEqual([
      { subnetworkRangeName: 'pods-default', ipCidrRange: '/24' },
    ]);
  });

  it('uses a reserved internal IP when given', () => {
    const r = cloneInstanceResource(source(), { ...OPTS, networkIP: '127.20.1.9' }) as unknown as Cloned;
    expect(r.networkInterfaces[0]?.networkIP).toBe('127.20.1.9');
  });

  it('refuses a source that is not a kube-up replica', () => {
    const s = source();
    s.metadata = { items: [] };
    expect(() => cloneInstanceResource(s, OPTS)).toThrow(CloneError);
    const t = source();
    t.disks = t.disks!.filter((d) => d.boot);
    expect(() => cloneInstanceResource(t, OPTS)).toThrow(/master-pd/);
  });
});
