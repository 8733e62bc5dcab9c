// Issue 5 on a three-zone lab, through the CLI: refusals that change nothing,
// replace after a crash, add to 4 (warned) while a second operation is
// refused, remove back to 3, and injected failures (the instance insert
// fails; the new member never catches up; the tool is killed mid-flow, then
// resumed or rolled back; a remove killed past its point of no return, then
// resumed or rolled back), each leaving the cluster consistent; a journal the
// cluster no longer matches, and an unreadable one.
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../src/cli/target-flags.js';
import { newJournal } from '../../src/domain/ops/journal.js';
import { buildPlan } from '../../src/domain/ops/plan.js';
import { LAB_FAULT_KEY } from '../../src/lab/vm.js';
import { JournalStore } from '../../src/ops/journal-store.js';
import { eventually, labDown, labUp, runCli, tempLabDir } from '../helpers/cli.js';
import {
  aggregatedNames,
  background,
  cli,
  journals,
  labFault,
  type OpsLab,
  opsLab,
  setMetadataOnReplicas,
  settle,
  status,
  untilStep,
} from './lab-helpers.js';

const lab: OpsLab = opsLab(tempLabDir());

/** What a refused operation must leave as it was: replicas, members, pool. */
async function shape(): Promise<string> {
  // A look whose Compute call missed its deadline (a loaded machine) has no zones and no load
  // balancer: that is not the cluster changing, so look again (bounded).
  const s = await eventually(async () => {
    const x = await status(lab);
    return x.sources.gce &&
      x.replicas.every((r) => r.zone) &&
      !x.warnings.some((w) => w.code === 'GCE_UNREACHABLE')
      ? x
      : null;
  }, 30_000);
  return JSON.stringify({
    replicas: s.replicas.map((r) => [
      r.name,
      r.zone,
      r.etcd.main?.memberId,
      r.etcd.events?.memberId,
      r.inTargetPool,
    ]),
    lb: s.loadBalancer,
  });
}

async function expectConsistent(replicas: number): Promise<void> {
  expect(await settle(lab, replicas)).toEqual([]);
}

/**
 * Adds a replica (3 → 4), then removes it with every instances.delete of it
 * failing (so the flow cannot get past deleting the VM), and SIGKILLs the CLI
 * as soon as the journal says etcd has lost the member in both clusters: past
 * the point of no return, with the VM and its disk still there.
 */
async function removeKilledPastNoReturn(): Promise<{ name: string; zone: string; operationId: string }> {
  const add = await cli(lab, ['add', '--zone', 'us-central1-f', '--yes']);
  expect(add.code, add.stderr).toBe(0);
  await expectConsistent(4);
  const added = (await status(lab)).replicas.find((r) => r.zone === 'us-central1-f')!;
  const name = added.name;
  await labFault(lab, { method: 'instances.delete', mode: 'http', code: 503, match: { name } });
  try {
    const rm = background(lab, ['remove', '--replica', name, '--yes']);
    let j: Awaited<ReturnType<typeof untilStep>>;
    try {
      j = await untilStep(lab, 'remove.member.events', ['done']);
    } finally {
      rm.child.kill('SIGKILL');
    }
    const killed = await rm.done;
    // Killed, not ended by itself (a failed delete would have ended it with exit 1).
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(j.plan.remove?.name).toBe(name);
    const rec = (id: string) =>
      journals(lab)
        .at(-1)!
        .steps.find((s) => s.id === id)?.status;
    expect(rec('remove.member.main')).toBe('done');
    expect(rec('remove.member.events')).toBe('done');
    expect(['pending', 'running', 'failed']).toContain(rec('remove.instance'));
    expect(rec('remove.disk')).toBe('pending');
    expect(journals(lab).at(-1)!.state).toBe('running');
    // etcd has 3 members for 4 VMs: the VM and its disk are still there.
    const s = await status(lab);
    expect(s.etcd.main.members).toBe(3);
    expect(s.etcd.events.members).toBe(3);
    expect(await aggregatedNames(lab, 'instances')).toContain(name);
    expect(await aggregatedNames(lab, 'disks')).toContain(`${name}-pd`);
    return { name, zone: added.zone!, operationId: j.operationId };
  } finally {
    await labFault(lab, null);
  }
}

