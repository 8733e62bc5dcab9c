// The lab's GCE metadata server (src/lab/metadata-server.ts) over real HTTP:
// GCE's header rules, the paths Google's libraries and kube-ha ask, and
// kube-ha's own client reading the project from it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchMetadataProject } from '../../src/cli/gcloud-config.js';
import { projectNumber } from '../../src/lab/compute/ids.js';
import {
  type MetadataInstance,
  type RunningMetadataServer,
  startMetadataServer,
} from '../../src/lab/metadata-server.js';

const instance: MetadataInstance = {
  id: '4611686018427387999',
  name: 'kubernetes-master-x7k',
  zone: 'https://www.googleapis.com/compute/v1/projects/p1/zones/us-central1-b',
  machineType: 'zones/us-central1-b/machineTypes/e2-standard-2',
  tags: { items: ['kubernetes-master'] },
  networkInterfaces: [
    { networkIP: '10.40.0.7', network: 'global/networks/default', accessConfigs: [{ natIP: '34.1.2.3' }] },
  ],
  metadata: {
    items: [
      { key: 'cluster-name', value: 'kubernetes' },
      { key: 'kube-env', value: "ZONE: 'us-central1-b'\n" },
    ],
  },
};

let md: RunningMetadataServer;
let reads = 0;
let failing = false;

beforeAll(async () => {
  md = await startMetadataServer(
    {
      project: 'p1',
      instance: async () => {
        reads++;
        if (failing) throw new Error('compute down');
        return instance;
      },
      cacheMs: 0,
    },
    { host: '127.0.0.1' },
  );
});
afterAll(async () => {
  await md.close();
});

const get = (path: string, headers: Record<string, string> = { 'Metadata-Flavor': 'Google' }) =>
  fetch(`http://${md.host}${path}`, { headers, redirect: 'manual', signal: AbortSignal.timeout(3000) });

describe('the lab metadata server', () => {
  it('answers as the instance, with Metadata-Flavor: Google on every answer', async () => {
    const want: Record<string, string> = {
      '/computeMetadata/v1/project/project-id': 'p1',
      '/computeMetadata/v1/project/numeric-project-id': projectNumber('p1'),
      '/computeMetadata/v1/instance/name': 'kubernetes-master-x7k',
      '/computeMetadata/v1/instance/id': '4611686018427387999',
      '/computeMetadata/v1/instance/zone': `projects/${projectNumber('p1')}/zones/us-central1-b`,
      '/computeMetadata/v1/instance/hostname': 'kubernetes-master-x7k.us-central1-b.c.p1.internal',
      '/computeMetadata/v1/instance/network-interfaces/0/ip': '10.40.0.7',
      '/computeMetadata/v1/instance/network-interfaces/0/access-configs/0/external-ip': '34.1.2.3',
      '/computeMetadata/v1/instance/attributes/cluster-name': 'kubernetes',
      '/computeMetadata/v1/instance/attributes/kube-env': "ZONE: 'us-central1-b'\n",
      '/computeMetadata/v1/instance/tags': '["kubernetes-master"]',
    };
    for (const [path, body] of Object.entries(want)) {
      const res = await get(path);
      expect({
        path,
        status: res.status,
        flavor: res.headers.get('metadata-flavor'),
        body: await res.text(),
      }).toEqual({ path, status: 200, flavor: 'Google', body });
    }
  });

  it('refuses without the header (403) or with X-Forwarded-For, as GCE does; the root answers for detection', async () => {
    const bare = await get('/computeMetadata/v1/project/project-id', {});
    expect([bare.status, bare.headers.get('metadata-flavor')]).toEqual([403, 'Google']);
    expect(await bare.text()).not.toContain('p1');
    const wrong = await get('/computeMetadata/v1/project/project-id', { 'Metadata-Flavor': 'google' });
    expect(wrong.status).toBe(403);
    const forwarded = await get('/computeMetadata/v1/project/project-id', {
      'Metadata-Flavor': 'Google',
      'X-Forwarded-For': '10.0.0.1',
    });
    expect(forwarded.status).toBe(403);
    const root = await get('/', {});
    expect([root.status, root.headers.get('metadata-flavor')]).toEqual([200, 'Google']);
  });

  it('lists directories, gives them as JSON with ?recursive=true, redirects one asked without its slash, 404s the rest', async () => {
    expect(await (await get('/computeMetadata/v1/instance/attributes/')).text()).toBe(
      'cluster-name\nkube-env\n',
    );
    const nic = (await (
      await get('/computeMetadata/v1/instance/network-interfaces/0/?recursive=true')
    ).json()) as {
      ip: string;
      accessConfigs: Record<string, { externalIp: string }>;
    };
    expect([nic.ip, nic.accessConfigs['0']?.externalIp]).toEqual(['10.40.0.7', '34.1.2.3']);
    // Attribute keys are the user's: not camelCased.
    const attrs = await (await get('/computeMetadata/v1/instance/attributes/?recursive=true')).json();
    expect(Object.keys(attrs as object)).toEqual(['cluster-name', 'kube-env']);
    const dir = await get('/computeMetadata/v1/instance/attributes');
    expect([dir.status, dir.headers.get('location')]).toEqual([
      301,
      '/computeMetadata/v1/instance/attributes/',
    ]);
    expect((await get('/computeMetadata/v1/instance/attributes/nope')).status).toBe(404);
    expect((await get('/computeMetadata/v2/instance/name')).status).toBe(404);
  });

  it('reads the instance anew (metadata set later is seen) and says 503 when Compute cannot say it', async () => {
    const before = reads;
    await get('/computeMetadata/v1/instance/name');
    await get('/computeMetadata/v1/instance/name');
    expect(reads - before).toBe(2);
    failing = true;
    try {
      expect((await get('/computeMetadata/v1/instance/name')).status).toBe(503);
    } finally {
      failing = false;
    }
  });

  it("is what kube-ha's own metadata client reads the project from", async () => {
    expect(await fetchMetadataProject(md.host)).toEqual({ project: 'p1' });
  });
});
