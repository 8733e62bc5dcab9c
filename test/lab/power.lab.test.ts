// The lab rehearses issue 16's light remedies and data loss on real etcd (one
// 3-replica lab; a frozen replica reset back to health, with the same members,
// is test/ops/remedy.lab.test.ts's, through kube-ha reset): a replica GCE
// stopped (`lab stop`) comes back RUNNING and
// healthy after instances.start, with its data; `lab crash --wipe` leaves its
// members' data dirs empty, and etcd then does what it does with an empty data
// dir and the metadata's INITIAL_ETCD_CLUSTER_STATE. A restart of the lab's
// supervisor keeps a stopped replica stopped.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterStatus } from '../../src/domain/types.js';
import { readLabContext } from '../../src/lab/context.js';
import { processAlive } from '../../src/lab/processes.js';
import { eventually, labDown, labUp, runCli, tempLabDir } from '../helpers/cli.js';
import { compute, type OpsLab, opsLab, status } from '../ops/lab-helpers.js';

const lab: OpsLab = opsLab(tempLabDir());

beforeAll(async () => {
  await labUp(lab.dir);
}, 180_000);
afterAll(async () => {
  await labDown(lab.dir);
});

interface Instance {
  name: string;
  zone: string;
  status: string;
  networkInterfaces: { networkIP: string }[];
}
interface Operation {
  name: string;
  status: string;
  error?: unknown;
}

const zoneOf = (i: Instance) => i.zone.split('/').pop() ?? '';

async function instances(): Promise<Instance[]> {
  const res = await compute<{ items?: Record<string, { instances?: Instance[] }> }>(
    lab,
    'aggregated/instances',
  );
  return Object.values(res.items ?? {}).flatMap((s) => s.instances ?? []);
}

async function instance(name: string): Promise<Instance> {
  const found = (await instances()).find((i) => i.name === name);
  if (!found) throw new Error(`no instance ${name}`);
  return found;
}

/** POST instances/NAME/<method> and waits for its operation; fails on an operation error. */
async function power(name: string, method: 'stop' | 'start' | 'reset'): Promise<void> {
  const zone = zoneOf(await instance(name));
  let op = await compute<Operation>(lab, `zones/${zone}/instances/${name}/${method}`, { method: 'POST' });
  for (let i = 0; i < 30 && op.status !== 'DONE'; i++)
    op = await compute<Operation>(lab, `zones/${zone}/operations/${op.name}/wait`, { method: 'POST' });
  expect(op.status).toBe('DONE');
  expect(op.error ?? null).toBeNull();
}

const replica = (s: ClusterStatus, name: string) => s.replicas.find((r) => r.name === name);
const healthy = (s: ClusterStatus, name: string) =>
  replica(s, name)?.etcd.main?.healthy === true && replica(s, name)?.etcd.events?.healthy === true;
const memberIds = (s: ClusterStatus, name: string) => [
  replica(s, name)?.etcd.main?.memberId,
  replica(s, name)?.etcd.events?.memberId,
];

