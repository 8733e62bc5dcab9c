// Journals on disk: one JSON file per operation under the state dir, per
// target (a lab dir, or project/region/master), rewritten atomically (write,
// fsync, rename) before and after every step so that a kill leaves the last
// complete record.
import { createHash } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { isFinished, type Journal } from '../domain/ops/journal.js';
import type { Target } from '../sources/target.js';

/** One directory per cluster: operations on one lab never block another. */
export function targetKey(target: Target): string {
  const id = target.lab
    ? `lab:${target.lab.dir}`
    : `${target.project ?? '-'}/${target.region ?? '-'}/${target.masterName}`;
  const readable = (target.lab ? 'lab' : `${target.project}-${target.region}-${target.masterName}`)
    .replace(/[^a-zA-Z0-9-]/g, '_')
    .slice(0, 60);
  return `${readable}-${createHash('sha256').update(id).digest('hex').slice(0, 10)}`;
}

export class JournalStore {
  constructor(readonly dir: string) {}

  static forTarget(target: Target): JournalStore {
    return new JournalStore(join(target.stateDir, 'operations', targetKey(target)));
  }

  path(operationId: string): string {
    return join(this.dir, `${operationId}.json`);
  }

  write(j: Journal): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = this.path(j.operationId);
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(j, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  }

  read(operationId: string): Journal {
    return JSON.parse(readFileSync(this.path(operationId), 'utf8')) as Journal;
  }

  list(): Journal[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const out: Journal[] = [];
    for (const n of names) {
      try {
        const j = JSON.parse(readFileSync(join(this.dir, n), 'utf8')) as Journal;
        if (j.format === 1) out.push(j);
      } catch {
        // a foreign or truncated file is not a journal
      }
    }
    return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  /** The newest operation that did not finish (done or rolled back), if any. */
  unfinished(): Journal | null {
    const open = this.list().filter((j) => !isFinished(j));
    return open[open.length - 1] ?? null;
  }
}
