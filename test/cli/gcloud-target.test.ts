// Targets found the way gcloud and kube-up find them (issue 10 item 1): the
// gcloud configuration on disk, the environment, and a metadata server this
// test starts on loopback (never 169.254.169.254).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fetchMetadataProject, metadataServerOf, readGcloudConfig } from '../../src/cli/gcloud-config.js';
import { resolveTarget, resolveTargetAsync } from '../../src/cli/target-flags.js';
import { UsageError } from '../../src/cli/usage.js';

const root = mkdtempSync(join(tmpdir(), 'kube-ha-gcloud-'));
const base = { HOME: '/nonexistent' } as NodeJS.ProcessEnv;

/** A gcloud config dir with these configurations, the first active unless `active` says otherwise. */
function gcloudDir(configs: Record<string, string>, active?: string): string {
  const dir = mkdtempSync(join(root, 'cfg-'));
  mkdirSync(join(dir, 'configurations'));
  for (const [name, text] of Object.entries(configs))
    writeFileSync(join(dir, 'configurations', `config_${name}`), text);
  const first = active ?? Object.keys(configs)[0];
  if (first) writeFileSync(join(dir, 'active_config'), first);
  return dir;
}

const tls = (() => {
  const dir = mkdtempSync(join(root, 'tls-'));
  for (const f of ['ca.crt', 'c.crt', 'c.key']) writeFileSync(join(dir, f), 'x');
  return {
    ETCDCTL_CACERT: join(dir, 'ca.crt'),
    ETCDCTL_CERT: join(dir, 'c.crt'),
    ETCDCTL_KEY: join(dir, 'c.key'),
  };
})();

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the active gcloud configuration', () => {
  it('gives project and region; CLOUDSDK_ACTIVE_CONFIG_NAME picks another configuration', () => {
    const dir = gcloudDir(
      {
        lab: '[core]\nproject = kube-ha-lab\n[compute]\nregion = us-central1\n',
        other: '[core]\nproject = other-proj\n[compute]\nzone = europe-west1-d\n',
      },
      'lab',
    );
    const t = resolveTarget({}, { ...base, CLOUDSDK_CONFIG: dir });
    expect([t.project, t.region, t.compute]).toEqual(['kube-ha-lab', 'us-central1', { endpoint: null }]);
    const o = resolveTarget({}, { ...base, CLOUDSDK_CONFIG: dir, CLOUDSDK_ACTIVE_CONFIG_NAME: 'other' });
    expect([o.project, o.region]).toEqual(['other-proj', 'europe-west1']);
  });

  it('defaults to ~/.config/gcloud and the configuration named default', () => {
    const home = mkdtempSync(join(root, 'home-'));
    mkdirSync(join(home, '.config', 'gcloud', 'configurations'), { recursive: true });
    writeFileSync(
      join(home, '.config', 'gcloud', 'configurations', 'config_default'),
      '[core]\nproject = home-proj\n[compute]\nzone = asia-east1-b\n',
    );
    expect(readGcloudConfig({ HOME: home })).toMatchObject({
      name: 'default',
      props: { project: 'home-proj' },
    });
    const t = resolveTarget({}, { HOME: home });
    expect([t.project, t.region]).toEqual(['home-proj', 'asia-east1']);
  });

  it('the environment beats the configuration, flags beat both', () => {
    const dir = gcloudDir({ c: '[core]\nproject = cfg-proj\n[compute]\nregion = us-central1\n' });
    const env = {
      ...base,
      CLOUDSDK_CONFIG: dir,
      CLOUDSDK_CORE_PROJECT: 'env-proj',
      KUBE_GCE_ZONE: 'us-east1-b',
    };
    const t = resolveTarget({}, env);
    expect([t.project, t.region]).toEqual(['env-proj', 'us-east1']);
    const f = resolveTarget({ project: 'flag-proj', zone: 'europe-west4-a' }, env);
    expect([f.project, f.region]).toEqual(['flag-proj', 'europe-west4']);
  });

  it("a configuration name that is not one of gcloud's is refused (it would name another file)", () => {
    expect(() => resolveTarget({}, { ...base, CLOUDSDK_ACTIVE_CONFIG_NAME: '../../etc/passwd' })).toThrow(
      /CLOUDSDK_ACTIVE_CONFIG_NAME: '..\/..\/etc\/passwd' is not a gcloud configuration name/,
    );
  });

  it('etcd endpoints alone stay etcd-only, whatever the configuration says', () => {
    const dir = gcloudDir({ c: '[core]\nproject = cfg-proj\n[compute]\nregion = us-central1\n' });
    const t = resolveTarget({ 'etcd-endpoints': 'https://10.0.0.2:2379' }, { ...base, CLOUDSDK_CONFIG: dir });
    expect(t.compute).toBeNull();
    // ... and what it does not use is not judged.
    const odd = { ...base, GOOGLE_CLOUD_PROJECT: 'Not/A Project', CLOUDSDK_COMPUTE_ZONE: 'nowhere' };
    expect(resolveTarget({ 'etcd-endpoints': 'https://10.0.0.2:2379' }, odd).compute).toBeNull();
    expect(() => resolveTarget({ zone: 'us-central1-b' }, odd)).toThrow(
      /GOOGLE_CLOUD_PROJECT: .* is not a project ID/,
    );
  });
});

