// The lab's context file follows the RUNNING VMs: what the supervisor writes
// after every Compute change (src/lab/context.ts syncLabContextEndpoints).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  contextPath,
  endpointsForHosts,
  type LabContext,
  readLabContext,
  syncLabContextEndpoints,
  writeLabContext,
} from '../../src/lab/context.js';

const ctx = (main: string[], events: string[]): LabContext => ({
  project: 'kube-ha-lab',
  region: 'us-central1',
  masterName: 'kubernetes-master',
  computeEndpoint: 'http://127.9.0.1:8080',
  controlURL: 'http://127.9.0.1:8080/lab/v1',
  supervisorPid: 4242,
  etcd: {
    main: { endpoints: main, caFile: '/pki/ca.crt', certFile: '/pki/c.crt', keyFile: '/pki/c.key' },
    events: { endpoints: events },
  },
  apiserver: { port: 6443 },
  createdAt: '2025-01-01T00:00:00.000Z',
});

describe('endpointsForHosts', () => {
  it('keeps the order of the hosts still there, appends new ones, drops the gone', () => {
    expect(
      endpointsForHosts(
        ['https://127.9.1.1:2379', 'https://127.9.1.2:2379', 'https://127.9.1.3:2379'],
        ['127.9.1.4', '127.9.1.3', '127.9.1.1'],
        { scheme: 'https', port: 2379 },
      ),
    ).toEqual(['https://127.9.1.1:2379', 'https://127.9.1.3:2379', 'https://127.9.1.4:2379']);
  });

  it('takes scheme and port from the existing entries, else the fallback', () => {
    expect(
      endpointsForHosts(['http://127.9.1.1:12379'], ['127.9.1.2'], { scheme: 'https', port: 2379 }),
    ).toEqual(['http://127.9.1.2:12379']);
    expect(endpointsForHosts([], ['127.9.1.2', '::1'], { scheme: 'http', port: 4002 })).toEqual([
      'http://127.9.1.2:4002',
      'http://[::1]:4002',
    ]);
  });
});

describe('syncLabContextEndpoints', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kube-ha-ctx-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('rewrites both clusters for the running VMs and keeps everything else', () => {
    const before = ctx(
      ['https://127.9.1.1:2379', 'https://127.9.1.2:2379'],
      ['http://127.9.1.1:4002', 'http://127.9.1.2:4002'],
    );
    writeLabContext(dir, before);
    expect(syncLabContextEndpoints(dir, ['127.9.1.2', '127.9.1.3'])).toBe(true);
    const after = readLabContext(dir);
    expect(after.etcd.main.endpoints).toEqual(['https://127.9.1.2:2379', 'https://127.9.1.3:2379']);
    expect(after.etcd.events.endpoints).toEqual(['http://127.9.1.2:4002', 'http://127.9.1.3:4002']);
    expect({ ...after, etcd: null }).toEqual({ ...before, etcd: null });
    expect(after.etcd.main.caFile).toBe('/pki/ca.crt');
    // Atomic: only the context itself is left, no temporary file.
    expect(readdirSync(dir)).toEqual(['context.json']);
  });

  it('does not write when nothing changed, when no VM runs, or when there is no context yet', () => {
    writeLabContext(dir, ctx(['https://127.9.1.1:2379'], ['http://127.9.1.1:4002']));
    const text = readFileSync(contextPath(dir), 'utf8');
    expect(syncLabContextEndpoints(dir, ['127.9.1.1'])).toBe(false);
    expect(syncLabContextEndpoints(dir, [])).toBe(false);
    expect(readFileSync(contextPath(dir), 'utf8')).toBe(text);
    rmSync(contextPath(dir));
    expect(syncLabContextEndpoints(dir, ['127.9.1.1'])).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});
