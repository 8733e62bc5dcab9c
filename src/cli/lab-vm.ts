// Commands against a running lab, through its supervisor's control endpoint:
// `kube-ha lab status`, and `lab crash|restart|freeze|thaw|stop|ssh|apiserver|
// slow-disk NAME`: one VM broken, repaired or entered.
import { resolve } from 'node:path';
import { readLabContext } from '../lab/context.js';
import type { SupervisorInfo } from '../lab/supervisor.js';
import { labRunning, number } from './lab.js';
import { defaultLabDir } from './paths.js';
import { EXIT, parseFlags, UsageError } from './usage.js';

const DONE_WORDS: Record<string, string> = {
  crash: 'crashed',
  restart: 'restarted',
  freeze: 'frozen',
  thaw: 'thawed',
  // GCE's own stop (guest shutdown, preemption): instances.start boots it again from its disks.
  stop: 'TERMINATED (disks and internal IP kept; instances.start boots it again)',
};

/** The lab running in `dir`; none is bad usage. */
function runningLab(dir: string): SupervisorInfo {
  const info = labRunning(dir);
  if (!info) throw new UsageError(`no lab running in ${dir} (kube-ha lab up --dir ${dir})`);
  return info;
}

/** A POST to the supervisor's control endpoint of one VM: its answer, or null once its refusal is on stderr. */
async function postVm<T>(
  info: SupervisorInfo,
  name: string,
  action: string,
  body: unknown,
  timeoutMs: number,
): Promise<T | null> {
  const res = await fetch(`${info.controlURL}/vms/${encodeURIComponent(name)}/${action}`, {
    method: 'POST',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const answer = (await res.json()) as T & { error?: string };
  if (!res.ok) {
    process.stderr.write(`kube-ha: lab ${action} ${name}: ${answer.error ?? res.status}\n`);
    return null;
  }
  return answer;
}

export async function vmAction(dir: string, name: string, action: string, body?: unknown): Promise<number> {
  const info = labRunning(dir);
  if (!info) throw new Error(`no lab running in ${dir}`);
  // A stop waits for the guest's shutdown (etcd's SIGTERM, up to 5 s) and the STOPPING status.
  const answer = await postVm<{ wiped?: string[] }>(
    info,
    name,
    action,
    body,
    action === 'stop' ? 70_000 : 15_000,
  );
  if (!answer) return EXIT.failure;
  process.stdout.write(`${name}: ${DONE_WORDS[action] ?? action}\n`);
  if (answer.wiped?.length)
    process.stdout.write(
      `  etcd data deleted: ${answer.wiped.join(', ')} (its member's data is gone for good)\n`,
    );
  return EXIT.ok;
}

/**
 * `lab ssh NAME [--dir D] [-- COMMAND...]`: its own parser, as everything
 * after `--` is the command's (src/lab/ssh.ts).
 */
export async function labSshCommand(argv: string[]): Promise<number> {
  const cut = argv.indexOf('--');
  const own = cut < 0 ? argv : argv.slice(0, cut);
  const command = cut < 0 ? [] : argv.slice(cut + 1);
  const { values, positionals } = parseFlags(own, { dir: { type: 'string' } });
  const name = positionals[0];
  if (!name || positionals.length > 1)
    throw new UsageError('usage: kube-ha lab ssh NAME [--dir DIR] [-- COMMAND...]');
  if (cut >= 0 && command.length === 0) throw new UsageError('lab ssh: no command after --');
  const dir = resolve(values.dir ?? defaultLabDir());
  const info = runningLab(dir);
  const { labSsh, SshRefusal } = await import('../lab/ssh.js');
  try {
    return await labSsh({ dir, name, command, controlURL: info.controlURL });
  } catch (err) {
    if (err instanceof SshRefusal) throw new UsageError(`lab ssh: ${err.message}`);
    throw err;
  }
}

/**
 * `lab apiserver NAME --not-ready|--ready [--dir D]`: that VM's kube-apiserver
 * alive but not ready (its /readyz fails, /livez answers ok), or ready again.
 */
export async function labApiserverCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    dir: { type: 'string' },
    'not-ready': { type: 'boolean' },
    ready: { type: 'boolean' },
  });
  const name = positionals[0];
  if (!name || positionals.length > 1 || Boolean(values['not-ready']) === Boolean(values.ready))
    throw new UsageError('usage: kube-ha lab apiserver NAME --not-ready|--ready [--dir DIR]');
  const info = runningLab(resolve(values.dir ?? defaultLabDir()));
  const body = await postVm<{ apiserver?: string; ready?: boolean }>(
    info,
    name,
    'apiserver',
    { ready: Boolean(values.ready) },
    5000,
  );
  if (!body) return EXIT.failure;
  process.stdout.write(
    `${name}: kube-apiserver ${body.apiserver} ${body.ready ? 'ready' : 'not ready (/readyz fails its shutdown check, /livez ok)'}\n`,
  );
  return EXIT.ok;
}

