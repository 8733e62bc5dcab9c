// The project's resources in memory, and their JSON file: loaded at start,
// rewritten (write, fsync, rename) after every change so that a crash leaves
// either the old or the new file, never half of one.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type {
  AddressResource,
  DiskMode,
  DiskResource,
  ForwardingRuleResource,
  HttpHealthCheckResource,
  ImageResource,
  InstanceResource,
  OperationResource,
  TargetPoolResource,
} from './types.js';

/** Server-side facts about a resource that its JSON does not show. */
export interface Meta {
  /** Being created: its insert operation has not finished. */
  pending?: boolean;
  /** The running operation that owns this resource; others get resourceNotReady meanwhile. */
  busyOp?: string;
  /** Addresses this resource got from `allocateIP` and must give back. */
  allocatedIPs?: string[];
  /** Disks created by this instance's insert (initializeParams): removed if the insert fails. */
  createdDisks?: string[];
  /** Disk: attaching instance URL -> mode. */
  attachModes?: Record<string, DiskMode>;
  /** Target pool: member instance URL -> when it was added (ms). */
  memberSince?: Record<string, number>;
  createdAtMs?: number;
}

export interface Entry<T> {
  res: T;
  meta: Meta;
}

export type Scope = { kind: 'zone'; name: string } | { kind: 'region'; name: string } | { kind: 'global' };

/** What an operation does, kept so that a restart can finish or undo it. */
export interface ActionRecord {
  /** `<collection>.<method>`, e.g. `instances.insert`. */
  type: string;
  /** Key of the target in its table. */
  key: string;
  data?: Record<string, unknown>;
}

export interface OperationRecord {
  op: OperationResource;
  scope: Scope;
  action: ActionRecord;
}

/** One collection, keyed `zone/name`, `region/name` or `name`. */
export class Table<T extends { name: string; id: string }> {
  readonly map = new Map<string, Entry<T>>();

  get(key: string): Entry<T> | undefined {
    return this.map.get(key);
  }

  set(key: string, entry: Entry<T>): void {
    this.map.set(key, entry);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  entries(): [string, Entry<T>][] {
    return [...this.map.entries()];
  }

  /** By name or, as GCE allows in paths, by numeric id, within a location prefix. */
  find(prefix: string, nameOrId: string): [string, Entry<T>] | undefined {
    const direct = this.map.get(prefix + nameOrId);
    if (direct) return [prefix + nameOrId, direct];
    if (!/^[0-9]+$/.test(nameOrId)) return undefined;
    for (const [k, e] of this.map) if (k.startsWith(prefix) && e.res.id === nameOrId) return [k, e];
    return undefined;
  }

  toJSON(): [string, Entry<T>][] {
    return this.entries();
  }

  load(rows: unknown): void {
    if (!Array.isArray(rows)) return;
    for (const row of rows as [string, Entry<T>][]) this.map.set(row[0], row[1]);
  }
}

export const TABLE_NAMES = [
  'instances',
  'disks',
  'addresses',
  'targetPools',
  'forwardingRules',
  'httpHealthChecks',
  'images',
] as const;
export type TableName = (typeof TABLE_NAMES)[number];

const FORMAT = 1;
/** DONE operations kept (GCE also forgets old ones). */
const MAX_DONE_OPERATIONS = 2000;
const REQUEST_ID_TTL_MS = 60 * 60 * 1000;

export class ComputeState {
  readonly instances = new Table<InstanceResource>();
  readonly disks = new Table<DiskResource>();
  readonly addresses = new Table<AddressResource>();
  readonly targetPools = new Table<TargetPoolResource>();
  readonly forwardingRules = new Table<ForwardingRuleResource>();
  readonly httpHealthChecks = new Table<HttpHealthCheckResource>();
  /** The public image catalog, keyed `project/name` (see handlers/images.ts). */
  readonly images = new Table<ImageResource>();
  /** The state file had a catalog (perhaps with images deleted), so the defaults are not added. */
  private hasImages = false;
  readonly operations = new Map<string, OperationRecord>();
  /** requestId -> operation name, for idempotent retries. */
  readonly requestIds = new Map<string, { op: string; atMs: number }>();

  constructor(
    readonly project: string,
    private readonly file: string | null,
    defaultImages: () => [string, Entry<ImageResource>][] = () => [],
  ) {
    if (file && existsSync(file)) this.read(file);
    // A new lab, or a state file written before the catalog existed, starts with the default images.
    if (!this.hasImages) for (const [k, e] of defaultImages()) this.images.set(k, e);
  }

  table(name: TableName): Table<{ name: string; id: string }> {
    return this[name] as unknown as Table<{ name: string; id: string }>;
  }

  private read(file: string): void {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    if (doc.format !== FORMAT) throw new Error(`${file}: unknown state format ${String(doc.format)}`);
    if (doc.project !== this.project) {
      throw new Error(`${file} holds project ${String(doc.project)}, not ${this.project}`);
    }
    for (const name of TABLE_NAMES) this.table(name).load(doc[name]);
    this.hasImages = Array.isArray(doc.images);
    for (const rec of (doc.operations as OperationRecord[] | undefined) ?? [])
      this.operations.set(rec.op.name, rec);
    for (const [id, v] of (doc.requestIds as [string, { op: string; atMs: number }][] | undefined) ?? []) {
      this.requestIds.set(id, v);
    }
  }

  /** Drops the oldest finished operations and stale request ids. */
  prune(nowMs: number): void {
    for (const [id, v] of this.requestIds) if (nowMs - v.atMs > REQUEST_ID_TTL_MS) this.requestIds.delete(id);
    const done = [...this.operations.values()].filter((r) => r.op.status === 'DONE');
    const excess = done.length - MAX_DONE_OPERATIONS;
    if (excess > 0) {
      done.sort((a, b) => a.op.insertTime.localeCompare(b.op.insertTime));
      for (const r of done.slice(0, excess)) this.operations.delete(r.op.name);
    }
  }

  save(): void {
    if (!this.file) return;
    const doc: Record<string, unknown> = { format: FORMAT, project: this.project };
    for (const name of TABLE_NAMES) doc[name] = this.table(name).toJSON();
    doc.operations = [...this.operations.values()];
    doc.requestIds = [...this.requestIds.entries()];
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(doc));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}
