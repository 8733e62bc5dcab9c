// The whole session's timeline on disk, appended as events come: the console
// keeps only the newest events in memory (ring.ts), and an on-call engineer
// exporting an incident wants the session from its start. On disk rather than
// a second in-memory log because it also survives the console (a crash, a
// closed terminal, a killed ssh session) and is readable with `jq` meanwhile.
// Bounded by bytes: past the limit the file rotates once (`.1.jsonl`), so the
// newest events are always kept and the disk holds at most twice the limit.
import { appendFile, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConsoleStore } from './consoleStore.js';
import type { Timeline } from './ring.js';
import type { TimelineEvent } from './types.js';

/** A session log rotates past this many bytes (one line is ~200 bytes: ~160k events). */
export const SESSION_LOG_MAX_BYTES = 32 * 1024 * 1024;
/** Session logs of earlier consoles kept in the state dir. */
export const SESSION_LOGS_KEPT = 10;

export interface SessionLogOptions {
  /** The state dir; the logs go in its `sessions/` folder. */
  stateDir: string;
  startedAt: number;
  maxBytes?: number;
  pid?: number;
}

/** What the log could give back for an export. */
export interface SessionHistory {
  events: TimelineEvent[];
  path: string;
  /** The log rotated more than once: the session's oldest events are gone from disk too. */
  lostOldest: boolean;
}

const stampOf = (at: number) => new Date(at).toISOString().replace(/[:.]/g, '-');

export class SessionLog {
  readonly dir: string;
  readonly path: string;
  readonly rotatedPath: string;
  /** The newest event id written (or queued). */
  lastId = 0;
  /** Why writing stopped; null while it works. */
  error: string | null = null;
  private readonly maxBytes: number;
  private bytes = 0;
  private rotations = 0;
  private pending: string[] = [];
  private writing: Promise<void> = Promise.resolve();
  private ready: Promise<void>;

  constructor(o: SessionLogOptions) {
    this.dir = join(o.stateDir, 'sessions');
    const base = `console-${stampOf(o.startedAt)}-${o.pid ?? process.pid}`;
    this.path = join(this.dir, `${base}.jsonl`);
    this.rotatedPath = join(this.dir, `${base}.1.jsonl`);
    this.maxBytes = o.maxBytes ?? SESSION_LOG_MAX_BYTES;
    this.ready = mkdir(this.dir, { recursive: true })
      .then(() => this.prune())
      .catch((e: unknown) => this.fail(e));
  }

  /** Queues events (in order); they are written in the background, batched. */
  append(events: readonly TimelineEvent[]): void {
    if (this.error || events.length === 0) return;
    for (const e of events) {
      // UTC ISO 8601, never epoch numbers or local times: the file is read beside other logs.
      this.pending.push(`${JSON.stringify({ ...e, at: new Date(e.at).toISOString() })}\n`);
      this.lastId = Math.max(this.lastId, e.id);
    }
    this.writing = this.writing.then(() => this.drain());
  }

  /** Resolves once everything appended so far is on disk (or writing failed). */
  async flush(): Promise<void> {
    for (;;) {
      const w = this.writing;
      await w;
      if (w === this.writing) return;
    }
  }

  /** The session as written (after a flush); null when the log failed. */
  async read(): Promise<SessionHistory | null> {
    await this.flush();
    if (this.error) return null;
    const events: TimelineEvent[] = [];
    for (const p of this.rotations ? [this.rotatedPath, this.path] : [this.path]) {
      const text = await readFile(p, 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        if (!line) continue;
        try {
          const e = JSON.parse(line) as Omit<TimelineEvent, 'at'> & { at: string };
          events.push({ ...e, at: Date.parse(e.at) });
        } catch {
          // a line cut by a full disk: the rest is still worth having
        }
      }
    }
    return { events, path: this.path, lostOldest: this.rotations > 1 };
  }

  private async drain(): Promise<void> {
    await this.ready;
    if (this.error || this.pending.length === 0) return;
    const chunk = this.pending.join('');
    this.pending = [];
    const size = Buffer.byteLength(chunk);
    try {
      if (this.bytes > 0 && this.bytes + size > this.maxBytes) {
        await rename(this.path, this.rotatedPath);
        this.rotations++;
        this.bytes = 0;
      }
      await appendFile(this.path, chunk, 'utf8');
      this.bytes += size;
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    this.error ??= e instanceof Error ? e.message : String(e);
    this.pending = [];
  }

  /** Keeps the newest SESSION_LOGS_KEPT earlier sessions (names sort by start time). */
  private async prune(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => /^console-.*\.jsonl$/.test(n)).sort();
    const sessions = [...new Set(names.map((n) => n.replace(/(\.1)?\.jsonl$/, '')))];
    for (const s of sessions.slice(0, Math.max(0, sessions.length - SESSION_LOGS_KEPT))) {
      await rm(join(this.dir, `${s}.jsonl`), { force: true });
      await rm(join(this.dir, `${s}.1.jsonl`), { force: true });
    }
  }
}

/**
 * Writes every timeline event of `store` to `log` as it is added (those
 * already there first). Returns the unsubscribe function.
 */
export function attachSessionLog(store: ConsoleStore, log: SessionLog): () => void {
  const write = (timeline: Timeline) => {
    const fresh = timeline.after(log.lastId);
    const first = fresh[0];
    // More events than the ring holds between two notifications cannot happen (each
    // append notifies), but if it did the log says so rather than skip silently.
    if (first && first.id > log.lastId + 1) {
      log.append([
        {
          id: log.lastId + 1,
          at: first.at,
          kind: 'session',
          severity: 'warning',
          message: `session log: events ${log.lastId + 1}..${first.id - 1} were not written`,
        },
      ]);
    }
    log.append(fresh);
  };
  write(store.getState().timeline);
  return store.subscribe((s, prev) => {
    if (s.timeline !== prev.timeline) write(s.timeline);
  });
}
