// Issue 5 on a three-zone lab, through the CLI: operations interrupted (Ctrl-C
// while the learner catches up; the tool killed mid-flow, then resumed or
// rolled back; a remove killed past its point of no return, then resumed or
// rolled back), each leaving the cluster consistent. Refusals, replace and
// failed steps are in ops-three.lab.test.ts, on a lab of their own: the two
// files run at once.
import { describe, expect, it } from 'vitest';
import { LAB_FAULT_KEY } from '../../src/lab/vm.js';
import {
  aggregatedNames,
  background,
  cli,
  journals,
  labFault,
  setMetadataOnReplicas,
  status,
  untilStep,
} from './lab-helpers.js';
import { expectConsistent, threeZoneLab } from './three-zone-lab.js';

const lab = threeZoneLab();

/**
 * Adds a replica (3 → 4), then removes it with every instances.delete of it
 * failing (so the flow cannot get past deleting the VM), and SIGKILLs the CLI
 * as soon as the journal says etcd has lost the member in both clusters: past
 * the point of no return, with the VM and its disk still there.
 */
async function removeKilledPastNoReturn(): Promise<{ name: string; zone: string; operationId: string }> {
  const add = await cli(lab, ['add', '--zone', 'us-central1-f', '--yes']);
  expect(add.code, add.stderr).toBe(0);
  await expectConsistent(lab, 4);
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
  await expectConsistent(lab, 3);
  expect((await status(lab)).replicas.map((r) => r.name)).not.toContain(name);
  expect(await aggregatedNames(lab, 'instances')).not.toContain(name);
  expect(await aggregatedNames(lab, 'disks')).not.toContain(`${name}-pd`);
  expect((await cli(lab, ['operation', 'status'])).stdout).toContain('no unfinished operation');
}

describe('kube-ha operations interrupted on a 3-zone lab', { timeout: 120_000 }, () => {
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
    await expectConsistent(lab, 3);
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
    await expectConsistent(lab, 4);
    const added = (await status(lab)).replicas.find((r) => r.zone === 'us-central1-f')!.name;
    expect((await cli(lab, ['remove', '--replica', added, '--yes'])).code).toBe(0);
    await expectConsistent(lab, 3);
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
    await expectConsistent(lab, 3);
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
});
