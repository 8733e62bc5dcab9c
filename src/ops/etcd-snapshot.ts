// An etcd snapshot saved before a membership change, as `etcdctl snapshot save`
// makes it: the Maintenance API's Snapshot stream from one member, written to a
// file. The stream is the backend database followed by its SHA-256 (etcd's
// maintenance server appends it; `etcdctl snapshot restore` checks it), so the
// copy is verified as it arrives and kept only when the hash matches.
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Etcd3 } from 'etcd3';

/** How many snapshots a state dir keeps (each is the size of etcd main's database). */
export const SNAPSHOTS_KEPT = 5;

export interface SavedSnapshot {
  path: string;
  bytes: number;
  /** The store's revision when the snapshot was taken (the stream's first header, else just before it). */
  revision: string;
  sha256: string;
}

/** SHA-256 of everything but the last 32 bytes, which must be that hash. */
class TrailingHash {
  private readonly hash = createHash('sha256');
  private tail = Buffer.alloc(0);

  update(chunk: Buffer): void {
    const all = Buffer.concat([this.tail, chunk]);
    const cut = Math.max(0, all.length - 32);
    this.hash.update(all.subarray(0, cut));
    this.tail = all.subarray(cut);
  }

  /** The hash when it matches the trailer; null otherwise. */
  verify(): string | null {
    if (this.tail.length !== 32) return null;
    const digest = this.hash.digest();
    return digest.equals(this.tail) ? digest.toString('hex') : null;
  }
}

interface SnapshotChunk {
  header?: { revision?: string | number } | null;
  blob?: Buffer | Uint8Array | null;
}

interface SnapshotStream {
  on(event: 'data', fn: (c: SnapshotChunk) => void): unknown;
  on(event: 'end', fn: () => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  cancel?(): void;
}

/**
 * Streams a snapshot from `client`'s member into `path` (through `path.part`,
 * renamed once verified). The whole transfer has `deadlineMs`; a stream that
 * sends nothing for `idleMs` is cancelled. Rejects, leaving no file, on any
 * failure or a hash that does not match.
 */
export async function saveSnapshot(
  client: Etcd3,
  path: string,
  o: { deadlineMs: number; idleMs: number; signal?: AbortSignal | undefined },
): Promise<SavedSnapshot> {
  if (o.signal?.aborted) throw new Error('cancelled');
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const part = `${path}.part`;
  // The snapshot holds every secret in the cluster: readable by its owner only.
  const fd = openSync(part, 'w', 0o600);
  let bytes = 0;
  let revision: string | null = null;
  let first = false;
  const hash = new TrailingHash();
  try {
    // etcd 3.4 sends no header with the stream (3.5 puts the revision in the first one): the
    // store's revision just before it starts is the snapshot's, unless a write lands in between.
    const before = await client.maintenance.status();
    revision = before.header?.revision !== undefined ? String(before.header.revision) : null;
    const stream = (await client.maintenance.snapshot({
      deadline: Date.now() + o.deadlineMs,
    })) as unknown as SnapshotStream;
    await new Promise<void>((resolve, reject) => {
      let idle: NodeJS.Timeout;
      const stop = (err: Error) => {
        clearTimeout(idle);
        o.signal?.removeEventListener('abort', onAbort);
        stream.cancel?.();
        reject(err);
      };
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(
          () => stop(new Error(`the snapshot stream sent nothing for ${o.idleMs / 1000} s`)),
          o.idleMs,
        );
      };
      const onAbort = () => stop(new Error('cancelled'));
      o.signal?.addEventListener('abort', onAbort, { once: true });
      if (o.signal?.aborted) return onAbort();
      arm();
      stream.on('data', (c) => {
        arm();
        if (!first && c.header?.revision !== undefined) revision = String(c.header.revision);
        first = true;
        if (!c.blob?.length) return;
        const b = Buffer.from(c.blob);
        writeSync(fd, b);
        hash.update(b);
        bytes += b.length;
      });
      stream.on('end', () => {
        clearTimeout(idle);
        o.signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      stream.on('error', (err) => stop(err));
    });
  } catch (err) {
    closeSync(fd);
    rmSync(part, { force: true });
    throw err;
  }
  closeSync(fd);
  const sha256 = hash.verify();
  if (!sha256) {
    rmSync(part, { force: true });
    throw new Error(`the snapshot (${bytes} bytes) does not end with the SHA-256 of its database: not kept`);
  }
  renameSync(part, path);
  return { path, bytes, revision: revision ?? '?', sha256 };
}

/**
 * What kube-ha knows of a snapshot it saved, beside it as `<file>.json`: the
 * revision cannot be read back from the file without etcd's tools, and the
 * console's header shows it with the snapshot's age.
 */
export interface SnapshotRecord {
  file: string;
  cluster: string;
  revision: string;
  sha256: string;
  bytes: number;
  /** RFC 3339. */
  takenAt: string;
  /** The member it was streamed from (its endpoint). */
  from: string;
  /** The operation that took it; null for `kube-ha snapshot`. */
  operationId: string | null;
}

export function writeSnapshotRecord(
  saved: SavedSnapshot,
  meta: { cluster: string; from: string; operationId: string | null; takenAt?: Date },
): SnapshotRecord {
  const record: SnapshotRecord = {
    file: saved.path,
    cluster: meta.cluster,
    revision: saved.revision,
    sha256: saved.sha256,
    bytes: saved.bytes,
    takenAt: (meta.takenAt ?? new Date()).toISOString(),
    from: meta.from,
    operationId: meta.operationId,
  };
  // Written whole then renamed: a reader never sees half a record.
  writeFileSync(`${saved.path}.json.part`, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${saved.path}.json.part`, `${saved.path}.json`);
  return record;
}

/** The newest snapshot of `cluster` in `dir` that still has its file and a readable record; null if none. */
export function latestSnapshot(dir: string, cluster = 'main'): SnapshotRecord | null {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.db.json'));
  } catch {
    return null;
  }
  let best: SnapshotRecord | null = null;
  for (const n of names) {
    try {
      const r = JSON.parse(readFileSync(join(dir, n), 'utf8')) as SnapshotRecord;
      if (r.cluster !== cluster || typeof r.takenAt !== 'string' || typeof r.revision !== 'string') continue;
      if (!existsSync(join(dir, n.slice(0, -'.json'.length)))) continue;
      if (!best || Date.parse(r.takenAt) > Date.parse(best.takenAt)) best = r;
    } catch {
      // a record being replaced, or not one of ours: not a snapshot kube-ha can vouch for
    }
  }
  return best;
}

/** Deletes all but the newest `keep` snapshots kube-ha saved in `dir` (`*.db` by modification time), with their records. */
export function pruneSnapshots(dir: string, keep = SNAPSHOTS_KEPT): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.db'));
  } catch {
    return [];
  }
  const byAge = names
    .map((n) => ({ path: join(dir, n), at: statSync(join(dir, n)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  const gone = byAge.slice(keep).map((x) => x.path);
  for (const p of gone) {
    rmSync(p, { force: true });
    rmSync(`${p}.json`, { force: true });
  }
  return gone;
}
