// An incident on a small terminal and in the export: at 80x24 the newest event
// stays on screen (one line) however many warnings there are; the `e` export's
// times are UTC with a date, and it carries the leases with their holders'
// health and every member's health state.
import { afterEach, describe, expect, it } from 'vitest';
import type { ComponentLeaderRecords, LeaseSpec } from '../../src/domain/leases/types.js';
import { buildStatus } from '../../src/domain/status.js';
import type { ApiserverProbe, ClusterStatus } from '../../src/domain/types.js';
import { buildIncidentLog, buildLeasesSlot } from '../../src/store/index.js';
import { answer, degradedObservations, memberId, NAMES, T0 } from './fixtures.js';
import { app, renderSized, storeWith, width } from './harness.js';

let unmount: (() => void) | null = null;
afterEach(() => {
  unmount?.();
  unmount = null;
});

const UUID = '0b1c7f6e-3c1d-4a52-9d8e-0f6a2b7c9d11';

function lease(component: string, holder: string, lastChangeAt: number): ComponentLeaderRecords {
  const spec: LeaseSpec = {
    holderIdentity: holder,
    leaseDurationSeconds: 15,
    acquireTime: '2026-11-28T11:50:00.000000Z',
    renewTime: new Date(lastChangeAt).toISOString().replace('Z', '000Z'),
    leaseTransitions: 2,
    strategy: null,
    preferredHolder: null,
  };
  return {
    component,
    lease: {
      key: `/registry/leases/kube-system/${component}`,
      modRevision: '100',
      record: {
        state: 'decoded',
        source: 'lease',
        encoding: 'protobuf',
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        name: component,
        namespace: 'kube-system',
        uid: 'u',
        creationTimestamp: null,
        spec,
      },
      watch: { since: T0 - 60_000, lastChangeAt, connected: true },
    },
    endpoints: null,
    configmap: null,
  };
}

/**
 * degraded()'s observations (NAMES.a's members unreachable, NAMES.c out of the
 * pool), etcd main in NOSPACE as its answering members report it, and two
 * apiservers down: a pile of warnings.
 */
function incident(): ClusterStatus {
  const obs = degradedObservations();
  const nospace = `memberID:${BigInt(`0x${memberId('main', 2)}`)} alarm:NOSPACE `;
  for (const i of [1, 2]) answer(obs, 'main', i, { errors: [nospace] });
  const probe = (i: number, over: Partial<ApiserverProbe>): ApiserverProbe => ({
    host: `10.128.0.${i + 2}`,
    url: `https://10.128.0.${i + 2}/readyz`,
    healthy: true,
    error: null,
    answered: true,
    ...over,
  });
  obs.apiservers = [
    probe(0, { healthy: false, answered: false, error: 'connection refused' }),
    probe(1, { healthy: false, error: 'HTTP 500: [-]etcd failed', failedChecks: ['etcd'] }),
    probe(2, {}),
  ];
  return buildStatus(obs);
}

function incidentStore() {
  const now = T0 + 6000;
  const store = storeWith(incident(), { now: () => now });
  store.getState().applyLeases(
    buildLeasesSlot(
      {
        records: [
          lease('kube-controller-manager', `${NAMES.a}_${UUID}`, T0),
          lease('kube-scheduler', `${NAMES.b}_${UUID}`, now - 500),
        ],
        watching: true,
        error: null,
        now,
      },
      Object.values(NAMES),
    ),
    now,
  );
  store.getState().recordEvent({
    at: now,
    kind: 'lease',
    severity: 'warning',
    message: 'cluster-autoscaler: leader moved kubernetes-master -> kubernetes-master-q2p',
  });
  return store;
}

describe('an incident at 80x24', () => {
  it('the newest event stays on screen in one line, under a full warnings panel', () => {
    const store = incidentStore();
    const ui = renderSized(app(store), 80, 24);
    unmount = ui.unmount;
    const lines = ui.text().split('\n');
    expect(lines.length).toBeLessThan(24);
    for (const l of lines) expect(width(l)).toBeLessThanOrEqual(80);
    expect(lines.some((l) => l.startsWith('Warnings ('))).toBe(true);
    const events = lines.find((l) => l.startsWith('Events'));
    expect(events).toMatch(
      /^Events (\(\d+\) )?\d\d:\d\d:\d\d ▲ cluster-autoscaler: leader moved kubernetes-master/,
    );
    // The warnings panel gave up rows for it and says how many it hides.
    expect(ui.text()).toMatch(/… \d+ more \(e exports all\)/);
  });
});

describe('the incident export', () => {
  it('UTC times with a date, the lease table with holder health, every member state', () => {
    const store = incidentStore();
    const at = T0 + 7000;
    const { markdown, json } = buildIncidentLog(store.getState(), at);
    // No bare clock time anywhere: every time of day carries its date and Z.
    for (const m of markdown.matchAll(/\d\d:\d\d:\d\d/g)) {
      expect(markdown.slice(Math.max(0, (m.index ?? 0) - 11), (m.index ?? 0) + 8)).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/,
      );
    }
    expect(markdown).toContain(
      `- ${new Date(T0 + 6000).toISOString()} [warning] lease: cluster-autoscaler: leader moved`,
    );
    expect(markdown).toContain('## Leader leases');
    expect(markdown).toContain(
      `| kube-controller-manager | held | ${NAMES.a} | DOWN: its apiserver is not answering, its etcd members are unreachable | not for 6s | ${new Date(T0 + 15_000).toISOString()} | 2 |`,
    );
    expect(markdown).toContain(`| kube-scheduler | held | ${NAMES.b} | up | within 5s | - | 2 |`);
    expect(markdown).toContain('## etcd members');
    expect(markdown).toMatch(
      new RegExp(`\\| main \\| ${NAMES.a} \\| [0-9a-f]+ \\| unreachable \\| - \\| connection refused \\|`),
    );
    expect(markdown).toMatch(new RegExp(`\\| main \\| ${NAMES.c} \\| [0-9a-f]+ \\| alarm \\| NOSPACE \\|`));

    const j = JSON.parse(json);
    expect(j.exportedAt).toBe(new Date(at).toISOString());
    expect(j.leases[0]).toMatchObject({
      name: 'kube-controller-manager',
      holderReplica: NAMES.a,
      holderHealthy: false,
      holderDown: 'its apiserver is not answering, its etcd members are unreachable',
      expiresAt: new Date(T0 + 15_000).toISOString(),
    });
    expect(j.leases[1]).toMatchObject({ holderHealthy: true, expiresAt: null, renewedWithinS: 5 });
    expect(j.members).toContainEqual(
      expect.objectContaining({ cluster: 'main', replica: NAMES.c, state: 'alarm', alarms: ['NOSPACE'] }),
    );
    for (const e of j.timeline) expect(e.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
