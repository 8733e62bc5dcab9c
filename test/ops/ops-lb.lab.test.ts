// Issue 5 on a one-replica lab: 1 → 2 → 3 → 2 → 1 through the CLI. The load
// balancer appears holding the static IP, follows every add and remove, and
// at the end is gone with the IP back on the last replica. As kube-up's, it has
// no health check, and is ready when an HTTPS request to the static IP answers.
import { statSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Journal } from '../../src/domain/ops/journal.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { readLabApiserverPort, readLabContext } from '../../src/lab/context.js';
import { labDown, labUp, tempLabDir } from '../helpers/cli.js';
import { cli, journals, labFault, labFaults, type OpsLab, opsLab, settle, status } from './lab-helpers.js';

const lab: OpsLab = opsLab(tempLabDir());
const timings: string[] = [];

/** `curl -k -m2 https://IP:port/`: the HTTP status, or the error. */
function https(ip: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: ip, port, path: '/', rejectUnauthorized: false, agent: false }, (res) => {
      res.resume();
      resolve(`HTTP ${res.statusCode}`);
    });
    req.setTimeout(2000, () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve(`error: ${err.message}`));
    req.end();
  });
}

/** The journal of the operation whose plan does this to the load balancer. */
function journalOf(loadBalancer: 'create' | 'teardown') {
  const j = journals(lab).filter((x) => x.plan.loadBalancer === loadBalancer);
  expect(j).toHaveLength(1);
  return j[0]!;
}

async function op(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const res = await cli(lab, [...args, '--yes']);
  timings.push(
    `${args.join(' ')}: ${res.ms} ms (CLI), ${/ in ([\d.]+ s)/.exec(res.stdout)?.[1] ?? '?'} (operation)`,
  );
  return res;
}

/**
 * The lab owns its context: its supervisor points context.json's etcd endpoints
 * at the RUNNING VMs after every insert and delete (kube-ha itself never writes it).
 */
function expectContextOnReplicas(s: ClusterStatus): void {
  const ips = s.replicas.map((r) => r.vm.internalIP).sort();
  const ctx = readLabContext(lab.dir);
  const hosts = (endpoints: string[]) => endpoints.map((e) => new URL(e).hostname).sort();
  expect(hosts(ctx.etcd.main.endpoints)).toEqual(ips);
  expect(hosts(ctx.etcd.events.endpoints)).toEqual(ips);
  expect(ctx.etcd.main.endpoints.every((e) => e.startsWith('https://') && e.endsWith(':2379'))).toBe(true);
  expect(ctx.etcd.events.endpoints.every((e) => e.startsWith('http://') && e.endsWith(':4002'))).toBe(true);
}