describe('region from a zone, and the flags', () => {
  it('--project P --zone us-central1-b needs no --region', () => {
    const t = resolveTarget({ project: 'p', zone: 'us-central1-b' }, base);
    expect([t.project, t.region]).toEqual(['p', 'us-central1']);
  });

  it.each([
    [{ project: 'p', zone: 'us-central1' }, /--zone: 'us-central1' is not a GCE zone/],
    [
      { project: 'p', region: 'us-east1', zone: 'us-central1-b' },
      /--zone us-central1-b is not in --region us-east1/,
    ],
    [{ project: 'p', region: 'US' }, /--region: 'US' is not a GCE region/],
    [{ project: 'p"; drop', region: 'us-east1' }, /--project: .* is not a project ID/],
    [
      { project: 'p' },
      /--region is required .* a zone: --region, --zone, CLOUDSDK_COMPUTE_REGION, KUBE_GCE_ZONE/,
    ],
    [
      { project: 'p', region: 'us-east1', 'master-name': 'x" OR name eq "y' },
      /--master-name: 'x" OR name eq "y' is not a GCE resource name/,
    ],
    [{ lab: true, 'master-name': 'x" OR name eq "y' }, /is not a GCE resource name/],
    [{ lab: true, zone: 'nope' }, /--zone: 'nope' is not a GCE zone/],
  ])('refuses %j', (values, reason) => {
    expect(() => resolveTarget(values, base)).toThrow(UsageError);
    expect(() => resolveTarget(values, base)).toThrow(reason);
  });

  it('KUBE_GCE_INSTANCE_PREFIX names the master as kube-up does, and is checked too', () => {
    const t = resolveTarget(
      { project: 'p', region: 'us-east1' },
      { ...base, KUBE_GCE_INSTANCE_PREFIX: 'e2e-me' },
    );
    expect(t.masterName).toBe('e2e-me-master');
    expect(resolveTarget({ project: 'p', region: 'us-east1', 'master-name': 'm' }, base).masterName).toBe(
      'm',
    );
    expect(() =>
      resolveTarget({ project: 'p', region: 'us-east1' }, { ...base, KUBE_GCE_INSTANCE_PREFIX: 'Bad' }),
    ).toThrow(/KUBE_GCE_INSTANCE_PREFIX 'Bad'.*is not a GCE resource name/);
  });
});

describe("gcloud's Compute endpoint override", () => {
  it('CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE sets the endpoint as --compute-endpoint does, which wins', () => {
    const env = {
      ...base,
      CLOUDSDK_CORE_PROJECT: 'p',
      CLOUDSDK_COMPUTE_REGION: 'us-central1',
      CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: 'http://127.0.0.1:8089/compute/v1/',
    };
    expect(resolveTarget({}, env).compute).toEqual({ endpoint: 'http://127.0.0.1:8089' });
    expect(resolveTarget({ 'compute-endpoint': 'http://127.0.0.2:1/' }, env).compute).toEqual({
      endpoint: 'http://127.0.0.2:1',
    });
    // The override asks for GCE by itself, even beside etcd endpoints.
    expect(resolveTarget({ 'etcd-endpoints': 'https://10.0.0.2:2379' }, env).compute).not.toBeNull();
    expect(() =>
      resolveTarget({}, { ...env, CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: 'http://h:1/prefix/compute/v1/' }),
    ).toThrow(/CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: .* has the path/);
  });
});

