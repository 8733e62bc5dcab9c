// The lab configures its VMs as kube-up configures masters (issue 9), and
// kube-ha works on it with the code it would run on GCE:
// - etcd main and events advertise 127.0.0.1 client URLs and peer URLs by
//   instance name (etcdctl's own view);
// - kube-env carries the peer certificate gzip+base64, naming its instance;
// - an add gives the new replica its own peer and server certificates; the
//   clone leaves out what kube-up does not copy;
// - a source whose CA key or boot image is missing is refused at preflight
//   (exit 3), with nothing changed.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKubeEnv, renderKubeEnv } from '../../src/domain/kube-env.js';
import { apiserverEtcdMaterialOf, decodeCert, peerMaterialOf } from '../../src/domain/master-certs.js';
import { readLabContext } from '../../src/lab/context.js';
import { peerCertRefusal } from '../../src/lab/vm.js';
import { labDown, labUp, tempLabDir } from '../helpers/cli.js';
import {
  cli,
  healthyStatus,
  compute as labCompute,
  type OpsLab,
  opsLab,
  status,
} from '../ops/lab-helpers.js';

const lab: OpsLab = opsLab(tempLabDir());

interface Instance {
  name: string;
  zone: string;
  metadata: { fingerprint: string; items?: { key: string; value: string }[] };
  disks: { boot?: boolean; source: string }[];
  networkInterfaces: { networkIP: string; subnetwork?: string; aliasIpRanges?: { ipCidrRange: string }[] }[];
}

const compute = <T>(path: string, init?: RequestInit) => labCompute<T>(lab, path, init);

const instance = (zone: string, name: string) => compute<Instance>(`zones/${zone}/instances/${name}`);
const meta = (i: Instance, key: string) => i.metadata.items?.find((x) => x.key === key)?.value ?? null;

async function setMetadata(i: Instance, key: string, value: string | null): Promise<void> {
  const items = (i.metadata.items ?? []).filter((x) => x.key !== key);
  if (value !== null) items.push({ key, value });
  await compute(`zones/${i.zone.split('/').pop()}/instances/${i.name}/setMetadata`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ fingerprint: i.metadata.fingerprint, items }),
  });
}

/** etcdctl's member list, as an operator would ask it (the server name not checked: it names etcd-<instance>). */
function memberList(
  cluster: 'main' | 'events',
): { name: string; peerURLs: string[]; clientURLs: string[] }[] {
  const ctx = readLabContext(lab.dir);
  const args =
    cluster === 'main'
      ? [
          `--endpoints=${ctx.etcd.main.endpoints.join(',')}`,
          `--cacert=${ctx.etcd.main.caFile}`,
          `--cert=${ctx.etcd.main.certFile}`,
          `--key=${ctx.etcd.main.keyFile}`,
          '--insecure-skip-tls-verify',
        ]
      : [`--endpoints=${ctx.etcd.events.endpoints.join(',')}`];
  const out = execFileSync('etcdctl', [...args, 'member', 'list', '-w', 'json'], {
    env: { ...process.env, ETCDCTL_API: '3' },
    encoding: 'utf8',
  });
  return (JSON.parse(out) as { members: { name: string; peerURLs: string[]; clientURLs: string[] }[] })
    .members;
}

beforeAll(async () => {
  await labUp(lab.dir);
}, 120_000);

afterAll(async () => {
  await labDown(lab.dir);
});

