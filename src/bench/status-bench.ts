// How long `lab up` takes, and `status --json`'s wall time on the lab next
// to `etcdctl endpoint status` (every member by address) on the same lab.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLabContext } from '../lab/context.js';
import { fmt, repeat, timeCommand } from './measure.js';

const BIN = fileURLToPath(new URL('../../bin/kube-ha.js', import.meta.url));

export async function benchStatus(runs = 9): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kube-ha-bench-'));
  const lines: string[] = [];
  const up = await timeCommand(process.execPath, [BIN, 'lab', 'up', '--dir', dir, '--ttl', '900']);
  if (up.code !== 0) throw new Error('lab up failed');
  lines.push(`lab up (3 zones, boot 1 s per VM): ${(up.ms / 1000).toFixed(1)} s`);
  try {
    const ctx = readLabContext(dir);
    const status = await repeat(runs, async () => {
      const r = await timeCommand(process.execPath, [BIN, 'status', '--lab-dir', dir, '--json']);
      if (r.code !== 0) {
        const warnings =
          (JSON.parse(r.stdout || '{}') as { warnings?: { message: string }[] }).warnings ?? [];
        throw new Error(`status exited ${r.code}: ${warnings.map((w) => w.message).join('; ')}`);
      }
      return r.ms;
    });
    const etcdOnly = await repeat(runs, async () => {
      const r = await timeCommand(process.execPath, [
        BIN,
        'status',
        '--json',
        '--etcd-endpoints',
        ctx.etcd.main.endpoints.join(','),
        '--cacert',
        ctx.etcd.main.caFile,
        '--cert',
        ctx.etcd.main.certFile,
        '--key',
        ctx.etcd.main.keyFile,
      ]);
      return r.ms;
    });
    const etcdctl = await repeat(runs, async () => {
      const r = await timeCommand(
        'etcdctl',
        [
          // Every member by address: `--cluster` would ask the advertised client
          // URLs, 127.0.0.1 on kube-up's members; their certificates name
          // etcd-<instance>, not the address.
          `--endpoints=${ctx.etcd.main.endpoints.join(',')}`,
          `--cacert=${ctx.etcd.main.caFile}`,
          `--cert=${ctx.etcd.main.certFile}`,
          `--key=${ctx.etcd.main.keyFile}`,
          '--insecure-skip-tls-verify',
          'endpoint',
          'status',
          '-w',
          'table',
        ],
        { ETCDCTL_API: '3' },
      );
      if (r.code !== 0) throw new Error('etcdctl failed');
      return r.ms;
    });
    lines.push(`kube-ha status --json (GCE + main + events): ${fmt(status)}`);
    lines.push(`kube-ha status --json, etcd only (main + events): ${fmt(etcdOnly)}`);
    lines.push(`etcdctl endpoint status, every member by address (main only): ${fmt(etcdctl)}`);
  } finally {
    await timeCommand(process.execPath, [BIN, 'lab', 'down', '--dir', dir]);
  }
  return lines;
}