describe('kube-ha add/remove: one replica to three and back', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    await labUp(lab.dir, ['--replicas', '1', '--zones', 'us-central1-a', '--lb-delay', '1']);
  });

  afterAll(async () => {
    await labDown(lab.dir);
    console.log(`timings on the lab:\n  ${timings.join('\n  ')}`);
  });

  it('a 1 → 2 add whose last step fails rolls back without losing quorum (issue 11)', async () => {
    // Its own state dir: this failed operation's journal stays out of the next tests' view.
    const other = opsLab(lab.dir);
    await labFault(lab, { method: 'targetPools.addInstance', mode: 'operation' });
    let res: { code: number; stdout: string; stderr: string };
    try {
      res = await cli(other, ['add', '--zone', 'us-central1-b', '--yes'], 240_000);
    } finally {
      await labFault(lab, null);
    }
    // The promoted member left etcd while its VM still ran; then its VM went.
    expect(res.code, res.stdout + res.stderr).toBe(4);
    const after = await cli(lab, ['status', '--json']);
    expect(after.code, after.stdout).toBe(0);
    const s = JSON.parse(after.stdout) as ClusterStatus;
    expect(s.replicas.map((r) => r.name)).toEqual(['kubernetes-master']);
    expect(s.etcd.main).toMatchObject({ votingMembers: 1, healthyVoters: 1 });
    expect(s.etcd.events).toMatchObject({ votingMembers: 1, healthyVoters: 1 });
    expect(s.loadBalancer).toBeNull();
    expect(s.apiserverIP?.attachedTo).toBe('kubernetes-master');
  }, 300_000);

  it("1 → 2 creates the load balancer first and moves the static IP to it (the insert's answer lost once: one VM)", async () => {
    const before = await status(lab);
    expect(before.loadBalancer).toBeNull();
    const ip = before.apiserverIP?.address;
    expect(before.apiserverIP?.attachedTo).toBe('kubernetes-master');

    // GCE applies the insert and the answer never comes back (issue 10): the retry, with the
    // same requestId, gets the first operation rather than a 409 and a rollback for nothing.
    await labFault(lab, { method: 'instances.insert', mode: 'lost', times: 1 });
    const res = await op(['add', '--zone', 'us-central1-b']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(await labFaults(lab)).toEqual([
      expect.objectContaining({ fault: expect.objectContaining({ method: 'instances.insert' }), hits: 1 }),
    ]);
    await labFault(lab, null);
    expect(res.stdout).toContain('2 replicas, worse than one');
    // The plan puts the load balancer before any etcd change; it has no health check.
    expect(res.stdout).not.toContain('Create health check');
    const order = [
      'Create target pool',
      'Create forwarding rule',
      'Wait until the load balancer answers',
      'as a learner',
    ];
    const at = order.map((t) => res.stdout.indexOf(t));
    expect(at.every((i, n) => i > 0 && (n === 0 || i > (at[n - 1] ?? 0)))).toBe(true);

    expect(await settle(lab, 2)).toEqual([]);
    const s = await status(lab);
    expect(s.loadBalancer?.ip).toBe(ip);
    expect(s.apiserverIP).toEqual({ address: ip, attachedTo: 'load-balancer' });

    const j = journalOf('create');
    expect(j.state).toBe('done');
    // Before any change, etcd main was saved (verified by its SHA-256) in the state dir.
    const saved = j.facts['snapshot.main'];
    expect(saved).toMatch(/snapshots\/op-[\w-]+-main\.db$/);
    expect(statSync(saved!).size).toBeGreaterThan(4096);
    expect(res.stderr).toMatch(/saved .*-main\.db \(revision \d+, [\d.]+ MB, sha256 ok/);
    expect(res.stdout).toContain(`etcd main before the change: ${saved} (revision `);
    expect(j.plan.steps.filter((x) => x.kind === 'lb.create-health-check')).toEqual([]);
    const ctx = readLabContext(lab.dir);
    const poolRes = await fetch(
      `${ctx.computeEndpoint}/compute/v1/projects/${ctx.project}/regions/${ctx.region}/targetPools/${ctx.masterName}`,
    );
    expect(((await poolRes.json()) as { healthChecks?: string[] }).healthChecks).toBeUndefined();
    // lb.wait-ready passed on an HTTPS answer from the static IP, within a minute of the rule.
    const step = (id: string) => j.steps.find((x) => x.id === id);
    expect(step('lb.wait-ready')).toMatchObject({ status: 'done', note: expect.stringMatching(/answered/) });
    const waited =
      Date.parse(step('lb.wait-ready')?.endedAt ?? '') -
      Date.parse(step('lb.forwarding-rule')?.endedAt ?? '');
    expect(waited).toBeLessThan(60_000);
    // And it still answers, through the load balancer (kube-apiserver's TLS; any HTTP status).
    expect(await https(ip ?? '', readLabApiserverPort(lab.dir))).toMatch(/^HTTP \d{3}$/);
    expectContextOnReplicas(s);
  });

  it("2 → 3 → 2: the pool follows (the pool add's answer lost once: one new replica)", async () => {
    await labFault(lab, { method: 'targetPools.addInstance', mode: 'lost', times: 1 });
    const add = await op(['add', '--zone', 'us-central1-c']);
    expect(add.code, add.stdout + add.stderr).toBe(0);
    const [lost] = await labFaults(lab);
    expect(lost?.hits).toBe(1);
    await labFault(lab, null);
    // The pool step's journal record kept the requestId it sent before sending it.
    const addJournal = journals(lab).find(
      (j) => j.plan.kind === 'add' && j.plan.add?.zone === 'us-central1-c',
    );
    const poolStep = addJournal?.steps.find((s) =>
      Object.keys(s.requestIds ?? {}).some((k) => k.includes('targetPools.addInstance')),
    );
    expect(poolStep?.status).toBe('done');
    expect(await settle(lab, 3)).toEqual([]);
    const three = await status(lab);
    expect(three.replicas.filter((r) => r.zone === 'us-central1-c')).toHaveLength(1);
    expect(three.loadBalancer?.instances).toHaveLength(3);
    expectContextOnReplicas(three);

    const newest = three.replicas.find((r) => r.zone === 'us-central1-c')!.name;
    const res = await op(['remove', '--replica', newest]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(await settle(lab, 2)).toEqual([]);
    const two = await status(lab);
    expect(two.replicas.map((r) => r.name)).not.toContain(newest);
    expect(two.loadBalancer?.instances).toHaveLength(2);
    expectContextOnReplicas(two);
  });

  it('2 → 1 tears the load balancer down and gives the static IP back to the survivor', async () => {
    const two = await status(lab);
    const ip = two.apiserverIP?.address;
    // Remove the first replica (a seed of the lab's endpoints): later commands still find etcd.
    const res = await op(['remove', '--zone', 'us-central1-a']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain('the load balancer is deleted');
    // The pool had no health check: nothing to delete.
    expect(journalOf('teardown').steps.find((x) => x.id === 'lb.delete-health-check')).toMatchObject({
      status: 'skipped',
      note: expect.stringContaining('had no health check'),
    });
    expect(await settle(lab, 1)).toEqual([]);
    const one = await status(lab);
    expect(one.loadBalancer).toBeNull();
    expect(one.apiserverIP).toEqual({ address: ip, attachedTo: one.replicas[0]?.name });
    expectContextOnReplicas(one);
  });

  it('an add killed on one machine is seen from another, refused over, and rolled back there (journal in etcd)', async () => {
    // Two operators' machines: separate state dirs, one cluster.
    const a = opsLab(lab.dir);
    const b = opsLab(lab.dir);
    const killed = await cli(
      { ...a, env: { ...a.env, KUBE_HA_FAILPOINTS: 'kill-after=add.promote.main' } },
      ['add', '--zone', 'us-central1-b', '--yes'],
      240_000,
    );
    expect(killed.stderr).toContain('failpoint kill-after=add.promote.main');
    expect(journals(b)).toEqual([]);
    const seen = await cli(b, ['operation', 'status', '--json']);
    expect(seen.code, seen.stderr).toBe(5);
    const open = JSON.parse(seen.stdout) as { unfinished: Journal | null };
    expect(open.unfinished?.plan.kind).toBe('add');
    // The copy in etcd follows the local file a put behind: the kill came right after the local write.
    expect(['running', 'done']).toContain(
      open.unfinished?.steps.find((x) => x.id === 'add.promote.main')?.status,
    );
    const refused = await cli(b, ['add', '--zone', 'us-central1-c', '--yes']);
    expect(refused.code, refused.stdout).toBe(3);
    expect(refused.stdout).toContain(open.unfinished!.operationId);
    const back = await cli(b, ['operation', 'rollback', '--yes'], 240_000);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(await settle(lab, 1)).toEqual([]);
    // Machine a's own copy still says running; etcd says rolled back, and a sees that.
    const fromA = await cli(a, ['operation', 'status', '--json']);
    expect(fromA.code, fromA.stdout).toBe(0);
  }, 300_000);

  it('the last replica cannot be removed', async () => {
    const s = await status(lab);
    const res = await op(['remove', '--replica', s.replicas[0]!.name]);
    expect(res.code).toBe(3);
    expect(res.stdout).toContain('last voter');
    expect((await status(lab)).replicas).toHaveLength(1);
  });
});