// An add (a VM boots, two members join) takes seconds on a quiet machine and far
// longer on a loaded 2-core one: the operator tests' room, not vitest's 30 s.
describe('a lab configured as kube-up configures masters', { timeout: 120_000 }, () => {
  it("members advertise kube-up's URLs: client 127.0.0.1, peer by instance name, in both clusters", async () => {
    const s = await healthyStatus(lab);
    const names = s.replicas.map((r) => r.name).sort();
    expect(names).toHaveLength(3);
    for (const [cluster, client, peer] of [
      ['main', 'https://127.0.0.1:2379', 2380],
      ['events', 'http://127.0.0.1:4002', 2381],
    ] as const) {
      const members = memberList(cluster);
      expect(members.map((m) => m.name).sort()).toEqual(names.map((n) => `etcd-${n}`));
      for (const m of members) {
        expect(m.clientURLs).toEqual([client]);
        expect(m.peerURLs).toEqual([`https://${m.name.replace(/^etcd-/, '')}:${peer}`]);
      }
    }
    // ...and kube-ha reads them all healthy.
    expect(s.etcd.main).toMatchObject({ members: 3, healthyMembers: 3 });
    expect(s.etcd.events).toMatchObject({ members: 3, healthyMembers: 3 });
    expect(s.warnings).toEqual([]);
  });

  it("kube-env holds each VM's peer certificate gzip+base64, naming that instance", async () => {
    const s = await status(lab);
    for (const r of s.replicas) {
      const inst = await instance(r.zone!, r.name);
      const env = parseKubeEnv(meta(inst, 'kube-env') ?? '');
      expect(env.ETCD_PEER_CERT?.startsWith('H4sI')).toBe(true);
      const cert = new X509Certificate(decodeCert(env.ETCD_PEER_CERT)!);
      expect(cert.subjectAltName).toBe(`IP Address:127.0.0.1, DNS:${r.name}`);
      expect(cert.checkIssued(new X509Certificate(peerMaterialOf(env).caPem!))).toBe(true);
      // kube-master-certs: the apiserver↔etcd server certificate names etcd-<instance>.
      const certs = apiserverEtcdMaterialOf(parseKubeEnv(meta(inst, 'kube-master-certs') ?? ''));
      expect(new X509Certificate(certs.server!.certPem).subjectAltName).toBe(
        `IP Address:127.0.0.1, DNS:etcd-${r.name}`,
      );
      // The other keys create-master-instance-internal sets.
      for (const k of ['kubelet-config', 'user-data', 'configure-sh', 'cluster-location', 'cluster-name'])
        expect(meta(inst, k), k).not.toBeNull();
    }
  });

  it("etcd's peer check as the lab applies it: a VM's own certificate passes, another's is refused", async () => {
    const s = await status(lab);
    const [a, b] = s.replicas;
    const envA = parseKubeEnv(meta(await instance(a!.zone!, a!.name), 'kube-env') ?? '');
    const certA = peerMaterialOf(envA).certPem!;
    const resolve = (n: string) => s.replicas.find((r) => r.name === n)?.vm.internalIP ?? null;
    expect(peerCertRefusal(certA, a!.vm.internalIP!, resolve)).toBeNull();
    expect(peerCertRefusal(certA, b!.vm.internalIP!, resolve)).toMatch(
      new RegExp(`does not match any of DNSNames \\["${a!.name}"\\]`),
    );
  });

  it('add 3 → 4: the new replica gets its own certificates; kubeconfig is not cloned', async () => {
    const before = await status(lab);
    const source = before.replicas.find((r) => r.name === 'kubernetes-master')!;
    const srcInst = await instance(source.zone!, source.name);
    await setMetadata(srcInst, 'kubeconfig', 'apiVersion: v1\nkind: Config\n');
    const res = await cli(lab, ['add', '--zone', 'us-central1-f', '--yes']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const after = await status(lab);
    const added = after.replicas.find((r) => !before.replicas.some((b) => b.name === r.name))!;
    expect(after.etcd.main).toMatchObject({ members: 4, healthyMembers: 4, votingMembers: 4 });
    expect(after.etcd.events).toMatchObject({ members: 4, healthyMembers: 4, votingMembers: 4 });
    const inst = await instance('us-central1-f', added.name);
    const env = parseKubeEnv(meta(inst, 'kube-env') ?? '');
    expect(env.INITIAL_ETCD_CLUSTER?.split(',')).toContain(added.name);
    expect(env.INITIAL_ETCD_CLUSTER_STATE).toBe('existing');
    const own = new X509Certificate(decodeCert(env.ETCD_PEER_CERT)!);
    const srcEnv = parseKubeEnv(meta(srcInst, 'kube-env') ?? '');
    const theirs = new X509Certificate(decodeCert(srcEnv.ETCD_PEER_CERT)!);
    expect(own.subjectAltName).toBe(`IP Address:127.0.0.1, DNS:${added.name}`);
    expect(own.fingerprint256).not.toBe(theirs.fingerprint256);
    expect(own.checkIssued(new X509Certificate(peerMaterialOf(srcEnv).caPem!))).toBe(true);
    const server = apiserverEtcdMaterialOf(parseKubeEnv(meta(inst, 'kube-master-certs') ?? '')).server!;
    expect(new X509Certificate(server.certPem).subjectAltName).toContain(`DNS:etcd-${added.name}`);
    expect(meta(inst, 'kubeconfig')).toBeNull();
    // The network interface keeps the subnetwork and a pods range of its own.
    const nic = inst.networkInterfaces[0]!;
    expect(nic.subnetwork).toMatch(/\/regions\/us-central1\/subnetworks\/default$/);
    expect(nic.aliasIpRanges?.[0]?.ipCidrRange).toMatch(/\/24$/);
    expect(nic.aliasIpRanges?.[0]?.ipCidrRange).not.toBe(
      srcInst.networkInterfaces[0]?.aliasIpRanges?.[0]?.ipCidrRange,
    );
    const rm = await cli(lab, ['remove', '--replica', added.name, '--yes']);
    expect(rm.code, rm.stdout + rm.stderr).toBe(0);
  });

  it('a source without its etcd CA key is refused at preflight (exit 3), nothing changed', async () => {
    const s = await status(lab);
    const targets = await Promise.all(s.replicas.map((r) => instance(r.zone!, r.name)));
    const originals = targets.map((t) => meta(t, 'kube-env'));
    try {
      for (const t of targets) {
        const env = parseKubeEnv(meta(t, 'kube-env') ?? '');
        delete env.ETCD_CA_KEY;
        await setMetadata(t, 'kube-env', renderKubeEnv(env));
      }
      const res = await cli(lab, ['add', '--zone', 'us-central1-f', '--yes']);
      expect(res.code, res.stdout + res.stderr).toBe(3);
      expect(res.stdout).toMatch(/clone-source-usable: .*ETCD_CA_KEY/);
      expect((await status(lab)).replicas.map((r) => r.name)).toEqual(s.replicas.map((r) => r.name));
    } finally {
      for (const [i, r] of s.replicas.entries())
        await setMetadata(await instance(r.zone!, r.name), 'kube-env', originals[i]!);
    }
  });

  it('a source whose boot image no longer exists is refused at preflight (exit 3)', async () => {
    const s = await status(lab);
    const r = s.replicas[0]!;
    const boot = (await instance(r.zone!, r.name)).disks.find((d) => d.boot)!;
    const disk = await compute<{ sourceImage: string }>(
      `zones/${r.zone}/disks/${boot.source.split('/').pop()}`,
    );
    const m = /projects\/([^/]+)\/global\/images\/([^/]+)$/.exec(disk.sourceImage)!;
    const ctx = readLabContext(lab.dir);
    const del = await fetch(`${ctx.controlURL}/images/delete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project: m[1], image: m[2] }),
      signal: AbortSignal.timeout(5000),
    });
    expect(del.ok, await del.text()).toBe(true);
    const res = await cli(lab, ['add', '--zone', 'us-central1-f', '--yes']);
    expect(res.code, res.stdout + res.stderr).toBe(3);
    expect(res.stdout).toMatch(/clone-source-usable: .*boot image .* no longer exists/);
    expect((await status(lab)).replicas).toHaveLength(s.replicas.length);
  });
});
