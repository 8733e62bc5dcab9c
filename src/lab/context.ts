// The context file a running lab leaves in its directory: everything a client
// needs to talk to it as to a real project.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LabContext {
  project: string;
  region: string;
  masterName: string;
  computeEndpoint: string;
  controlURL: string;
  supervisorPid: number;
  etcd: {
    main: { endpoints: string[]; caFile: string; certFile: string; keyFile: string };
    events: { endpoints: string[] };
  };
  /** kube-apiserver's port on every VM and on the load balancer (443 unless the lab could not bind it). */
  apiserver?: { port: number };
  createdAt: string;
}

/** kube-apiserver's port in GCE, and in the lab when it can bind it. */
export const DEFAULT_APISERVER_PORT = 443;

/**
 * The lab's kube-apiserver port: from the context file, else from what the
 * supervisor recorded (supervisor.json), else 443.
 */
export function readLabApiserverPort(dir: string): number {
  for (const file of [contextPath(dir), join(dir, 'supervisor.json')]) {
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as {
        apiserver?: { port?: unknown };
        apiserverPort?: unknown;
      };
      const port = doc.apiserver?.port ?? doc.apiserverPort;
      if (typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536) return port;
    } catch {
      // Not there (yet): try the next source.
    }
  }
  return DEFAULT_APISERVER_PORT;
}

export function contextPath(dir: string): string {
  return join(dir, 'context.json');
}

export function readLabContext(dir: string): LabContext {
  let text: string;
  try {
    text = readFileSync(contextPath(dir), 'utf8');
  } catch {
    throw new Error(`no lab in ${dir} (start one with: kube-ha lab up${dir ? ` --dir ${dir}` : ''})`);
  }
  return JSON.parse(text) as LabContext;
}

/** Replaces the file atomically: a reader sees the old context or the new one, never half of one. */
export function writeLabContext(dir: string, ctx: LabContext): void {
  // One temporary name per process: `lab up` and the supervisor may write at once.
  const tmp = `${contextPath(dir)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(ctx, null, 2)}\n`);
  renameSync(tmp, contextPath(dir));
}

/**
 * Endpoints for these hosts: scheme and port from the first current entry
 * (else the fallback), the current entries' order kept, new hosts appended.
 */
export function endpointsForHosts(
  current: readonly string[],
  hosts: readonly string[],
  fallback: { scheme: 'http' | 'https'; port: number },
): string[] {
  let scheme = `${fallback.scheme}:`;
  let port = String(fallback.port);
  const hostOf = new Map<string, string>();
  for (const e of current) {
    try {
      const u = new URL(e);
      hostOf.set(e, u.hostname);
      if (hostOf.size === 1) {
        scheme = u.protocol;
        port = u.port || port;
      }
    } catch {
      // Not a URL: dropped below, as its host is not a running VM's.
    }
  }
  const wanted = new Set(hosts);
  const kept = current.filter((e) => wanted.has(hostOf.get(e) ?? ''));
  const keptHosts = new Set(kept.map((e) => hostOf.get(e)));
  const added = [...wanted]
    .filter((h) => !keptHosts.has(h))
    .map((h) => `${scheme}//${h.includes(':') ? `[${h}]` : h}:${port}`);
  return [...kept, ...added];
}

/**
 * Points the context's etcd endpoints (main and events) at these hosts, the
 * internal IPs of the lab's RUNNING VMs, keeping everything else as `lab up`
 * wrote it. The lab's supervisor calls it on every Compute change: it sees
 * every instances.insert and instances.delete, so the context follows
 * membership changes whoever made them. Does nothing when there is no context
 * (yet: `lab up` writes it once etcd is healthy), when no VM runs (the last
 * endpoints say more than none), or when nothing changed. Returns whether it wrote.
 */
export function syncLabContextEndpoints(dir: string, hosts: readonly string[]): boolean {
  if (hosts.length === 0) return false;
  let ctx: LabContext;
  try {
    ctx = JSON.parse(readFileSync(contextPath(dir), 'utf8')) as LabContext;
  } catch {
    return false;
  }
  const main = endpointsForHosts(ctx.etcd.main.endpoints, hosts, { scheme: 'https', port: 2379 });
  const events = endpointsForHosts(ctx.etcd.events.endpoints, hosts, { scheme: 'http', port: 4002 });
  const same = (a: readonly string[], b: readonly string[]) =>
    a.length === b.length && a.every((e, i) => e === b[i]);
  if (same(main, ctx.etcd.main.endpoints) && same(events, ctx.etcd.events.endpoints)) return false;
  writeLabContext(dir, {
    ...ctx,
    etcd: {
      ...ctx.etcd,
      main: { ...ctx.etcd.main, endpoints: main },
      events: { ...ctx.etcd.events, endpoints: events },
    },
  });
  return true;
}
