// Journals on disk: one JSON file per operation under the state dir, per
// target (a lab dir, or project/region/master), rewritten atomically (write,
// fsync, rename, fsync the directory) before and after every step so that a
// kill or a power loss leaves the last complete record. A file that cannot be
// read as a journal is reported by path with the reason, never skipped: it
// may be the only record of an operation left half-done.
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { isFinished, type Journal } from '../domain/ops/journal.js';
import { parseJournal } from '../domain/ops/journal-parse.js';
import type { UnfinishedOperation, UnreadableJournal } from '../domain/ops/preflight.js';
import type { Target } from '../sources/target.js';
import { mergeJournals, type RemoteJournals, type RemoteScan } from './journal-remote.js';

export type { UnreadableJournal };

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

/** Operation ids as plans make them (`op-…`), and nothing that could leave the directory. */
const OPERATION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function validOperationId(id: string): boolean {
  return OPERATION_ID.test(id) && !id.includes('..');
}

export interface JournalScan {
  /** Readable journals, oldest first. */
  journals: Journal[];
  /** Files that should be journals and cannot be read, by path with the reason. */
  unreadable: UnreadableJournal[];
}

/** A journal write that failed: the operation must stop, its record on disk is stale. */
export class JournalWriteError extends Error {
  override name = 'JournalWriteError';
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class JournalStore {
  private remote: RemoteJournals | null = null;
  /** The journals in etcd as last read (refresh()); null: not read, or etcd did not answer. */
  private remoteScan: RemoteScan | null = null;
  private remoteError: string | null = null;

  constructor(readonly dir: string) {}

  /** Keeps a copy of every journal written in etcd, and reads theirs (started on other machines). */
  attachRemote(remote: RemoteJournals): this {
    this.remote = remote;
    return this;
  }

  /** Reads the journals in etcd (scan() then includes them); without an answer, the local ones only. */
  async refresh(): Promise<void> {
    if (!this.remote) return;
    try {
      this.remoteScan = await this.remote.list();
      this.remoteError = null;
    } catch (err) {
      this.remoteScan = null;
      this.remoteError = (err as Error).message;
    }
  }

  /** Why the journals in etcd were not read at the last refresh (operations elsewhere may be missing). */
  remoteProblem(): string | null {
    return this.remoteError;
  }

  /** Why the copy in etcd is behind the local journal, if it is. */
  remoteWriteProblem(): string | null {
    return this.remote?.lastError() ?? null;
  }

  /** Waits (bounded) until the copy in etcd has the last write; false when it does not. */
  async flush(timeoutMs = 3000): Promise<boolean> {
    return this.remote ? this.remote.flush(timeoutMs) : true;
  }

  static forTarget(target: Target): JournalStore {
    return new JournalStore(join(target.stateDir, 'operations', targetKey(target)));
  }

  path(operationId: string): string {
    return join(this.dir, `${operationId}.json`);
  }

  /** Throws JournalWriteError (with the path and the system's reason) when the record could not be made durable. */
  write(j: Journal): void {
    const file = this.path(j.operationId);
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, `${JSON.stringify(j, null, 2)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
      // The rename is durable only once the directory entry is.
      fsyncDir(this.dir);
    } catch (e) {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // the write's own error is the one to report
      }
      throw new JournalWriteError(`cannot write the journal ${file}: ${(e as Error).message}`);
    }
    this.remote?.put(j);
  }

  /** One journal by id; throws with the reason when it is missing or unreadable. */
  read(operationId: string): Journal {
    const file = this.path(operationId);
    const res = parseJournal(readFileSync(file, 'utf8'));
    if (!res.ok) throw new Error(`journal ${file} cannot be read: ${res.reason}`);
    return res.journal;
  }

  /**
   * Every journal: the local files, read and checked, and those in etcd as last
   * refreshed (the same operation in both: the one updated last).
   */
  scan(): JournalScan {
    const local = this.scanLocal();
    if (!this.remoteScan) return local;
    const localIds = new Set(local.unreadable.map((u) => u.operationId));
    return {
      journals: mergeJournals(local.journals, this.remoteScan.journals),
      unreadable: [
        ...local.unreadable,
        // A journal unreadable in etcd but readable here is only a stale copy.
        ...this.remoteScan.unreadable.filter(
          (u) => !localIds.has(u.operationId) && !local.journals.some((j) => j.operationId === u.operationId),
        ),
      ],
    };
  }

  /** Every `<id>.json` in the directory, read and checked. */
  scanLocal(): JournalScan {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { journals: [], unreadable: [] };
      // A directory that exists and cannot be listed may hide a half-done operation.
      return {
        journals: [],
        unreadable: [
          { path: this.dir, operationId: null, reason: `cannot list the journals: ${(e as Error).message}` },
        ],
      };
    }
    const journals: Journal[] = [];
    const unreadable: UnreadableJournal[] = [];
    for (const n of names.sort()) {
      const path = join(this.dir, n);
      const id = n.slice(0, -'.json'.length);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        unreadable.push({ path, operationId: id, reason: `cannot read it: ${(e as Error).message}` });
        continue;
      }
      const res = parseJournal(text);
      if (!res.ok) unreadable.push({ path, operationId: id, reason: res.reason });
      else if (res.journal.operationId !== id)
        unreadable.push({
          path,
          operationId: id,
          reason: `it holds operation ${res.journal.operationId}, not ${id} as its name says`,
        });
      else journals.push(res.journal);
    }
    journals.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    return { journals, unreadable };
  }

  /** Readable journals, oldest first (unreadable ones: scan()). */
  list(): Journal[] {
    return this.scan().journals;
  }

  /** The newest readable operation that did not finish (done or rolled back), if any. */
  unfinished(): Journal | null {
    const open = this.list().filter((j) => !isFinished(j));
    return open[open.length - 1] ?? null;
  }

  /** What the preflight needs to know of the journals: the open operation and the unreadable files. */
  preflightContext(): { unfinished: UnfinishedOperation | null; unreadableJournals: UnreadableJournal[] } {
    const { journals, unreadable } = this.scan();
    const open = journals.filter((j) => !isFinished(j)).at(-1);
    return {
      unfinished: open
        ? { operationId: open.operationId, summary: open.plan.summary, state: open.state }
        : null,
      unreadableJournals: unreadable,
    };
  }

  /**
   * Sets `<id>.json` aside as `<id>.json.discarded-<time>`: never deleted (it
   * is the record of what was done), no longer read as a journal.
   */
  discard(operationId: string, now: Date = new Date()): string {
    if (!validOperationId(operationId)) throw new Error(`'${operationId}' is not an operation id`);
    const file = this.path(operationId);
    const aside = `${file}.discarded-${now.toISOString().replace(/[:.]/g, '-')}`;
    // An operation known only from etcd has no local file: the copy set aside here is etcd's.
    const remoteOnly = this.remoteScan?.journals.find((j) => j.operationId === operationId);
    if (!existsSync(file) && remoteOnly) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      writeFileSync(aside, `${JSON.stringify(remoteOnly, null, 2)}\n`, { mode: 0o600 });
    } else renameSync(file, aside);
    fsyncDir(this.dir);
    return aside;
  }

  /** Removes the copy in etcd too (after discard()); throws when etcd did not answer. */
  async discardRemote(operationId: string): Promise<void> {
    await this.remote?.remove(operationId);
  }
}
