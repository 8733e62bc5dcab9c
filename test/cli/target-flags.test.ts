import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventsFromMain, parseEndpoints, resolveTarget } from '../../src/cli/target-flags.js';
import { UsageError } from '../../src/cli/usage.js';

const env = { HOME: '/nonexistent' } as NodeJS.ProcessEnv;

describe('target flags', () => {
  it('etcd-only mode from --etcd-endpoints, events derived on port 4002', () => {
    const t = resolveTarget({ 'etcd-endpoints': 'https://10.0.0.2:2379,10.0.0.3:2379' }, env);
    expect(t.compute).toBeNull();
    expect(t.etcd.main?.endpoints).toEqual(['https://10.0.0.2:2379', 'https://10.0.0.3:2379']);
    expect(t.etcd.events?.endpoints).toEqual(['http://10.0.0.2:4002', 'http://10.0.0.3:4002']);
    expect(t.callTimeoutMs).toBe(1500);
  });

  it("takes etcdctl's and gcloud's environment variables", () => {
    const t = resolveTarget(
      { region: 'us-central1' },
      { ...env, ETCDCTL_ENDPOINTS: 'http://127.0.0.1:2379', CLOUDSDK_CORE_PROJECT: 'p1' },
    );
    expect(t.project).toBe('p1');
    expect(t.compute).toEqual({ endpoint: null });
    expect(t.etcd.main?.endpoints).toEqual(['http://127.0.0.1:2379']);
  });

  it.each([
    [{}, /no target/],
    [{ 'etcd-endpoints': 'ftp://x:1' }, /must be http or https/],
    [{ 'etcd-endpoints': 'https://x' }, /has no port/],
    [{ 'etcd-endpoints': 'http://a:1', timeout: 'soon' }, /--timeout/],
    [{ project: 'p' }, /--region is required/],
    [{ region: 'us-central1' }, /--project is required/],
    [{ 'etcd-endpoints': 'http://a:1', cacert: '/no/such/ca.crt' }, /no such file/],
    [{ 'etcd-endpoints': 'http://a:1', 'etcd-prefix': 'registry' }, /must start with \//],
    [{ lab: true, project: 'p' }, /cannot be combined/],
    [{ 'etcd-endpoints': 'http://a:1', 'apiserver-port': '0' }, /--apiserver-port: '0' is not a port/],
    [{ 'etcd-endpoints': 'http://a:1', 'apiserver-port': 'https' }, /is not a port/],
    [{ lab: true, 'apiserver-port': '6443' }, /cannot be combined/],
  ])('refuses %j with a clear reason', (values, reason) => {
    expect(() => resolveTarget(values, env)).toThrow(UsageError);
    expect(() => resolveTarget(values, env)).toThrow(reason);
  });

  it('--cert needs --key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-ha-tls-'));
    try {
      const f = join(dir, 'c.crt');
      writeFileSync(f, 'x');
      expect(() => resolveTarget({ 'etcd-endpoints': 'https://a:1', cert: f }, env)).toThrow(/go together/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a lab dir without a lab is an error that says how to start one', () => {
    expect(() => resolveTarget({ 'lab-dir': '/nonexistent/lab' }, env)).toThrow(/kube-ha lab up/);
  });

  it("kube-apiserver's port: 443 unless --apiserver-port says otherwise", () => {
    expect(resolveTarget({ 'etcd-endpoints': 'https://10.0.0.2:2379' }, env).apiserverPort).toBe(443);
    expect(
      resolveTarget({ 'etcd-endpoints': 'https://10.0.0.2:2379', 'apiserver-port': '6443' }, env)
        .apiserverPort,
    ).toBe(6443);
  });

  it("a lab target carries the lab's apiserver port (context, else supervisor.json, else 443)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-ha-labctx-'));
    try {
      const ctx = {
        project: 'p',
        region: 'us-central1',
        masterName: 'kubernetes-master',
        computeEndpoint: 'http://127.9.0.1:8080',
        controlURL: 'http://127.9.0.1:8080/lab/v1',
        supervisorPid: 1,
        etcd: {
          main: { endpoints: ['https://127.9.1.1:2379'], caFile: 'ca', certFile: 'c', keyFile: 'k' },
          events: { endpoints: ['http://127.9.1.1:4002'] },
        },
        createdAt: '2025-01-01T00:00:00Z',
      };
      writeFileSync(join(dir, 'context.json'), JSON.stringify(ctx));
      expect(resolveTarget({ 'lab-dir': dir }, env).apiserverPort).toBe(443);
      writeFileSync(join(dir, 'supervisor.json'), JSON.stringify({ apiserverPort: 6443 }));
      expect(resolveTarget({ 'lab-dir': dir }, env).apiserverPort).toBe(6443);
      writeFileSync(join(dir, 'context.json'), JSON.stringify({ ...ctx, apiserver: { port: 8443 } }));
      expect(resolveTarget({ 'lab-dir': dir }, env).apiserverPort).toBe(8443);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('endpoint helpers', () => {
    expect(parseEndpoints('a:1, b:2', '--x')).toEqual(['https://a:1', 'https://b:2']);
    expect(eventsFromMain(['https://[::1]:2379'])).toEqual(['http://[::1]:4002']);
  });
});
