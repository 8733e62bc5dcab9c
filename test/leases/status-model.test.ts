// The model's share of issue 4: leases and per-replica apiserver health in the
// status, and their warnings. Pure: observations in, status out.
import { describe, expect, it } from 'vitest';
import { renderStatusText } from '../../src/cli/status-text.js';
import type { ComponentLeaderRecords, LeaseSpec } from '../../src/domain/leases/types.js';
import { apiserverHostOf, buildStatus, statusExitCode } from '../../src/domain/status.js';
import type { ApiserverProbe, Warning } from '../../src/domain/types.js';
import { crash, healthy, instance, NAMES } from '../helpers/observations.js';

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
  url: `https://${host}:443/readyz`,
  healthy: ok,
  answered,
  error,
  failedChecks: !ok && answered ? ['etcd'] : [],
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
    const ready = (ip: string) => ({
      healthy: true,
      error: null,
      url: `https://${ip}:443/readyz`,
      state: 'ready',
      failedChecks: [],
    });
    expect(s.replicas.map((r) => r.apiserver)).toEqual([
      ready('127.20.1.1'),
      ready('127.20.1.2'),
      ready('127.20.1.3'),
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
        message: `${NAMES[1]}: apiserver not ready while its VM is RUNNING: HTTP 500: etcd failed (https://127.20.1.2:443/readyz)`,
      },
    ]);
    expect(s.replicas[1]?.apiserver).toMatchObject({ state: 'not-ready', failedChecks: ['etcd'] });
    expect(s.replicas[2]?.apiserver).toMatchObject({ healthy: false, state: 'not-answering' });
  });

  it('the load balancer: probed through its IP; a pool without a health check is a warning once an apiserver in it is down', () => {
    const healthyAll = buildStatus({
      ...healthy(),
      apiservers: [
        probe('127.20.1.1', true),
        probe('127.20.1.2', true),
        probe('127.20.1.3', true),
        probe('127.20.3.1', true),
      ],
    });
    expect(healthyAll.loadBalancer).toMatchObject({
      healthChecks: [],
      apiserver: { state: 'ready', url: 'https://127.20.3.1:443/readyz' },
    });
    expect(healthyAll.warnings).toEqual([]);
    expect(renderStatusText(healthyAll)).toMatch(
      /load balancer: .* · no health check · apiserver through it: ready/,
    );
    const oneDown = buildStatus({
      ...healthy(),
      apiservers: [
        probe('127.20.1.1', true),
        probe('127.20.1.2', false, false, 'connection refused'),
        probe('127.20.1.3', true),
        probe('127.20.3.1', true),
      ],
    });
    expect(oneDown.warnings.filter((w) => w.code === 'LOAD_BALANCER_NO_HEALTH_CHECK')).toEqual([
      {
        code: 'LOAD_BALANCER_NO_HEALTH_CHECK',
        severity: 'warning',
        message: `target pool kubernetes-master has no health check: ${NAMES[1]}'s apiserver is down but still gets 1/3 of the traffic (connections there fail)`,
      },
    ]);
    expect(renderStatusText(oneDown)).toMatch(new RegExp(`${NAMES[1]} .* not answering`));
    // With a health check GCE stops sending it traffic: nothing to say.
    const obs = healthy();
    obs.gce!.targetPool!.healthChecks = ['https://compute/projects/p/global/httpHealthChecks/hc'];
    const checked = buildStatus({
      ...obs,
      apiservers: oneDown.replicas.length ? [probe('127.20.1.2', false)] : [],
    });
    expect(checked.warnings.map((w) => w.code)).not.toContain('LOAD_BALANCER_NO_HEALTH_CHECK');
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

  it('a lease held by a crashed replica: holderHealthy false with why, expiresAt; the text says when it expires', () => {
    const obs = healthy();
    obs.etcd.main = crash(obs.etcd.main!, 1);
    obs.etcd.events = crash(obs.etcd.events!, 1);
    const s = buildStatus({
      ...obs,
      now: new Date(NOW + 500),
      leases: {
        components: [
          leaseAt('kube-controller-manager', `${NAMES[1]}_${UUID}`, NOW - 2000, 15),
          leaseAt('kube-scheduler', `${NAMES[0]}_${UUID}`, NOW - 500),
          leaseAt('cluster-autoscaler', 'somewhere-else', NOW - 500),
        ],
        error: null,
        readAt: NOW,
      },
      apiservers: [probe('127.20.1.1', true), probe('127.20.1.2', false, false, 'connection refused')],
    });
    expect(s.leases?.map((l) => [l.name, l.holderHealthy, l.expiresAt])).toEqual([
      ['kube-controller-manager', false, new Date(NOW + 13_000).toISOString().replace('Z', '000Z')],
      ['kube-scheduler', true, new Date(NOW + 4500).toISOString().replace('Z', '000Z')],
      ['cluster-autoscaler', null, new Date(NOW + 4500).toISOString().replace('Z', '000Z')],
    ]);
    expect(s.leases?.[0]?.holderDown).toBe(
      'its apiserver is not answering, its etcd members are unreachable',
    );
    expect(JSON.parse(JSON.stringify(s)).leases[0]).toMatchObject({ holderHealthy: false });
    expect(renderStatusText(s)).toContain(
      `  kube-controller-manager: held by ${NAMES[1]}, which is down (its apiserver is not answering, its etcd members are unreachable) — expires in 13 s, then another replica takes it`,
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
