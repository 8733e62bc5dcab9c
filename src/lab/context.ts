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

export function writeLabContext(dir: string, ctx: LabContext): void {
  const tmp = `${contextPath(dir)}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(ctx, null, 2)}\n`);
  renameSync(tmp, contextPath(dir));
}
