// Pure: a lease's holder health and expiry, and the words for a down holder.
import { describe, expect, it } from 'vitest';
import {
  downHolderText,
  holderHealth,
  leaseExpiresAt,
  othersUp,
} from '../../src/domain/leases/holder-health.js';
import { buildStatus } from '../../src/domain/status.js';
import type { ApiserverHealth, ReplicaView } from '../../src/domain/types.js';
import { crash, healthy, NAMES } from '../helpers/observations.js';

const replicas = (): ReplicaView[] => buildStatus(healthy()).replicas;
const api = (state: ApiserverHealth['state']): ApiserverHealth => ({
  healthy: state === 'ready',
  error: state === 'ready' ? null : 'x',
  url: 'https://h/readyz',
  state,
  failedChecks: [],
});

describe('holderHealth', () => {
  it('up: VM RUNNING, members answering; unknown without a replica', () => {
    expect(holderHealth(replicas()[0])).toEqual({ holderHealthy: true, down: null });
    expect(holderHealth(undefined)).toEqual({ holderHealthy: null, down: null });
  });

  it('down: a VM not RUNNING, an apiserver not answering, or every etcd member unreachable, each said', () => {
    const r = replicas()[1]!;
    expect(holderHealth({ ...r, vm: { ...r.vm, status: 'STOPPED' } })).toEqual({
      holderHealthy: false,
      down: 'its VM is STOPPED',
    });
    expect(holderHealth({ ...r, apiserver: api('not-answering') })).toEqual({
      holderHealthy: false,
      down: 'its apiserver is not answering',
    });
    // Alive but not ready is not down: the components on it may still renew.
    expect(holderHealth({ ...r, apiserver: api('not-ready') }).holderHealthy).toBe(true);
    const obs = healthy();
    obs.etcd.main = crash(obs.etcd.main!, 1);
    obs.etcd.events = crash(obs.etcd.events!, 1);
    const crashed = { ...buildStatus(obs).replicas[1]!, apiserver: api('not-answering') };
    expect(holderHealth(crashed)).toEqual({
      holderHealthy: false,
      down: 'its apiserver is not answering, its etcd members are unreachable',
    });
  });

  it('etcd only (VM unknown): an apiserver silent at a guessed address alone is not proof; with its members gone it is', () => {
    const obs = { ...healthy(), gce: null };
    const byName = (o: typeof obs) => buildStatus(o).replicas.find((x) => x.name === NAMES[1])!;
    const r = byName(obs);
    expect(r.vm.status).toBe('UNKNOWN');
    expect(holderHealth({ ...r, apiserver: api('not-answering') }).holderHealthy).toBe(true);
    obs.etcd.main = crash(obs.etcd.main!, 1);
    obs.etcd.events = crash(obs.etcd.events!, 1);
    const gone = { ...byName(obs), apiserver: api('not-answering') };
    expect(holderHealth(gone).holderHealthy).toBe(false);
    // Nothing known of it at all: unknown.
    expect(
      holderHealth({ ...gone, etcd: { main: null, events: null }, apiserver: undefined }).holderHealthy,
    ).toBe(null);
  });

  it('othersUp: another replica seen up, none, or unknown', () => {
    const rs = replicas();
    expect(othersUp(rs, NAMES[0]!)).toBe(true);
    const stopped = rs.map((r) => ({ ...r, vm: { ...r.vm, status: 'STOPPED' } }));
    expect(othersUp(stopped, NAMES[0]!)).toBe(false);
    expect(othersUp([rs[0]!], NAMES[0]!)).toBe(null);
  });
});

describe('leaseExpiresAt', () => {
  it('renewTime + leaseDurationSeconds, keeping MicroTime precision; null without either', () => {
    expect(leaseExpiresAt('2026-11-28T11:59:58.123456Z', 15)).toBe('2026-11-28T12:00:13.123456Z');
    expect(leaseExpiresAt('2026-12-31T23:59:50Z', 15)).toBe('2027-01-01T00:00:05Z');
    expect(leaseExpiresAt(null, 15)).toBeNull();
    expect(leaseExpiresAt('2026-11-28T11:59:58Z', null)).toBeNull();
    expect(leaseExpiresAt('not a time', 15)).toBeNull();
  });
});

describe('downHolderText', () => {
  it('says who holds it, why it is down, when it expires and what happens then', () => {
    const base = { holder: 'kubernetes-master-x7k', why: 'its VM is STOPPED', othersUp: true };
    expect(downHolderText({ ...base, expiresInS: 9.4 })).toBe(
      'held by kubernetes-master-x7k, which is down (its VM is STOPPED) — expires in 9 s, then another replica takes it',
    );
    expect(downHolderText({ ...base, expiresInS: 15, atMost: true, ascii: true })).toBe(
      'held by kubernetes-master-x7k, which is down (its VM is STOPPED) - expires in <=15 s, then another replica takes it',
    );
    expect(downHolderText({ ...base, expiresInS: -3, othersUp: false })).toBe(
      'held by kubernetes-master-x7k, which is down (its VM is STOPPED) — expired 3 s ago, no other replica is up to take it',
    );
    expect(downHolderText({ ...base, why: null, expiresInS: null })).toBe(
      'held by kubernetes-master-x7k, which is down',
    );
  });
});
