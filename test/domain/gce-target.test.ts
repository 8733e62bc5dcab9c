import { describe, expect, it } from 'vitest';
import {
  computeEndpointOf,
  MASTER_NAME_MAX,
  masterNameProblem,
  pickLocation,
  pickMasterName,
  projectProblem,
  zoneProblem,
} from '../../src/domain/gce-target.js';
import { activeConfigName, gcloudProperties, parseIni } from '../../src/domain/gcloud-config.js';
import {
  derivedSeedsAdvice,
  KUBE_UP_CLIENT,
  noSeedsReason,
  seedsFromHosts,
} from '../../src/domain/member-endpoints.js';

describe("gcloud's configuration files", () => {
  it('parses sections, both separators, comments, case-insensitive keys and continuations', () => {
    const ini = parseIni(
      [
        '# a comment',
        '[core]',
        'Project = my-project ',
        'account: me@example.com',
        '; another',
        '',
        '[compute]',
        'region=europe-west1',
        'zone = europe-west1-b',
        '[metrics]',
        'environment = a',
        '  b',
        'orphan line without separator',
      ].join('\r\n'),
    );
    expect(ini.core).toEqual({ project: 'my-project', account: 'me@example.com' });
    expect(ini.compute).toEqual({ region: 'europe-west1', zone: 'europe-west1-b' });
    expect(ini.metrics).toEqual({ environment: 'a\nb' });
    expect(gcloudProperties(ini)).toEqual({
      project: 'my-project',
      region: 'europe-west1',
      zone: 'europe-west1-b',
    });
  });

  it('keys before any section and empty values are ignored', () => {
    const ini = parseIni('project = stray\n[core]\nproject =\n');
    expect(gcloudProperties(ini)).toEqual({ project: null, region: null, zone: null });
  });

  it('the active configuration: CLOUDSDK_ACTIVE_CONFIG_NAME, else active_config, else default', () => {
    expect(activeConfigName('env-one', 'file-one\n')).toBe('env-one');
    expect(activeConfigName(undefined, 'file-one\n')).toBe('file-one');
    expect(activeConfigName('  ', null)).toBe('default');
    expect(activeConfigName(undefined, '\n')).toBe('default');
  });
});

describe('where the cluster is', () => {
  const config = { name: 'work', props: { project: 'cfg-proj', region: 'asia-east1', zone: 'asia-east1-a' } };

  it('flags, then the environment, then the configuration, then the metadata server', () => {
    const full = pickLocation({
      flags: { project: 'flag-proj', zone: 'us-east1-c' },
      env: { CLOUDSDK_CORE_PROJECT: 'env-proj', CLOUDSDK_COMPUTE_REGION: 'europe-west4' },
      config,
      metadataProject: 'md-proj',
    });
    expect(full.project).toEqual({ value: 'flag-proj', from: '--project' });
    // --zone (a flag) beats CLOUDSDK_COMPUTE_REGION (the environment).
    expect(full.region).toEqual({ value: 'us-east1', from: '--zone' });
    expect(full.zone?.value).toBe('us-east1-c');

    const env = pickLocation({
      flags: {},
      env: { GOOGLE_CLOUD_PROJECT: 'gcp-proj', KUBE_GCE_ZONE: 'us-west1-b', CLOUDSDK_COMPUTE_REGION: 'x-y1' },
      config,
    });
    expect(env.project).toEqual({ value: 'gcp-proj', from: 'GOOGLE_CLOUD_PROJECT' });
    // A region given as such beats one derived from a zone at the same level.
    expect(env.region).toEqual({ value: 'x-y1', from: 'CLOUDSDK_COMPUTE_REGION' });

    const kubeUp = pickLocation({ flags: {}, env: { KUBE_GCE_ZONE: 'us-west1-b' }, config });
    expect(kubeUp.region).toEqual({ value: 'us-west1', from: 'KUBE_GCE_ZONE' });

    const cfg = pickLocation({ flags: {}, env: {}, config, metadataProject: 'md-proj' });
    expect(cfg.project).toEqual({ value: 'cfg-proj', from: "gcloud configuration 'work' (core/project)" });
    expect(cfg.region?.value).toBe('asia-east1');

    const zoneOnly = pickLocation({
      flags: {},
      env: {},
      config: { name: 'z', props: { project: null, region: null, zone: 'us-central1-b' } },
      metadataProject: 'md-proj',
    });
    expect(zoneOnly.region).toEqual({
      value: 'us-central1',
      from: "gcloud configuration 'z' (compute/zone)",
    });
    expect(zoneOnly.project).toEqual({ value: 'md-proj', from: 'the GCE metadata server' });

    expect(pickLocation({ flags: {}, env: {}, config: null })).toEqual({
      project: null,
      region: null,
      zone: null,
    });
  });

  it('zones and projects that cannot be used are named with their source', () => {
    expect(zoneProblem({ value: 'us-central1-b', from: '--zone' })).toBeNull();
    expect(zoneProblem({ value: 'us-central1', from: '--zone' })).toMatch(
      /--zone: 'us-central1' is not a GCE zone/,
    );
    expect(zoneProblem({ value: 'US-central1-b', from: 'KUBE_GCE_ZONE' })).toMatch(/^KUBE_GCE_ZONE/);
    expect(projectProblem({ value: 'example.com:my-proj', from: '--project' })).toBeNull();
    expect(projectProblem({ value: 'a/../b', from: 'x' })).toMatch(/not a project ID/);
  });
});

