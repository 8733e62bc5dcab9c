// The init of a `kube-ha lab ssh` session: PID 1 of fresh network, mount, UTS
// and PID namespaces (started by src/lab/ssh.ts through `unshare`). It makes
// the namespace look like the replica, runs the operator's shell or command,
// and exits with its code; as PID 1 its exit ends every process left in the
// session, and the namespaces with them (nothing to clean up by hand).
// - network: loopback up, GCE's metadata address 169.254.169.254 on it, and a
//   listener per mapping (its own members on 127.0.0.1, the Compute endpoint,
//   the metadata server, the replicas' apiservers) piped to the lab through
//   Unix sockets (ssh-bridge.ts); nothing else answers;
// - files: the VM's /etc/srv/kubernetes (its master PD, as mount-master-pd
//   links it) bound at /etc/srv/kubernetes, and the lab's hosts file (GCE's
//   internal DNS) at /etc/hosts. Where /etc/srv does not exist, /etc gets a
//   throwaway overlay so that the mount point exists only in the session;
// - hostname: the instance name.
// Argument: the InitConfig as JSON. fd 3 is a pipe from the `lab ssh`
// process: when it closes (that process died), the session ends.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { join } from 'node:path';
import { type Endpoint, serveTcpToUnix } from './ssh-bridge.js';

export interface InitConfig {
  hostname: string;
  /** Addresses to add to the namespace's loopback (e.g. 169.254.169.254/32). */
  addresses: string[];
  mappings: { inside: Endpoint; socket: string }[];
  /** The VM's /etc/srv/kubernetes, and a scratch directory for the overlay's layers. */
  srv: { from: string; scratch: string } | null;
  /** The lab's hosts file, bound over /etc/hosts. */
  hostsFile: string | null;
  command: string[];
}

function run(file: string, args: string[]): void {
  try {
    execFileSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`${file} ${args.join(' ')}: ${stderr || (err as Error).message}`);
  }
}

/** /etc/srv/kubernetes from the VM's disk, without creating anything on the host's /etc. */
function mountSrv(srv: { from: string; scratch: string }): void {
  if (existsSync('/etc/srv')) {
    run('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', '/etc/srv']);
  } else {
    run('mount', ['-t', 'tmpfs', '-o', 'mode=0700', 'tmpfs', srv.scratch]);
    const upper = join(srv.scratch, 'upper');
    const work = join(srv.scratch, 'work');
    mkdirSync(upper);
    mkdirSync(work);
    run('mount', [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=/etc,upperdir=${upper},workdir=${work}`,
      '/etc',
    ]);
  }
  mkdirSync('/etc/srv/kubernetes', { recursive: true });
  run('mount', ['--bind', srv.from, '/etc/srv/kubernetes']);
}

async function setUp(cfg: InitConfig): Promise<void> {
  run('ip', ['link', 'set', 'lo', 'up']);
  for (const a of cfg.addresses) run('ip', ['addr', 'add', a, 'dev', 'lo']);
  if (cfg.srv) mountSrv(cfg.srv);
  if (cfg.hostsFile && existsSync(cfg.hostsFile)) run('mount', ['--bind', cfg.hostsFile, '/etc/hosts']);
  try {
    run('hostname', [cfg.hostname]);
  } catch {
    // No hostname binary: HOSTNAME in the environment says it.
  }
  await Promise.all(cfg.mappings.map((m) => serveTcpToUnix(m.inside, m.socket)));
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as InitConfig;
  try {
    await setUp(cfg);
  } catch (err) {
    process.stderr.write(`kube-ha lab ssh: setting up the session failed: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const [file, ...args] = cfg.command;
  const child = spawn(file!, args, { stdio: 'inherit' });
  child.on('error', (err) => {
    process.stderr.write(`kube-ha lab ssh: ${file}: ${err.message}\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
  });
  // The `lab ssh` process holds the other end: its death hangs the session up.
  // A socket, not fs.createReadStream: a read blocked in the thread pool would
  // keep process.exit from returning.
  const parent = new Socket({ fd: 3, readable: true, writable: false });
  const hangUp = () => {
    child.kill('SIGHUP');
    setTimeout(() => process.exit(129), 2000).unref();
  };
  parent.on('end', hangUp);
  parent.on('error', hangUp);
  parent.resume();
}

void main();