/** etcdctl on etcd main: `put`, or a serializable `get` answered by that one member. */
function etcdctl(args: string[], endpoint?: string): string {
  const m = readLabContext(lab.dir).etcd.main;
  return execFileSync(
    'etcdctl',
    [
      `--endpoints=${endpoint ?? m.endpoints.join(',')}`,
      `--cacert=${m.caFile}`,
      `--cert=${m.certFile}`,
      `--key=${m.keyFile}`,
      '--insecure-skip-tls-verify',
      '--command-timeout=5s',
      ...args,
    ],
    { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8' },
  );
}
const readOn = (ip: string, key: string) =>
  etcdctl(['get', key, '--print-value-only', '--consistency=s'], `https://${ip}:2379`).trim();

async function names(): Promise<string[]> {
  return (
    await eventually(async () => {
      const s = await status(lab);
      return s.replicas.length === 3 && s.replicas.every((r) => healthy(s, r.name)) ? s : null;
    }, 60_000)
  ).replicas.map((r) => r.name);
}

describe('reset, start and data loss on the lab', () => {
  it('lab stop: TERMINATED, disks and endpoint kept; instances.start brings it back RUNNING and healthy with its data', async () => {
    const [, name] = await names();
    const ids = memberIds(await status(lab), name!);
    const ip = (await instance(name!)).networkInterfaces[0]!.networkIP;
    etcdctl(['put', '/lab-test/stop', 'before-stop']);

    const stop = await runCli(['lab', 'stop', name!, '--dir', lab.dir]);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toContain(`${name}: TERMINATED`);
    expect((await instance(name!)).status).toBe('TERMINATED');
    // Its member stays, unreachable; the context still points at its address.
    expect(readLabContext(lab.dir).etcd.main.endpoints).toContain(`https://${ip}:2379`);
    const down = await status(lab);
    expect(replica(down, name!)?.etcd.main?.healthy ?? false).toBe(false);

    // The supervisor dies and `lab up` resumes the lab: the stopped instance stays TERMINATED, no VM for it.
    const old = readLabContext(lab.dir).supervisorPid;
    process.kill(old, 'SIGKILL');
    await eventually(async () => !processAlive(old), 5000);
    const up = await runCli(['lab', 'up', '--dir', lab.dir]);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/lab resumed/);
    const ctx = readLabContext(lab.dir);
    expect(ctx.supervisorPid).not.toBe(old);
    expect(ctx.etcd.main.endpoints).toContain(`https://${ip}:2379`);
    expect((await instance(name!)).status).toBe('TERMINATED');
    const vms = (await (await fetch(`${ctx.controlURL}/vms`)).json()) as { vms: { name: string }[] };
    expect(vms.vms.map((v) => v.name)).not.toContain(name);
    const listed = await runCli(['lab', 'status', '--dir', lab.dir]);
    expect(listed.stdout).toMatch(new RegExp(`${name} .* TERMINATED \\(no VM: instances.start boots it\\)`));
    // A write while it is down, which it must catch up on.
    etcdctl(['put', '/lab-test/stop', 'while-stopped']);

    await power(name!, 'start');
    expect((await instance(name!)).status).toBe('RUNNING');
    const after = await eventually(async () => {
      const s = await status(lab);
      return healthy(s, name!) ? s : null;
    }, 60_000);
    expect(memberIds(after, name!)).toEqual(ids);
    await eventually(async () => readOn(ip, '/lab-test/stop') === 'while-stopped', 20_000);
  }, 120_000);

  it('lab crash --wipe empties both data dirs; rebooted, etcd refuses to bootstrap the member again', async () => {
    const [, , name] = await names();
    // --wipe belongs to crash alone: anywhere else it is a usage error, and nothing happens.
    const misuse = await runCli(['lab', 'freeze', name!, '--wipe', '--dir', lab.dir]);
    expect(misuse.code).toBe(2);
    expect(misuse.stderr).toContain('--wipe is a flag of lab crash');
    const wipe = await runCli(['lab', 'crash', name!, '--wipe', '--dir', lab.dir]);
    expect(wipe.code, wipe.stderr).toBe(0);
    expect(wipe.stdout).toContain('etcd data deleted');
    const pd = join(lab.dir, 'disks', `${name}-pd`, 'var', 'etcd');
    expect(readdirSync(join(pd, 'data'))).toEqual([]);
    expect(readdirSync(join(pd, 'data-events'))).toEqual([]);

    // lab up's replicas have INITIAL_ETCD_CLUSTER_STATE new (all listed): etcd 3.4 finds the member
    // already in the running cluster and exits; nothing brings the data back.
    expect((await runCli(['lab', 'restart', name!, '--dir', lab.dir])).code).toBe(0);
    const log = join(lab.dir, 'logs', `${name}-etcd-main.log`);
    await eventually(async () => /has already been bootstrapped/.test(readFileSync(log, 'utf8')), 30_000);
    expect(healthy(await status(lab), name!)).toBe(false);
  }, 120_000);
});