describe('etcd from the VMs (a bastion or a laptop)', () => {
  const env = { ...base, ...tls, CLOUDSDK_CORE_PROJECT: 'p', CLOUDSDK_COMPUTE_REGION: 'us-central1' };

  it('TLS files and a GCE target but no endpoints: seeds derived from the VMs, when the caller asks', () => {
    const t = resolveTarget({}, env, { deriveEtcd: true });
    expect(t.etcd.main).toEqual({
      endpoints: [],
      tls: { caFile: tls.ETCDCTL_CACERT, certFile: tls.ETCDCTL_CERT, keyFile: tls.ETCDCTL_KEY },
    });
    expect(t.etcd.events).toEqual({ endpoints: [], tls: null });
    // Callers whose etcd clients start from seeds (the operations) get none, as before.
    expect(resolveTarget({}, env).etcd).toEqual({ main: null, events: null });
    // Without TLS files there is nothing to reach etcd main with: Compute only.
    expect(
      resolveTarget({ project: 'p', region: 'us-central1' }, base, { deriveEtcd: true }).etcd.main,
    ).toBeNull();
  });
});

describe('the metadata server, only when nothing else names the project', () => {
  let server: Server;
  let host: string;
  let hits = 0;
  let answer: { status: number; flavor: boolean; body: string; delayMs?: number } = {
    status: 200,
    flavor: true,
    body: 'md-proj',
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      // The project is asked once; the instance's name, zone and cluster-name beside it (404 here).
      if (req.url === '/computeMetadata/v1/project/project-id') hits++;
      const ok =
        req.url === '/computeMetadata/v1/project/project-id' && req.headers['metadata-flavor'] === 'Google';
      const send = () => {
        res.writeHead(ok ? answer.status : 403, answer.flavor ? { 'Metadata-Flavor': 'Google' } : {});
        res.end(ok ? answer.body : 'missing Metadata-Flavor header');
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  afterEach(() => {
    hits = 0;
    answer = { status: 200, flavor: true, body: 'md-proj' };
  });

  const notGce = join(root, 'product_name-absent');

  it('names the project on a GCE VM (GCE_METADATA_HOST), beside a region from the environment', async () => {
    const t = await resolveTargetAsync(
      { zone: 'us-central1-b' },
      { ...base, GCE_METADATA_HOST: host },
      { productNameFile: notGce },
    );
    expect([t.project, t.region]).toEqual(['md-proj', 'us-central1']);
    expect(hits).toBe(1);
  });

  it('is not asked when flags, environment or configuration name the project, nor for etcd-only', async () => {
    const env = { ...base, GCE_METADATA_HOST: host };
    await resolveTargetAsync({ project: 'p', zone: 'us-central1-b' }, env);
    await resolveTargetAsync({ zone: 'us-central1-b' }, { ...env, CLOUDSDK_CORE_PROJECT: 'p' });
    await resolveTargetAsync({ 'etcd-endpoints': 'https://10.0.0.2:2379' }, env);
    expect(hits).toBe(0);
  });

  it('is not asked off GCE: no GCE_METADATA_HOST and a machine that is not Google Compute Engine', async () => {
    expect(metadataServerOf(base, notGce)).toBeNull();
    const gce = join(root, 'product_name-gce');
    writeFileSync(gce, 'Google Compute Engine\n');
    expect(metadataServerOf(base, gce)).toBe('169.254.169.254');
    await expect(
      resolveTargetAsync({ zone: 'us-central1-b' }, base, { productNameFile: notGce }),
    ).rejects.toThrow(/--project is required/);
  });

  it('an answer without Metadata-Flavor, an error or silence past the deadline is no project, and says why', async () => {
    answer = { status: 200, flavor: false, body: 'evil' };
    expect(await fetchMetadataProject(host)).toEqual({
      error: expect.stringMatching(/not a GCE metadata server/),
    });
    answer = { status: 404, flavor: true, body: '' };
    expect(await fetchMetadataProject(host)).toEqual({ error: expect.stringMatching(/HTTP 404/) });
    answer = { status: 200, flavor: true, body: 'late', delayMs: 2000 };
    const started = Date.now();
    await expect(
      resolveTargetAsync(
        { zone: 'us-central1-b' },
        { ...base, GCE_METADATA_HOST: host },
        { metadataTimeoutMs: 200 },
      ),
    ).rejects.toThrow(/--project is required .*did not answer in 200 ms/);
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
