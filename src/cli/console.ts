// `kube-ha demo`: a 3-zone lab, then its status. (The live console replaces
// the status print once it lands.)

import { labRunning, labUp } from './lab.js';
import { defaultLabDir } from './paths.js';
import { statusCommand } from './status.js';
import { EXIT, UsageError } from './usage.js';

export async function demoCommand(argv: string[]): Promise<number> {
  if (argv.length) throw new UsageError(`demo takes no arguments (got ${argv.join(' ')})`);
  const dir = defaultLabDir();
  if (!labRunning(dir)) {
    process.stderr.write(`kube-ha: starting a 3-zone lab in ${dir} (real etcd; kube-ha lab down stops it)\n`);
    const { seconds } = await labUp({
      dir,
      zones: ['us-central1-a', 'us-central1-b', 'us-central1-c'],
      replicas: 3,
      lbDelaySeconds: 10,
      project: 'kube-ha-lab',
      masterName: 'kubernetes-master',
      heartbeatMs: 50,
      electionMs: 250,
      bootMs: 1000,
      log: (l) => process.stderr.write(`lab: ${l}\n`),
    });
    process.stderr.write(`kube-ha: lab up in ${seconds.toFixed(1)} s\n`);
  }
  return statusCommand(['--lab']);
}

export async function consoleCommand(_argv: string[]): Promise<number> {
  process.stderr.write('kube-ha: the live console is not wired yet; use kube-ha status\n');
  return EXIT.failure;
}
