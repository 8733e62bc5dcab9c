// The lab's own control API, beside the Compute API on the same server:
// incident rehearsal (crash, optionally wiping etcd's data, freeze, restart a
// VM; stop its instance as GCE would; an apiserver alive but not ready; the
// on-VM steps of an etcd restore, `POST /lab/v1/vms/NAME/etcd-restore
// {"cluster": "main", "snapshot": "/abs/file.db"}`), fault
// injection, shutdown.
// `POST /lab/v1/images/delete {"project": "cos-cloud", "image": "NAME"}`
// removes a public image from the catalog (a source VM's image that no longer
// exists, as GCE deletes old images): the Compute service, which owns the
// catalog, answers it before handing the rest of /lab/v1 to this handler.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listeningApiserver } from './components/apiserver.js';
import type { Fleet } from './fleet.js';

export interface ControlDeps {
  fleet: Fleet;
  setFault(fault: unknown): void;
  clearFaults(): void;
  /** Armed faults with their hits (`GET /lab/v1/faults`). */
  listFaults(): unknown[];
  /** `lab stop NAME`: the instance TERMINATED as GCE does it, through instances.stop's path. */
  stopInstance(name: string): Promise<{ status: string; error?: unknown }>;
  shutdown(): void;
}

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

/**
 * `POST /lab/v1/vms/NAME/apiserver {"ready": false}`: the VM's kube-apiserver
 * alive but not ready (its /readyz fails `shutdown`, as in a graceful
 * termination), or ready again. Refused, changing nothing, for a VM without a
 * listening apiserver or a body without a boolean `ready`.
 */
function setApiserverReady(
  fleet: Fleet,
  name: string,
  body: unknown,
): { vm: string; apiserver: string; ready: boolean } {
  const ready = (body as { ready?: unknown } | null)?.ready;
  if (typeof ready !== 'boolean') throw new Error('body must be {"ready": true|false}');
  const vm = fleet.describe().find((v) => v.name === name);
  if (!vm) throw new Error(`no running lab VM named ${name}`);
  const url = vm.controlPlane?.apiserver;
  const api = url ? listeningApiserver(url) : undefined;
  if (!url || !api) throw new Error(`${name} has no kube-apiserver listening (VM ${vm.state})`);
  api.setReady(ready);
  return { vm: name, apiserver: url, ready: api.ready };
}

/**
 * `POST /lab/v1/vms/NAME/slow-disk {"cluster": "main", "delayMs": 20}`: every
 * fsync of that member delayed (slow-disk.ts); `delayMs` 0 ends it. Refused,
 * changing nothing, for a bad body or a member that is not running.
 */
async function setSlowDisk(
  fleet: Fleet,
  name: string,
  body: unknown,
): Promise<{ vm: string; cluster: string; delayMs: number; slowed: string[] }> {
  const b = (body ?? {}) as { cluster?: unknown; delayMs?: unknown };
  const cluster = b.cluster ?? 'main';
  if (cluster !== 'main' && cluster !== 'events') throw new Error('cluster must be "main" or "events"');
  const delayMs = b.delayMs;
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0 || delayMs > 10_000)
    throw new Error('delayMs must be a number of milliseconds from 0 (off) to 10000');
  await fleet.slowDisk(name, cluster, delayMs);
  return { vm: name, cluster, delayMs, slowed: fleet.slowedDisks() };
}

export function controlHandler(deps: ControlDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://lab');
    const parts = url.pathname.split('/').filter(Boolean); // lab v1 ...
    if (parts[0] !== 'lab' || parts[1] !== 'v1') return send(res, 404, { error: `no route ${url.pathname}` });
    try {
      if (req.method === 'GET' && parts[2] === 'vms' && parts.length === 3) {
        return send(res, 200, { vms: deps.fleet.describe(), supervisorPid: process.pid });
      }
      if (req.method === 'POST' && parts[2] === 'vms' && parts.length === 5 && parts[4] === 'apiserver') {
        return send(
          res,
          200,
          setApiserverReady(deps.fleet, decodeURIComponent(parts[3] ?? ''), await readJson(req)),
        );
      }
      if (req.method === 'POST' && parts[2] === 'vms' && parts.length === 5 && parts[4] === 'slow-disk') {
        return send(
          res,
          200,
          await setSlowDisk(deps.fleet, decodeURIComponent(parts[3] ?? ''), await readJson(req)),
        );
      }
      if (req.method === 'POST' && parts[2] === 'vms' && parts.length === 5 && parts[4] === 'etcd-restore') {
        // kube-ha recover's on-VM steps on a kube-up master (LabVm.restoreEtcd): modelled, not run over ssh.
        const name = decodeURIComponent(parts[3] ?? '');
        const b = ((await readJson(req)) ?? {}) as { cluster?: unknown; snapshot?: unknown };
        if (b.cluster !== 'main' && b.cluster !== 'events')
          throw new Error('cluster must be "main" or "events"');
        if (typeof b.snapshot !== 'string' || !b.snapshot.startsWith('/'))
          throw new Error('snapshot must be an absolute path to a snapshot file');
        const done = await deps.fleet.restoreEtcd(name, b.cluster, b.snapshot);
        return send(res, 200, { vm: name, cluster: b.cluster, ...done });
      }
      if (req.method === 'POST' && parts[2] === 'vms' && parts.length === 5 && parts[4] === 'stop') {
        const name = decodeURIComponent(parts[3] ?? '');
        const operation = await deps.stopInstance(name);
        if (operation.status !== 'DONE' || operation.error)
          return send(res, 500, { error: `the stop of ${name} did not finish cleanly`, operation });
        return send(res, 200, { vm: name, status: 'TERMINATED', operation });
      }
      if (req.method === 'POST' && parts[2] === 'vms' && parts.length === 5) {
        const name = decodeURIComponent(parts[3] ?? '');
        const action = parts[4];
        if (action === 'crash') {
          // {"wipe": true}: the member's etcd data goes with the crash.
          const body = (await readJson(req)) as { wipe?: unknown } | null;
          if (body?.wipe !== undefined && typeof body.wipe !== 'boolean')
            throw new Error('body must be {"wipe": true|false}');
          const wiped = await deps.fleet.crash(name, { wipe: body?.wipe === true });
          return send(res, 200, { vm: deps.fleet.describe().find((v) => v.name === name), wiped });
        }
        if (action === 'restart') await deps.fleet.restart(name);
        else if (action === 'freeze') deps.fleet.freeze(name);
        else if (action === 'thaw') deps.fleet.thaw(name);
        else return send(res, 404, { error: `unknown VM action ${action}` });
        return send(res, 200, { vm: deps.fleet.describe().find((v) => v.name === name) });
      }
      if (parts[2] === 'faults' && req.method === 'POST') {
        deps.setFault(await readJson(req));
        return send(res, 200, { ok: true });
      }
      if (parts[2] === 'faults' && req.method === 'GET') {
        return send(res, 200, { faults: deps.listFaults() });
      }
      if (parts[2] === 'faults' && req.method === 'DELETE') {
        deps.clearFaults();
        return send(res, 200, { ok: true });
      }
      if (parts[2] === 'shutdown' && req.method === 'POST') {
        send(res, 200, { ok: true });
        deps.shutdown();
        return;
      }
      return send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
    } catch (err) {
      return send(res, 400, { error: err instanceof Error ? err.message : String(err) });
    }
  };
}
