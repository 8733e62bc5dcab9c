// Entry point of the detached lab supervisor process (started by `kube-ha lab up`).
// Argument: the SupervisorOptions as JSON.
import { type SupervisorOptions, startSupervisor } from './supervisor.js';

async function run(): Promise<void> {
  const opts = JSON.parse(process.argv[2] ?? '{}') as SupervisorOptions;
  const sup = await startSupervisor(opts);
  const stop = () => void sup.stop();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {}); // outlive the terminal that started it
  await sup.stopped;
  process.exit(0);
}

run().catch((err) => {
  process.stderr.write(
    `lab supervisor failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
