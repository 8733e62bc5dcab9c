// issue 2's acceptance, against a real lab: real etcd processes, the real
// Compute client against the lab's Compute server, the built binary.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ClusterStatus } from '../../src/domain/types.js';
import { readLabContext } from '../../src/lab/context.js';
import { processAlive } from '../../src/lab/processes.js';
import { eventually, labDown, labUp, runCli, tempLabDir } from '../helpers/cli.js';

// Recoveries wait for members to rejoin and leader leases to move (seconds each);
// a loaded 2-core machine stretches that.
vi.setConfig({ testTimeout: 90_000 });

const dir = tempLabDir();
// A 5 s deadline as etcdctl's command timeout: the default 1.5 s is for an
// operator's terminal, and this file shares two cores with a dozen labs.
const status = async (timeout = '5') => {
  const res = await runCli(['status', '--lab-dir', dir, '--json', '--timeout', timeout]);
  return { ...res, json: JSON.parse(res.stdout) as ClusterStatus };
};
const leaderOf = (s: ClusterStatus, c: 'main' | 'events') => s.replicas.find((r) => r.etcd[c]?.leader)?.name;

describe('kube-ha status against a 3-zone lab', () => {
  let pids: number[] = [];

  beforeAll(async () => {
    await labUp(dir);
    const vms = (await runCli(['lab', 'status', '--dir', dir])).stdout;
    expect(vms).toContain('running');
  });

  afterAll(async () => {
    await labDown(dir);
  });

  it('shows 3 replicas in 3 zones, both clusters 3/3 healthy, the load balancer holding the static IP', async () => {
    const { code, json: s } = await status();
    expect({ code, warnings: s.warnings }).toEqual({ code: 0, warnings: [] });
    expect(s.replicas.map((r) => r.zone)).toEqual(['us-central1-a', 'us-central1-b', 'us-central1-c']);
    expect(s.replicas.every((r) => r.vm.status === 'RUNNING')).toBe(true);
    for (const c of ['main', 'events'] as const) {
      expect(s.etcd[c]).toMatchObject({
        members: 3,
        votingMembers: 3,
        healthyMembers: 3,
        quorum: 2,
        faultTolerance: 1,
      });
      expect(s.replicas.filter((r) => r.etcd[c]?.leader)).toHaveLength(1);
    }
    expect(s.loadBalancer?.instances.sort()).toEqual(s.replicas.map((r) => r.name).sort());
    expect(s.apiserverIP?.attachedTo).toBe('load-balancer');
    expect(s.loadBalancer?.ip).toBe(s.apiserverIP?.address);
    expect(s.warnings).toEqual([]);
  });

  it('reports member IDs exactly as etcdctl member list prints them', async () => {
    const { json: s } = await status();
    const ctx = readLabContext(dir);
    const out = execFileSync(
      'etcdctl',
      [
        `--endpoints=${ctx.etcd.main.endpoints.join(',')}`,
        `--cacert=${ctx.etcd.main.caFile}`,
        `--cert=${ctx.etcd.main.certFile}`,
        `--key=${ctx.etcd.main.keyFile}`,
        // kube-up's member certificates name etcd-<instance> and 127.0.0.1, not the VM's IP.
        '--insecure-skip-tls-verify',
        'member',
        'list',
      ],
      { env: { ...process.env, ETCDCTL_API: '3' } },
    ).toString();
    const fromEtcdctl = out
      .trim()
      .split('\n')
      .map((l) => l.split(',')[0]!.trim())
      .sort();
    expect(s.replicas.map((r) => r.etcd.main!.memberId).sort()).toEqual(fromEtcdctl);
    pids = [];
  });

  it('prints a per-zone table for people', async () => {
    const res = await runCli(['status', '--lab-dir', dir, '--timeout', '5']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(
      /etcd main 3\/3 healthy · quorum 2 · tolerates 1 failure · leader kubernetes-master/,
    );
    for (const z of ['us-central1-a', 'us-central1-b', 'us-central1-c']) expect(res.stdout).toContain(z);
    expect(res.stdout).toContain('no warnings');
  });

  it("from a bastion: only gcloud's configuration, its endpoint override and etcdctl's TLS files (issue 10)", async () => {
    const ctx = readLabContext(dir);
    const home = mkdtempSync(join(tmpdir(), 'kube-ha-gcloud-'));
    try {
      const config = join(home, 'gcloud');
      mkdirSync(join(config, 'configurations'), { recursive: true });
      writeFileSync(join(config, 'active_config'), 'lab\n');
      writeFileSync(
        join(config, 'configurations', 'config_lab'),
        `[core]\nproject = ${ctx.project}\n[compute]\nregion = ${ctx.region}\n`,
      );
      // Nothing else from this machine's environment may name the target.
      const unset = Object.fromEntries(
        Object.keys(process.env)
          .filter((k) => /^(CLOUDSDK_|ETCDCTL_|KUBE_GCE_|GCE_METADATA_|GOOGLE_CLOUD_PROJECT$)/.test(k))
          .map((k) => [k, undefined]),
      );
      const env = {
        ...unset,
        HOME: home,
        CLOUDSDK_CONFIG: config,
        CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: `${ctx.computeEndpoint}/compute/v1/`,
        ETCDCTL_CACERT: ctx.etcd.main.caFile,
        ETCDCTL_CERT: ctx.etcd.main.certFile,
        ETCDCTL_KEY: ctx.etcd.main.keyFile,
      };
      const healthy = (res: { code: number; stdout: string; stderr: string }) => {
        const s = JSON.parse(res.stdout) as ClusterStatus;
        expect({ code: res.code, warnings: s.warnings, stderr: res.stderr }).toEqual({
          code: 0,
          warnings: [],
          stderr: '',
        });
        expect(s.replicas.map((r) => r.zone)).toEqual(['us-central1-a', 'us-central1-b', 'us-central1-c']);
        for (const c of ['main', 'events'] as const) {
          expect(s.etcd[c]).toMatchObject({ members: 3, votingMembers: 3, healthyMembers: 3 });
          // Each member reached at its VM's internal IP, as no endpoint was given.
          const port = c === 'main' ? 'https://%s:2379' : 'http://%s:4002';
          for (const r of s.replicas)
            expect(r.etcd[c]).toMatchObject({
              healthy: true,
              endpoint: port.replace('%s', r.vm.internalIP!),
            });
        }
      };
      // The region from a zone, as kube-up derives it, with no configuration at all; and a
      // master name that would change the list filter, refused before anything is asked.
      const bare = { ...env, CLOUDSDK_CONFIG: join(home, 'none') };
      const zoneArgs = ['--project', ctx.project, '--zone', 'us-central1-b'];
      const [fromConfig, fromZone, bad] = await Promise.all([
        runCli(['status', '--json', '--timeout', '5'], { env }),
        runCli(['status', '--json', '--timeout', '5', ...zoneArgs], { env: bare }),
        runCli(['status', '--master-name', 'x" OR name eq "y'], { env }),
      ]);
      healthy(fromConfig);
      healthy(fromZone);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--master-name: 'x" OR name eq "y' is not a GCE resource name/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('a frozen member does not stall status: it is marked unhealthy with the error', async () => {
    const before = (await status()).json;
    const victim =
      before.replicas.find((r) => !r.etcd.main?.leader && !r.etcd.events?.leader) ?? before.replicas[2]!;
    await runCli(['lab', 'freeze', victim.name, '--dir', dir]);
    try {
      const res = await status('1.5');
      // Without deadlines this call never returns. With them it costs one deadline
      // (about 2 s in all, see npm run bench); the bound leaves room for a loaded CI machine.
      expect(res.ms).toBeLessThan(20_000);
      expect(res.code).toBe(5);
      const r = res.json.replicas.find((x) => x.name === victim.name)!;
      expect(r.etcd.main).toMatchObject({ healthy: false });
      expect(r.etcd.main!.error).toMatch(/deadline|timeout|timed out/i);
      expect(res.json.warnings.map((w) => w.code)).toContain('UNHEALTHY_MEMBER');
    } finally {
      await runCli(['lab', 'thaw', victim.name, '--dir', dir]);
    }
    // Healthy again once its members catch up and any lease it held has moved.
    await eventually(async () => (await status()).code === 0, 40_000);
  });

  it('crash the main leader: a new leader, the member unhealthy, exit 5; restart: healthy again', async () => {
    const before = (await status()).json;
    const leader = leaderOf(before, 'main')!;
    const crash = await runCli(['lab', 'crash', leader, '--dir', dir]);
    expect(crash.code).toBe(0);
    const after = await eventually(async () => {
      const s = await status();
      const l = leaderOf(s.json, 'main');
      return l && l !== leader ? s : null;
    }, 5000);
    expect(after.code).toBe(5);
    const crashed = after.json.replicas.find((r) => r.name === leader)!;
    expect(crashed.vm.status).toBe('RUNNING'); // a hung host: the VM stays RUNNING
    expect(crashed.etcd.main).toMatchObject({ healthy: false, leader: false });
    expect(after.json.etcd.main).toMatchObject({ healthyMembers: 2, faultTolerance: 0 });

    await runCli(['lab', 'restart', leader, '--dir', dir]);
    const healed = await eventually(async () => {
      const s = await status();
      return s.code === 0 ? s : null;
    }, 40_000);
    expect(healed.json.etcd.main.healthyMembers).toBe(3);
  });

  it('GCE errors come back through the real client with their cause, and exit 1 when nothing answers', async () => {
    const ctx = readLabContext(dir);
    const res = await runCli([
      'status',
      '--project',
      'no-such-project',
      '--region',
      'us-central1',
      '--compute-endpoint',
      ctx.computeEndpoint,
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/unreachable: Compute API: .*projects\/no-such-project.*not found/i);
    const json = await runCli([
      'status',
      '--json',
      '--project',
      'kube-ha-lab',
      '--region',
      'europe-west1',
      '--compute-endpoint',
      ctx.computeEndpoint,
    ]);
    // Replicas are found by name in every zone of the project: the wrong --region shows them outside it.
    const s = JSON.parse(json.stdout) as ClusterStatus;
    expect(json.code).toBe(5);
    expect(s.replicas).toHaveLength(3);
    expect(s.warnings.filter((w) => w.code === 'REPLICA_OUTSIDE_REGION')).toHaveLength(3);
    expect(s.loadBalancer).toBeNull();
  });

  it('the lab survives its supervisor: state on disk, VMs boot again, members rejoin', async () => {
    const before = (await status()).json;
    const ctx = readLabContext(dir);
    process.kill(ctx.supervisorPid, 'SIGKILL');
    await eventually(async () => !processAlive(ctx.supervisorPid), 5000);
    const up = await runCli(['lab', 'up', '--dir', dir]);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/lab resumed/);
    const after = await eventually(async () => {
      const s = await status();
      return s.code === 0 ? s.json : null;
    }, 40_000);
    const ids = (s: ClusterStatus) => s.replicas.map((r) => [r.name, r.etcd.main?.memberId, r.vm.internalIP]);
    expect(ids(after)).toEqual(ids(before));
    expect(readLabContext(dir).supervisorPid).not.toBe(ctx.supervisorPid);
  });

  it('lab down leaves no lab process behind', async () => {
    const res = await runCli(['lab', 'status', '--dir', dir]);
    expect(res.code).toBe(0);
    const ctx = readLabContext(dir);
    pids = [ctx.supervisorPid];
    const members = execFileSync('pgrep', ['-f', '--', `--data-dir=${dir}/`])
      .toString()
      .trim()
      .split('\n')
      .map(Number);
    expect(members.length).toBe(6);
    pids.push(...members);
    await labDown(dir);
    await eventually(async () => pids.every((p) => !processAlive(p)), 10_000);
  });
});