/**
 * `lab slow-disk NAME [--cluster main|events] --delay-ms N | --off [--dir D]`:
 * every fsync of that member delayed by N ms (strace's fault injection), or
 * back to normal; etcd's own disk metrics then show it.
 */
export async function labSlowDiskCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    dir: { type: 'string' },
    cluster: { type: 'string' },
    'delay-ms': { type: 'string' },
    off: { type: 'boolean' },
  });
  const usage = 'usage: kube-ha lab slow-disk NAME [--cluster main|events] --delay-ms N | --off [--dir DIR]';
  const name = positionals[0];
  if (!name || positionals.length > 1 || (values['delay-ms'] === undefined) === !values.off)
    throw new UsageError(usage);
  const cluster = values.cluster ?? 'main';
  if (cluster !== 'main' && cluster !== 'events')
    throw new UsageError(`--cluster: main or events (got ${cluster})`);
  const delayMs = values.off ? 0 : number(values['delay-ms'], '--delay-ms', 1, 10_000)!;
  const info = runningLab(resolve(values.dir ?? defaultLabDir()));
  if (!(await postVm(info, name, 'slow-disk', { cluster, delayMs }, 10_000))) return EXIT.failure;
  process.stdout.write(
    delayMs
      ? `${name}: etcd ${cluster}'s fsyncs delayed ${delayMs} ms each (etcd's guidance: WAL fsync p99 under 10 ms)\n`
      : `${name}: etcd ${cluster}'s disk back to normal\n`,
  );
  return EXIT.ok;
}

/** `lab status`: the supervisor, its VMs, and the instances that have none (stopped, or on their way). */
export async function labStatus(dir: string): Promise<number> {
  const info = labRunning(dir);
  if (!info) {
    process.stdout.write(`no lab running in ${dir}\n`);
    return EXIT.failure;
  }
  const body = (await (
    await fetch(`${info.controlURL}/vms`, { signal: AbortSignal.timeout(2000) })
  ).json()) as {
    vms: {
      name: string;
      zone: string;
      internalIP: string;
      state: string;
      pids: Record<string, number>;
    }[];
  };
  process.stdout.write(`lab in ${dir}: supervisor ${info.pid}, Compute API ${info.computeEndpoint}\n`);
  for (const v of body.vms) {
    process.stdout.write(
      `  ${v.name.padEnd(28)} ${v.zone.padEnd(16)} ${v.internalIP.padEnd(14)} ${v.state}\n`,
    );
  }
  // Instances without a VM: stopped (TERMINATED), or on their way up or down.
  const listed = (await (
    await fetch(
      `${info.computeEndpoint}/compute/v1/projects/${readLabContext(dir).project}/aggregated/instances`,
      { signal: AbortSignal.timeout(2000) },
    )
  ).json()) as {
    items?: Record<
      string,
      {
        instances?: {
          name: string;
          zone: string;
          status: string;
          networkInterfaces?: { networkIP?: string }[];
        }[];
      }
    >;
  };
  const running = new Set(body.vms.map((v) => v.name));
  for (const i of Object.values(listed.items ?? {}).flatMap((scope) => scope.instances ?? [])) {
    if (running.has(i.name)) continue;
    const zone = i.zone.split('/').pop() ?? '';
    const ip = i.networkInterfaces?.[0]?.networkIP ?? '';
    const note = i.status === 'TERMINATED' ? ' (no VM: instances.start boots it)' : ' (no VM)';
    process.stdout.write(`  ${i.name.padEnd(28)} ${zone.padEnd(16)} ${ip.padEnd(14)} ${i.status}${note}\n`);
  }
  return EXIT.ok;
}
