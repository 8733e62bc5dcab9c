// kube-ha recover's diagnosis and rebuild plan (pure).
import { describe, expect, it } from 'vitest';
import { diagnoseRecovery, renderDiagnosis } from '../../src/domain/ops/recover.js';
import { buildRecoverPlan, restoreCommands } from '../../src/domain/ops/recover-plan.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { crash } from '../helpers/observations.js';
import { crashed, status, vmStopped, withObs } from '../ops/fixtures.js';

const both = ['main', 'events'] as const;
const opts = (from: string | null = null, revisions = {}) => ({ clusters: [...both], from, revisions });
const names = (s: ClusterStatus) => s.replicas.map((r) => r.name);

describe('diagnoseRecovery', () => {
  it('refuses while the clusters have quorum', () => {
    const d = diagnoseRecovery(status(3), opts());
    expect(d.verdict).toBe('nothing');
    expect(d.refusals[0]).toMatch(/nothing to recover/);
  });

  it('refuses while one crashed replica of three leaves quorum', () => {
    expect(diagnoseRecovery(crashed(3, 1), opts()).verdict).toBe('nothing');
  });

  it('transient: a stopped and a hung replica, started first then reset, one at a time', () => {
    const s = withObs((o) => {
      o.gce!.instances[2]!.status = 'TERMINATED';
      for (const c of both) o.etcd[c] = crash(crash(o.etcd[c]!, 1), 2);
    });
    const [, hung, stopped] = names(s);
    const d = diagnoseRecovery(s, opts());
    expect(d.verdict).toBe('transient');
    expect(d.lost).toEqual(['main', 'events']);
    expect(d.remedies.map((r) => `${r.kind} ${r.replica}`)).toEqual([`start ${stopped}`, `reset ${hung}`]);
    const main = d.clusters[0]!;
    expect(main.members.map((m) => m.condition)).toEqual(['answering', 'hung', 'stopped']);
    expect(renderDiagnosis(d).join('\n')).toContain(`1. kube-ha start --replica ${stopped}`);
  });

  it('silent members whose VM status is not known yet (Compute has not answered): wait, never "data gone"', () => {
    const s = withObs((o) => {
      o.gce = null;
      for (const c of both) o.etcd[c] = crash(crash(o.etcd[c]!, 1), 2);
    });
    expect(s.replicas.map((r) => r.vm.status)).toEqual(['UNKNOWN', 'UNKNOWN', 'UNKNOWN']);
    const d = diagnoseRecovery(s, opts());
    expect(d.verdict).toBe('wait');
    expect(d.remedies).toEqual([]);
    expect(d.refusals[0]).toMatch(/not known yet .*look again/);
    expect(renderDiagnosis(d).join('\n')).toContain('diagnosis: NOT KNOWN YET');
  });

  it('a member answering with raft index 0 lost its data: with one survivor, the operator must choose', () => {
    const s = withObs((o) => {
      for (const c of both)
        for (const i of [1, 2])
          Object.assign(o.etcd[c]!.statuses[i]!, { raftIndex: 0, raftAppliedIndex: 0, leaderId: '0' });
    });
    const d = diagnoseRecovery(s, opts(null, { main: { [names(s)[0]!]: '42' } }));
    expect(d.clusters[0]!.members[2]!.condition).toBe('data-lost');
    expect(d.verdict).toBe('choose');
    expect(d.refusals[0]).toContain('kube-ha recover --from REPLICA');
  });

  it('permanent with --from: the survivors with their revisions, and how far the chosen one is behind', () => {
    const s = crashed(3, 2);
    const stopped = vmStopped(3, 'TERMINATED', 1, 2);
    const [a, b] = names(s);
    // Two answer, one is down; quorum holds, so take a status where two are down.
    const lost = withObs((o) => {
      for (const c of both) o.etcd[c] = crash(crash(o.etcd[c]!, 1), 2);
    });
    const d = diagnoseRecovery(lost, opts(a!, { main: { [a!]: '90' } }));
    expect(d.verdict).toBe('permanent');
    expect(d.from).toBe(a);
    expect(d.survivors.find((x) => x.cluster === 'main')).toMatchObject({
      replica: a,
      revision: '90',
      behind: 0,
    });
    const refused = diagnoseRecovery(lost, opts(b!));
    expect(refused.refusals.join('\n')).toMatch(/does not answer with its data/);
    expect(diagnoseRecovery(stopped, opts('nope')).refusals[0]).toMatch(/no such replica/);
  });

  it('the revision gap between survivors is what a rebuild from the one behind loses', () => {
    const s = withObs((o) => {
      for (const c of both) o.etcd[c] = crash(crash(crash(o.etcd[c]!, 2), 3), 4);
    }, 5);
    const [a, b] = diagnoseRecovery(s, opts())
      .clusters[0]!.members.filter((m) => m.condition === 'answering')
      .map((m) => m.replica);
    const d = diagnoseRecovery(s, opts(b!, { main: { [a!]: '100', [b!]: '97' } }));
    expect(d.verdict).toBe('permanent');
    expect(d.survivors.find((x) => x.cluster === 'main' && x.replica === b)?.behind).toBe(3);
    expect(d.reasons.join('\n')).toContain('3 revisions behind');
  });
});

describe('buildRecoverPlan', () => {
  const lost = () =>
    withObs((o) => {
      for (const c of both) o.etcd[c] = crash(crash(o.etcd[c]!, 1), 2);
    });

  it('snapshot, restore, verify per cluster, then every other replica removed, then added in its zone', () => {
    const s = lost();
    const [a, b, c] = s.replicas;
    const built = buildRecoverPlan(s, diagnoseRecovery(s, opts(a!.name)), { id: 'recover-t' });
    if (!built.ok) throw new Error(built.reason);
    expect(built.plan.steps.map((x) => x.id)).toEqual([
      'snapshot.main',
      'restore.main',
      'verify.main',
      'snapshot.events',
      'restore.events',
      'verify.events',
      `remove.${b!.name}`,
      `remove.${c!.name}`,
      `add.${b!.name}`,
      `add.${c!.name}`,
    ]);
    const add = built.plan.steps.find((x) => x.kind === 'add');
    expect(add).toMatchObject({ zone: b!.zone });
    expect(built.plan.why.join(' ')).toMatch(/--force-new-cluster/);
    const restore = built.plan.steps.find((x) => x.kind === 'restore' && x.cluster === 'events');
    if (restore?.kind !== 'restore') throw new Error('no restore step');
    const cmds = restoreCommands(built.plan, restore, '/state/snap.db', 'T0');
    expect(cmds.join('\n')).toContain(`gcloud compute ssh ${a!.name} --zone ${a!.zone}`);
    expect(cmds.join('\n')).toContain('/etc/kubernetes/manifests/etcd-events.manifest');
    expect(cmds.join('\n')).toContain('data-events.before-restore-T0');
    expect(cmds.join('\n')).toMatch(
      /snapshot restore .* --name etcd-\S+ --initial-cluster etcd-\S+=https:\/\/\S+:2381/,
    );
    expect(cmds.join('\n')).not.toMatch(/rm -rf/);
  });

  it('needs a permanent diagnosis', () => {
    const s = lost();
    expect(buildRecoverPlan(s, diagnoseRecovery(s, opts())).ok).toBe(false);
  });
});
