// Issue 5 on a three-zone lab, through the CLI: refusals that change nothing,
// replace after a crash, add to 4 (warned) while a second operation is
// refused, remove back to 3, an instance insert that fails and a new member
// that never catches up (each rolled back, the cluster consistent); a journal
// the cluster no longer matches, and an unreadable one. The interrupted
// operations are in ops-three-kill.lab.test.ts, on a lab of their own.
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveTarget } from '../../src/cli/target-flags.js';
import { newJournal } from '../../src/domain/ops/journal.js';
import { buildPlan } from '../../src/domain/ops/plan.js';
import { LAB_FAULT_KEY } from '../../src/lab/vm.js';
import { JournalStore } from '../../src/ops/journal-store.js';
import { eventually, runCli } from '../helpers/cli.js';
import {
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

describe('kube-ha add/remove/replace on a 3-zone lab', { timeout: 120_000 }, () => {
  it('refuses, changing nothing: an unknown replica, a zone in another region, removing a healthy replica while another is down', async () => {
    // Every member answering first: a shape taken while etcd main still starts has no member IDs.
    await expectConsistent(lab, 3);
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
    await expectConsistent(lab, 3);
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
    await expectConsistent(lab, 4);
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
    await expectConsistent(lab, 3);
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
    await expectConsistent(lab, 3);
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
    await expectConsistent(lab, 3);
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