/** The removed replica is gone for good: no VM, no disk, no member, and no unfinished operation. */
async function expectRemoved(name: string): Promise<void> {
  await expectConsistent(3);
  expect((await status(lab)).replicas.map((r) => r.name)).not.toContain(name);
  expect(await aggregatedNames(lab, 'instances')).not.toContain(name);
  expect(await aggregatedNames(lab, 'disks')).not.toContain(`${name}-pd`);
  expect((await cli(lab, ['operation', 'status'])).stdout).toContain('no unfinished operation');
}

describe('kube-ha add/remove/replace on a 3-zone lab', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    await labUp(lab.dir, ['--lb-delay', '1']);
  });

  afterAll(async () => {
    await labDown(lab.dir);
  });

  it('refuses, changing nothing: an unknown replica, a zone in another region, removing a healthy replica while another is down', async () => {
    // Every member answering first: a shape taken while etcd main still starts has no member IDs.
    await expectConsistent(3);
    const before = await shape();
    const unknown = await cli(lab, ['replace', '--replica', 'kubernetes-master-nope', '--yes']);
    expect(unknown.code).toBe(3);
    expect(unknown.stdout).toContain('no replica named kubernetes-master-nope');
    const region = await cli(lab, ['add', '--zone', 'europe-west1-b', '--yes']);
    expect(region.code).toBe(3);
    expect(region.stdout).toContain('zone europe-west1-b is in region europe-west1');

    const s = await status(lab);
    const [a, b, c] = s.replicas.map((r) => r.name);
    await runCli(['lab', 'crash', c!, '--dir', lab.dir]);
    await eventually(
      async () => (await status(lab)).replicas.find((r) => r.name === c)?.etcd.main?.healthy === false,
    );
    const quorum = await cli(lab, ['remove', '--replica', b!, '--yes']);
    expect(quorum.code).toBe(3);
    expect(quorum.stdout).toMatch(
      /removal-keeps-quorum: removing .* would leave etcd main: 1 healthy of 2 voters left, 2 needed/,
    );
    const healthy = await cli(lab, ['replace', '--replica', a!, '--yes']);
    expect(healthy.code).toBe(3);
    expect(healthy.stdout).toContain('replace only replaces a failed replica');
    expect(await shape()).toBe(before);
    expect(journals(lab)).toEqual([]);
  });

  it('replaces the crashed replica: 3 healthy, a new replica in the same zone', async () => {
    // The previous test leaves a replica crashed; run alone (-t), this one crashes its own.
    let dead = (await status(lab)).replicas.find((r) => !r.etcd.main?.healthy);
    if (!dead) {
      const victim = (await status(lab)).replicas.at(-1)!.name;
      await runCli(['lab', 'crash', victim, '--dir', lab.dir]);
      dead = await eventually(async () =>
        (await status(lab)).replicas.find((r) => r.name === victim && r.etcd.main?.healthy === false),
      );
    }
    const res = await cli(lab, ['replace', '--replica', dead.name, '--confirm', dead.name]);
    expect(res.code, res.stderr).toBe(0);
    await expectConsistent(3);
    const after = await status(lab);
    expect(after.replicas.map((r) => r.name)).not.toContain(dead.name);
    expect(after.replicas.filter((r) => r.zone === dead.zone)).toHaveLength(1);
  });

  it('3 → 4 (warned: even) while a second operation is refused by the lock, then 4 → 3', async () => {
    // The new member boots hung, which holds the add in its catch-up step while the second one tries.
    await setMetadataOnReplicas(lab, LAB_FAULT_KEY, 'etcd-stalled');
    const add = background(lab, ['add', '--zone', 'us-central1-f', '--yes', '--catch-up-timeout', '90']);
    let name: string | undefined;
    try {
      name = (await untilStep(lab, 'add.catch-up.main', ['running'])).plan.add?.name;
    } finally {
      await setMetadataOnReplicas(lab, LAB_FAULT_KEY, null);
    }
    const s = await status(lab);
    const second = await cli(lab, ['remove', '--replica', s.replicas[0]!.name, '--yes']);
    expect(second.code).toBe(3);
    expect(second.stdout).toMatch(
      /another operation holds the lock: add kubernetes-master-\w+ in us-central1-f .* by \S+@\S+ \(kube-ha add, pid \d+\)/,
    );
    expect((await status(lab)).replicas.map((r) => r.name)).toContain(s.replicas[0]!.name);
    // The hung member wakes up: it catches up and the add completes.
    await runCli(['lab', 'thaw', name!, '--dir', lab.dir]);
    const done = await add.done;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('the result has 4 voters');
    await expectConsistent(4);
    // Its own etcd peer certificate, as kube-up's create-etcd-certs gives it (DNS SAN
    // the instance, IP SAN 127.0.0.1), not its source's copied with the metadata:
    // etcd peers check the name against the connecting address.
    expect(done.stdout + done.stderr).toMatch(
      new RegExp(`own peer certificate for ${name}, 127\\.0\\.0\\.1`),
    );
    const peerCert = (replica: string) =>
      new X509Certificate(
        readFileSync(join(lab.dir, 'disks', `${replica}-pd`, 'srv', 'kubernetes', 'etcd-peer.crt')),
      );
    expect(peerCert(name!).subjectAltName).toBe(`IP Address:127.0.0.1, DNS:${name}`);
    expect(peerCert(name!).fingerprint256).not.toBe(peerCert(s.replicas[0]!.name).fingerprint256);
    // Peers let it in: the lab's peer check found its name.
    expect(readFileSync(join(lab.dir, 'logs', `${name}-etcd-main.log`), 'utf8')).not.toMatch(
      /peers reject connections|bad certificate/,
    );

    const rm = await cli(lab, ['remove', '--replica', name!, '--yes']);
    expect(rm.code, rm.stdout + rm.stderr).toBe(0);
    await expectConsistent(3);
  });

  it('an instance insert that fails is rolled back (exit 4): no member, disk or address left', async () => {
    await labFault(lab, {
      method: 'instances.insert',
      mode: 'operation',
      code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
      times: 1,
    });
    try {
      const res = await cli(lab, ['add', '--zone', 'us-central1-f', '--yes']);
      expect(res.code, res.stderr).toBe(4);
      expect(res.stdout).toContain('ZONE_RESOURCE_POOL_EXHAUSTED');
      expect(res.stderr).toMatch(/undo: Add kubernetes-master-\w+ to etcd main as a learner/);
    } finally {
      await labFault(lab, null);
    }
    await expectConsistent(3);
  });

  it('a new member that never catches up is rolled back (exit 4)', async () => {
    await setMetadataOnReplicas(lab, LAB_FAULT_KEY, 'etcd-stalled');
    try {
      const res = await cli(lab, ['add', '--zone', 'us-central1-f', '--yes', '--catch-up-timeout', '3']);
      expect(res.code, res.stderr).toBe(4);
      expect(res.stdout).toMatch(/catching up in etcd main: not done in 3 s/);
    } finally {
      await setMetadataOnReplicas(lab, LAB_FAULT_KEY, null);
    }
    await expectConsistent(3);
  });

  it('Ctrl-C while the learner catches up cancels and rolls back (exit 4)', async () => {
    await setMetadataOnReplicas(lab, LAB_FAULT_KEY, 'etcd-stalled');
    const add = background(lab, ['add', '--zone', 'us-central1-f', '--yes', '--catch-up-timeout', '120']);
    try {
      await untilStep(lab, 'add.catch-up.main', ['running']);
    } finally {
      await setMetadataOnReplicas(lab, LAB_FAULT_KEY, null);
    }
    add.child.kill('SIGINT');
    const done = await add.done;
    expect(done.code, done.stderr).toBe(4);
    expect(done.stdout).toContain('cancelled and rolled back');
    await expectConsistent(3);
  });

  it('killed mid-flow, then `operation resume` finishes the add', async () => {
    const add = background(lab, ['add', '--zone', 'us-central1-f', '--yes']);
    await untilStep(lab, 'add.instance', ['done']);
    add.child.kill('SIGKILL');
    await add.done;
    const st = await cli(lab, ['operation', 'status']);
    expect(st.stdout).toMatch(/state: running/);
    const res = await cli(lab, ['operation', 'resume', '--yes']);
    expect(res.code, res.stderr).toBe(0);
    await expectConsistent(4);
    const added = (await status(lab)).replicas.find((r) => r.zone === 'us-central1-f')!.name;
    expect((await cli(lab, ['remove', '--replica', added, '--yes'])).code).toBe(0);
    await expectConsistent(3);
  });

  it('killed mid-flow, then `operation rollback` undoes the add', async () => {
    // A stalled learner holds the add in its catch-up step, where it is killed.
    await setMetadataOnReplicas(lab, LAB_FAULT_KEY, 'etcd-stalled');
    const add = background(lab, ['add', '--zone', 'us-central1-f', '--yes', '--catch-up-timeout', '120']);
    try {
      await untilStep(lab, 'add.catch-up.main', ['running']);
    } finally {
      add.child.kill('SIGKILL');
      await add.done;
      await setMetadataOnReplicas(lab, LAB_FAULT_KEY, null);
    }
    expect((await status(lab)).etcd.main.learners).toBe(1);
    // --dry-run says what it would undo (members before their VM) and changes nothing.
    const dry = await cli(lab, ['operation', 'rollback', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/undo +Add \S+ to etcd main as a learner[\s\S]*undo +Create VM/);
    expect(dry.stdout).toContain('nothing was changed (--dry-run)');
    expect((await status(lab)).etcd.main.learners).toBe(1);
    expect((await cli(lab, ['operation', 'status'])).stdout).not.toContain('no unfinished operation');
    const res = await cli(lab, ['operation', 'rollback', '--yes']);
    expect(res.code, res.stderr).toBe(0);
    await expectConsistent(3);
    expect((await cli(lab, ['operation', 'status'])).stdout).toContain('no unfinished operation');
  });

  it('a remove killed past its point of no return: `operation status` says so, `operation resume` finishes the removal', async () => {
    const { name, operationId } = await removeKilledPastNoReturn();
    const st = await cli(lab, ['operation', 'status', '--json']);
    const doc = JSON.parse(st.stdout) as {
      unfinished: { operationId: string };
      resume: { forward: string[] };
      rollback: { forward: string[]; undo: string[]; pastPointOfNoReturn: boolean; note: string };
    };
    expect(doc.unfinished.operationId).toBe(operationId);
    expect(doc.resume.forward).toContain('remove.instance');
    expect(doc.resume.forward).toContain('verify');
    // Nothing can put the member back: a rollback would finish the removal too.
    expect(doc.rollback.pastPointOfNoReturn).toBe(true);
    expect(doc.rollback.undo).toEqual([]);
    expect(doc.rollback.forward).toContain('remove.instance');
    expect(doc.rollback.note).toMatch(/^past the point of no return \((Remove|Delete VM) /);

    const res = await cli(lab, ['operation', 'resume', '--yes']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`done: remove ${name}`);
    expect(res.stderr).toMatch(/compute instances\.delete .* DONE/);
    expect(journals(lab).find((j) => j.operationId === operationId)?.state).toBe('done');
    await expectRemoved(name);
  });

  it('a remove killed past its point of no return: `operation rollback` cannot bring the member back, so it finishes the removal', async () => {
    const { name, operationId } = await removeKilledPastNoReturn();
    const res = await cli(lab, ['operation', 'rollback', '--yes']);
    expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);
    expect(res.stderr).toMatch(/rolling back: past the point of no return \((Remove|Delete VM) /);
    expect(res.stdout).toContain(`rolled back to the point after removing ${name}`);
    // Nothing was undone: every step it ran went forward.
    expect(res.stderr).not.toContain('undo:');
    expect(journals(lab).find((j) => j.operationId === operationId)?.state).toBe('rolled-back');
    // A rollback never deletes data: the old member's disk stays, for kube-ha cleanup.
    expect(res.stdout).toContain(`disk ${name}-pd in `);
    expect(await aggregatedNames(lab, 'disks')).toContain(`${name}-pd`);
    const dry = await cli(lab, ['cleanup', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(
      new RegExp(`delete ${name}-pd \\(.*\\): no VM and no etcd member named ${name}`),
    );
    // The replicas' own disks are listed as kept, and stay.
    expect(dry.stdout).toMatch(/keep +\S+-pd .*attached to /);
    expect(await aggregatedNames(lab, 'disks')).toContain(`${name}-pd`);
    const clean = await cli(lab, ['cleanup', '--yes']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain(`deleted ${name}-pd`);
    await expectRemoved(name);
  });
  it('a journal the cluster no longer matches is refused (exit 3) on resume; an unreadable journal refuses new operations until discarded', async () => {
    const before = await shape();
    const s = await status(lab);
    const store = JournalStore.forTarget(resolveTarget({ 'lab-dir': lab.dir }, lab.env));
    // An add planned while the cluster had one replica fewer: someone added the third since.
    const built = buildPlan(
      s,
      { kind: 'add', zone: 'us-central1-f', name: null },
      { operationId: 'op-stale' },
    );
    if (!built.ok) throw new Error(built.reason);
    const newcomer = s.replicas[2]!.name;
    const plan = { ...built.plan, replicasBefore: built.plan.replicasBefore.filter((n) => n !== newcomer) };
    store.write(newJournal(plan, { user: 'carol', host: 'elsewhere', pid: 1, tool: 'kube-ha add' }));
    const written = readFileSync(store.path('op-stale'), 'utf8');
    // Resume; rollback runs the same check (unit-tested in test/ops/executor-journal.test.ts).
    const res = await cli(lab, ['operation', 'resume', '--yes']);
    expect(res.code, res.stdout + res.stderr).toBe(3);
    expect(res.stdout).toContain(
      `replicas-match-journal: the cluster no longer matches operation op-stale: ${newcomer} not in the plan`,
    );
    expect(readFileSync(store.path('op-stale'), 'utf8')).toBe(written);
    expect((await cli(lab, ['operation', 'discard', 'op-stale', '--confirm', 'op-stale'])).code).toBe(0);

    writeFileSync(store.path('op-corrupt'), '{"format":1,"operationId":"op-corrupt"');
    const refused = await cli(lab, ['add', '--zone', 'us-central1-f', '--dry-run']);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stdout).toContain(
      `journals-readable: journal ${store.path('op-corrupt')} cannot be read: not JSON`,
    );
    const st = await cli(lab, ['operation', 'status']);
    expect(st.code).toBe(5);
    expect(st.stdout).toContain(`Unreadable journal ${store.path('op-corrupt')}`);
    expect((await cli(lab, ['operation', 'discard', 'op-corrupt', '--confirm', 'op-corrupt'])).code).toBe(0);
    expect((await cli(lab, ['operation', 'status'])).code).toBe(0);
    expect(await shape()).toBe(before);
  });
});
