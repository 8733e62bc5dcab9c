// Journals in etcd main, beside the operation lock, so that an operation
// started on one machine is seen — and can be finished — from any other: the
// second on-call engineer's laptop, a bastion, a replica. The local file stays
// the record the executor trusts (written synchronously before and after
// every step); the copy in etcd follows it, one put at a time, the newest
// state winning, and is awaited at each step's end with a deadline. A
// finished operation stays there a week: the machine that started it, its
// local copy left unfinished by a kill, learns that it was finished elsewhere.
import { isFinished, type Journal } from '../domain/ops/journal.js';
import { parseJournal } from '../domain/ops/journal-parse.js';
import { JOURNAL_PREFIX } from '../domain/ops/lock.js';
import type { UnreadableJournal } from '../domain/ops/preflight.js';
import { errorMessage } from '../sources/etcd-client.js';
import type { EtcdOps } from './etcd-ops.js';

export interface RemoteScan {
  journals: Journal[];
  unreadable: UnreadableJournal[];
}

/** Where the copies of journals live (etcd main; a fake in tests). */
export interface RemoteJournals {
  /** Every journal held there, read and checked. Throws when nothing answered. */
  list(): Promise<RemoteScan>;
  /** Queues the newest state of one journal (a finished one is deleted). Never throws. */
  put(j: Journal): void;
  /** Waits for what is queued, at most `timeoutMs`; false when something is still not written. */
  flush(timeoutMs: number): Promise<boolean>;
  /** Removes one journal (discard). */
  remove(operationId: string): Promise<void>;
  /** Why the last write failed, if it did (for the operator: the copy is behind). */
  lastError(): string | null;
}

export const journalKey = (operationId: string) => `${JOURNAL_PREFIX}${operationId}`;

/** How long a finished operation's journal stays in etcd. */
export const FINISHED_RETENTION_MS = 7 * 24 * 3600_000;

export class EtcdJournals implements RemoteJournals {
  private readonly queued = new Map<string, Journal>();
  private draining: Promise<void> | null = null;
  private error: string | null = null;
  private good: string | null = null;

  constructor(
    private readonly etcd: EtcdOps,
    private readonly log: (line: string) => void,
  ) {}

  /** Through the first known endpoint that answers (each call has the client's deadline). */
  private async attempt<T>(
    what: string,
    fn: (c: Awaited<ReturnType<EtcdOps['client']>>) => Promise<T>,
  ): Promise<T> {
    const errors: string[] = [];
    // The endpoint that answered last goes first: a removed member's address would cost a deadline per write.
    const all = this.etcd.endpoints();
    const order =
      this.good && all.includes(this.good) ? [this.good, ...all.filter((e) => e !== this.good)] : all;
    for (const e of order) {
      try {
        const out = await fn(await this.etcd.client(e));
        this.good = e;
        return out;
      } catch (err) {
        errors.push(`${e}: ${errorMessage(err)}`);
      }
    }
    throw new Error(`${what}: no etcd main endpoint answered (${errors.join('; ') || 'none known'})`);
  }

  async list(): Promise<RemoteScan> {
    const kvs = await this.attempt(`etcd main get ${JOURNAL_PREFIX}`, (c) =>
      c.getAll().prefix(JOURNAL_PREFIX).strings(),
    );
    const journals: Journal[] = [];
    const unreadable: UnreadableJournal[] = [];
    for (const [key, text] of Object.entries(kvs)) {
      const id = key.slice(JOURNAL_PREFIX.length);
      const path = `etcd main ${key}`;
      const res = parseJournal(text);
      if (!res.ok) unreadable.push({ path, operationId: id, reason: res.reason });
      else if (res.journal.operationId !== id)
        unreadable.push({ path, operationId: id, reason: `it holds operation ${res.journal.operationId}` });
      else journals.push(res.journal);
    }
    return { journals, unreadable };
  }

  put(j: Journal): void {
    this.queued.set(j.operationId, j);
    if (!this.draining) this.draining = this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queued.size) {
        const [id, j] = this.queued.entries().next().value as [string, Journal];
        this.queued.delete(id);
        try {
          await this.attempt('put', (c) => c.put(journalKey(id)).value(JSON.stringify(j)).exec());
          this.error = null;
          if (isFinished(j)) await this.prune(Date.parse(j.updatedAt));
        } catch (err) {
          // The local file is the record; the copy catches up with the next write.
          const msg = errorMessage(err);
          if (this.error !== msg)
            this.log(`etcd main put ${journalKey(id)} → ${msg} (the local journal is current)`);
          this.error = msg;
        }
      }
    } finally {
      this.draining = null;
    }
  }

  /** Finished operations older than the retention leave etcd (best effort: the next finish tries again). */
  private async prune(now: number): Promise<void> {
    try {
      const { journals } = await this.list();
      for (const j of journals)
        if (isFinished(j) && now - Date.parse(j.updatedAt) > FINISHED_RETENTION_MS)
          await this.attempt('delete', (c) => c.delete().key(journalKey(j.operationId)).exec());
    } catch {
      // nothing lost: they are pruned at the next finish
    }
  }

  async flush(timeoutMs: number): Promise<boolean> {
    const pending = this.draining;
    if (!pending) return this.error === null;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      pending.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return done && this.error === null;
  }

  async remove(operationId: string): Promise<void> {
    await this.attempt('delete', (c) => c.delete().key(journalKey(operationId)).exec());
    this.log(`etcd main del ${journalKey(operationId)} → ok`);
  }

  lastError(): string | null {
    return this.error;
  }
}

/**
 * Local and remote journals as one list: the same operation in both is the
 * one updated last (a journal continued on another machine is newer there).
 */
export function mergeJournals(local: Journal[], remote: Journal[]): Journal[] {
  const byId = new Map<string, Journal>();
  for (const j of [...local, ...remote]) {
    const have = byId.get(j.operationId);
    if (!have || j.updatedAt > have.updatedAt) byId.set(j.operationId, j);
  }
  return [...byId.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}
