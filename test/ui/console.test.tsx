import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { buildStatus } from '../../src/domain/status.js';
import type { ClusterStatus } from '../../src/domain/types.js';
import { createTheme } from '../../src/ui/theme.js';
import {
  degraded,
  healthy3,
  learnerPresent,
  memberId,
  memberWithoutVm,
  NAMES,
  noLeader,
  observations,
  vmWithoutMember,
} from './fixtures.js';
import { renderApp, storeWith } from './harness.js';

afterEach(() => cleanup());

const view = (status: ClusterStatus) => renderApp(storeWith(status)).text();

describe('console screen from store states', () => {
  it('on a replica: members seen through its own member are marked so', () => {
    // Run on replica a: x7k's main member gave no Status answer, a's member is connected to it.
    const obs = observations();
    const main = obs.etcd.main!;
    main.statuses = main.statuses.filter((st) => st.memberId !== memberId('main', 1));
    main.peers = {
      from: NAMES.a,
      url: 'http://127.0.0.1:2382/metrics',
      localMemberId: memberId('main', 0),
      hasLeader: true,
      leaderChanges: 0,
      peers: { [memberId('main', 1)]: { connected: true, latencyMs: 1.2 } },
      error: null,
    };
    const text = view(buildStatus(obs));
    expect(text).toMatch(/main +healthy \(seen\)/);
    expect(text.match(/\(seen\)/g)).toHaveLength(1);
  });

  it('healthy 3-zone: header, zones as columns, every card field in words', () => {
    const text = view(healthy3());
    const lines = text.split('\n');
    expect(lines[0]).toMatch(
      /^kube-ha · project acme-prod · region us-central1 · master kubernetes-master +READ-ONLY$/,
    );
    expect(text).toContain('apiserver 35.192.0.10 on load balancer kubernetes-master (3 replicas in pool)');
    expect(text).toContain(`main   3/3 healthy · quorum 2 · tolerates 1 failure · leader ★ ${NAMES.a}`);
    expect(text).toContain(`events 3/3 healthy · quorum 2 · tolerates 1 failure · leader ★ ${NAMES.b}`);
    // Zones side by side on one line.
    expect(text).toMatch(/us-central1-a \(1\) +us-central1-b \(1\) +us-central1-c \(1\)/);
    expect(text).toMatch(new RegExp(`▸ ${NAMES.a} +│ │ +${NAMES.b} +│ │ +${NAMES.c}`));
    expect(text).toContain('VM RUNNING · in pool');
    expect(text).toContain('10.128.0.2 34.66.10.10');
    expect(text).toContain('main   ★ healthy leader');
    expect(text).toContain('t4 i18342 2.1 MB v3.4.23');
    expect(text).toContain('✔ no warnings');
    expect(text).toContain('first observation: 3 replicas in 3 zones');
  });

  it('degraded: the crashed member is unreachable with its error, the new leader shows, errors come first', () => {
    const text = view(degraded());
    expect(text).toContain(`main   2/3 healthy · quorum 2 · tolerates no failure · leader ★ ${NAMES.b}`);
    expect(text).toContain('main   unreachable');
    expect(text).toContain('events unreachable');
    expect(text).toContain('✖ connection refused');
    expect(text).toContain('t5 i18343');
    const lines = text.split('\n');
    const firstError = lines.findIndex((l) => l.startsWith('✖ ERROR'));
    const warning = lines.findIndex((l) => l.startsWith('▲ WARN'));
    expect(text).toContain('Warnings (2 errors, 1 warning)');
    expect(firstError).toBeGreaterThan(0);
    expect(warning).toBeGreaterThan(firstError);
    expect(lines[firstError + 1]).toMatch(/^✖ ERROR/);
  });

  it('no leader: says so in words, quorum lost', () => {
    const text = view(noLeader());
    expect(text).toContain('main   0/3 healthy · quorum 2 · QUORUM LOST · NO LEADER');
    expect(text).toContain('main   unhealthy');
    expect(text).toContain('no leader visible from th');
    expect(text).toContain('✖ ERROR etcd main has no leader');
  });

  it('member without VM: MISSING, grouped apart, with its warning', () => {
    const text = view(memberWithoutVm());
    expect(text).toMatch(/no VM \(1\)/);
    // How long it has been sick takes the place of the pool on a narrow card.
    expect(text).toContain('VM MISSING · unhealthy 0s');
    expect(text).toContain(`✖ ERROR ${NAMES.c}: etcd member has no VM`);
  });

  it('VM without member: the card says there is no member', () => {
    const text = view(vmWithoutMember());
    expect(text).toContain(NAMES.d);
    expect(text).toContain('main   no member');
    expect(text).toContain('events no member');
    expect(text).toContain('▲ WARN  kubernetes-master-n3w: VM exists but is not a member of etcd main');
  });

  it('learner: marked on the card and counted in the quorum line', () => {
    const text = view(learnerPresent());
    expect(text).toContain('tolerates 1 failure · +1 learner');
    // A learner is a learner, with its catch-up (9120 of the leader's 18342), not "healthy".
    expect(text).toMatch(/main {3}learner 49%/);
    expect(text).toContain('Warnings (2 warnings)');
  });

  it('--ascii: nothing but ASCII on screen', () => {
    for (const s of [healthy3(), degraded(), learnerPresent()]) {
      const text = renderApp(storeWith(s), { theme: createTheme({ color: false, ascii: true }) }).text();
      expect(text).toContain('tolerates');
      const nonAscii = [...text].filter((ch) => ch.charCodeAt(0) > 0x7e && ch !== '\n');
      expect(nonAscii).toEqual([]);
    }
  });

  it('before anything is observed: waiting, not empty', () => {
    const text = renderApp(storeWith(null)).text();
    expect(text).toContain('main   waiting for the first poll');
    expect(text).toContain('waiting for the first observation...');
  });
});