describe('the master name', () => {
  it("--master-name, else kube-up's KUBE_GCE_INSTANCE_PREFIX-master, else kubernetes-master", () => {
    expect(pickMasterName('m1', 'pre').value).toBe('m1');
    expect(pickMasterName(undefined, 'e2e-test-me').value).toBe('e2e-test-me-master');
    expect(pickMasterName(undefined, undefined).value).toBe('kubernetes-master');
  });

  it.each([
    ['x" OR name eq "y', /is not a GCE resource name/],
    ['Kubernetes-master', /is not a GCE resource name/],
    ['1master', /is not a GCE resource name/],
    ['master-', /is not a GCE resource name/],
    ['a'.repeat(MASTER_NAME_MAX + 1), /at most 47.*fits GCE's 63/],
  ])('refuses %j', (value, reason) => {
    expect(masterNameProblem({ value, from: '--master-name' })).toMatch(reason);
  });

  it('accepts the longest name whose derived names fit', () => {
    const m = 'a'.repeat(MASTER_NAME_MAX);
    expect(masterNameProblem({ value: m, from: '--master-name' })).toBeNull();
    expect(`${m}-abc-internal-ip`).toHaveLength(63);
  });
});

describe("gcloud's Compute endpoint override", () => {
  it.each([
    ['http://127.0.0.1:8080/compute/v1/', 'http://127.0.0.1:8080'],
    ['http://127.0.0.1:8080/compute/v1', 'http://127.0.0.1:8080'],
    ['http://127.9.0.1:8080', 'http://127.9.0.1:8080'],
    ['https://compute.example.internal/compute/v1/', 'https://compute.example.internal'],
    ['http://[::1]:9000/', 'http://[::1]:9000'],
    ['https://compute.googleapis.com/compute/v1/', null],
  ])('%s -> %s', (url, endpoint) => {
    expect(computeEndpointOf(url, 'X')).toEqual({ endpoint });
  });

  it.each([
    ['not a url', /is not a URL/],
    ['ftp://h/compute/v1/', /must be http or https/],
    ['http://u:p@h/compute/v1/', /credentials/],
    ['http://h/compute/beta/', /has the path \/compute\/beta\/.*adds \/compute\/v1\//],
  ])('refuses %s', (url, reason) => {
    const r = computeEndpointOf(url, 'CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE');
    expect('error' in r && r.error).toMatch(reason);
  });
});

describe('etcd seeds from the VMs', () => {
  it("every VM's internal IP on the cluster's client port, in a stable order", () => {
    const hosts = new Map([
      ['kubernetes-master-b', '10.0.0.3'],
      ['kubernetes-master', '10.0.0.2'],
      ['v6', 'fd00::5'],
    ]);
    expect(seedsFromHosts(hosts, KUBE_UP_CLIENT.main)).toEqual([
      'https://10.0.0.2:2379',
      'https://10.0.0.3:2379',
      'https://[fd00::5]:2379',
    ]);
    expect(seedsFromHosts(hosts, KUBE_UP_CLIENT.events)[0]).toBe('http://10.0.0.2:4002');
  });

  it('says what to set when none answers', () => {
    const msg = derivedSeedsAdvice(
      'main',
      ['https://10.0.0.2:2379'],
      'kubernetes-master',
      'connect ECONNREFUSED',
    );
    expect(msg).toMatch(/no etcd main member answered at its VM's address \(https:\/\/10\.0\.0\.2:2379\)/);
    expect(msg).toMatch(/ETCD_LISTEN_CLIENT_IP/);
    expect(msg).toMatch(/tcp:2379.*tcp:4002/);
    expect(msg).toMatch(/target tag kubernetes-master/);
    expect(noSeedsReason(false)).toMatch(/not known/);
    expect(noSeedsReason(true)).toMatch(/no replica VM/);
  });
});
