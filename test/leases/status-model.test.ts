// The model's share of issue 4: leases and per-replica apiserver health in the
// status, and their warnings. Pure: observations in, status out.
import { describe, expect, it } from 'vitest';
import { renderStatusText } from '../../src/cli/status-text.js';
import type { ComponentLeaderRecords, LeaseSpec } from '../../src/domain/leases/types.js';
import { apiserverHostOf, buildStatus, statusExitCode } from '../../src/domain/status.js';
import type { ApiserverProbe, Warning } from '../../src/domain/types.js';
import { healthy, instance, NAMES } from '../helpers/observations.js';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const UUID = '0b1c7f6e-3c1d-4a52-9d8e-0f6a2b7c9d11';
const codes = (ws: Warning[]) => ws.map((w) => `${w.severity}:${w.code}`).sort();

function leaseAt(component: string, holder: string, renewMs: number, duration = 5): ComponentLeaderRecords {
  const t = new Date(renewMs).toISOString().replace('Z', '000Z');
  const spec: LeaseSpec = {
    holderIdentity: holder,
    leaseDurationSeconds: duration,
    acquireTime: '2026-11-28T11:00:00.123456Z',
    renewTime: t,
    leaseTransitions: 4,
    strategy: null,
    preferredHolder: null,
  };
  return {
    component,
    lease: {
      key: `/registry/leases/kube-system/${component}`,
      modRevision: '42',
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
    },
    endpoints: null,
    configmap: null,
  };
}

const probe = (
  host: string,
  ok: boolean,
  answered = ok,
  error = ok ? null : 'HTTP 500: etcd failed',
): ApiserverProbe => ({
  host,
  url: `https://${host}:443/healthz`,
  healthy: ok,
  answered,
  error,
});

describe('status with leases and apiserver health', () => {
  it('healthy: three held leases mapped to replicas (clock rule, labelled), every apiserver healthy, no warning', () => {
    const obs = {
      ...healthy(),
      now: new Date(NOW + 4000),
      leases: {
        components: [
          leaseAt('kube-controller-manager', `${NAMES[1]}_${UUID}`, NOW - 1000),
          leaseAt('kube-scheduler', `${NAMES[0]}_${UUID}`, NOW - 500),
          leaseAt('cluster-autoscaler', NAMES[2]!, NOW - 800),
        ],
        error: null,
        readAt: NOW,
      },
      apiservers: [probe('127.20.1.1', true), probe('127.20.1.2', true), probe('127.20.1.3', true)],
    };
    const s = buildStatus(obs);
    expect(s.leases?.map((l) => [l.name, l.state, l.holderReplica, l.judgedBy])).toEqual([
      ['kube-controller-manager', 'held', NAMES[1], 'clock'],
      ['kube-scheduler', 'held', NAMES[0], 'clock'],
      ['cluster-autoscaler', 'held', NAMES[2], 'clock'],
    ]);
    expect(s.leases?.[0]).toMatchObject({
      holderIdentity: `${NAMES[1]}_${UUID}`,
      leaseDurationSeconds: 5,
      acquireTime: '2026-11-28T11:00:00.123456Z',
      leaseTransitions: 4,
      source: 'lease',
    });
    expect(s.leasesReadAt).toBe(new Date(NOW).toISOString());
    expect(s.replicas.map((r) => r.apiserver)).toEqual([
      { healthy: true, error: null, url: 'https://127.20.1.1:443/healthz' },
      { healthy: true, error: null, url: 'https://127.20.1.2:443/healthz' },
      { healthy: true, error: null, url: 'https://127.20.1.3:443/healthz' },
    ]);
    expect(s.warnings).toEqual([]);
    const text = renderStatusText(s);
    expect(text).toContain("LEASES (alive or stale judged by renewTime against this machine's clock)");
    expect(text).toMatch(
      new RegExp(`kube-controller-manager +held +${NAMES[1]} +1s ago +4 +lease +${NAMES[1]}_${UUID}`),
    );
    expect(text).toMatch(/INTERNAL IP .* APISERVER/);
  });

  it('the clock rule is judged at the read, not at the end of the status: a slow Compute answer does not age a lease', () => {
    const obs = {
      ...healthy(),
      now: new Date(NOW + 60_000),
      leases: {
        components: [leaseAt('kube-scheduler', `${NAMES[0]}_${UUID}`, NOW - 1000)],
        error: null,
        readAt: NOW,
      },
    };
    expect(buildStatus(obs).leases?.[0]?.state).toBe('held');
    const late = buildStatus({ ...obs, leases: { ...obs.leases, readAt: NOW + 60_000 } });
    expect(late.leases?.[0]).toMatchObject({ state: 'stale', staleBy: 'clock' });
    expect(codes(late.warnings)).toEqual(['error:STALE_LEASE']);
    expect(statusExitCode(late)).toBe(5);
  });

  it('an unhealthy apiserver is an error on a RUNNING VM; a stopped VM has its own warning instead', () => {
    const obs = healthy();
    obs.gce!.instances[2] = instance(2, { status: 'TERMINATED' });
    const s = buildStatus({
      ...obs,
      apiservers: [probe('127.20.1.1', true), probe('127.20.1.2', false, true), probe('127.20.1.3', false)],
    });
    const w = s.warnings.filter((x) => x.code === 'APISERVER_UNHEALTHY');
    expect(w).toEqual([
      {
        code: 'APISERVER_UNHEALTHY',
        severity: 'error',
        replica: NAMES[1],
        message: `${NAMES[1]}: kube-apiserver https://127.20.1.2:443/healthz unhealthy: HTTP 500: etcd failed`,
      },
    ]);
    expect(s.replicas[2]?.apiserver).toMatchObject({ healthy: false });
  });

  it('etcd-only: the apiserver is looked for at the member client URL host; nothing there is only a warning', () => {
    const obs = { ...healthy(), gce: null };
    const r = buildStatus(obs).replicas[0]!;
    expect(apiserverHostOf(r, false)).toBe('127.20.1.1');
    expect(apiserverHostOf(r, true)).toBe('127.20.1.1');
    const s = buildStatus({
      ...obs,
      apiservers: [
        probe('127.20.1.1', false, false, 'connection refused'),
        probe('127.20.1.2', true),
        probe('127.20.1.3', false, true),
      ],
    });
    expect(codes(s.warnings)).toEqual(['error:APISERVER_UNHEALTHY', 'warning:APISERVER_UNHEALTHY']);
    expect(s.warnings.find((w) => w.severity === 'warning')?.message).toMatch(
      /not answering: connection refused/,
    );
  });

  it('leases that could not be read: empty, with the reason; not read at all: absent', () => {
    const failed = buildStatus({
      ...healthy(),
      leases: { components: null, error: 'leases not read: deadline' },
    });
    expect(failed.leases).toEqual([]);
    expect(failed.leasesError).toBe('leases not read: deadline');
    expect(renderStatusText(failed)).toContain('unknown: leases not read: deadline');
    const none = buildStatus(healthy());
    expect('leases' in none).toBe(false);
    expect(none.replicas[0] && 'apiserver' in none.replicas[0]).toBe(false);
  });
});
