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
  createdAt: string;
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
