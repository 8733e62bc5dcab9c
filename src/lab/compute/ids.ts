// Server-made values: resource ids (uint64 as decimal strings), fingerprints,
// timestamps and operation names, in the formats GCE uses.
import { createHash, randomBytes } from 'node:crypto';

/** A random uint64 id with GCE's usual 18-19 digits. */
export function newId(): string {
  const n = randomBytes(8).readBigUInt64BE() | (1n << 62n);
  return n.toString();
}

/** Ids of built-in things (zones, regions) stay the same across restarts. */
export function stableId(seed: string): string {
  const n = createHash('sha256').update(seed).digest().readBigUInt64BE() | (1n << 62n);
  return n.toString();
}

/** A project's number (12 digits, stable for its name), as in its default service account's email. */
export function projectNumber(project: string): string {
  const n = createHash('sha256').update(`project/${project}`).digest().readBigUInt64BE() % 900_000_000_000n;
  return (n + 100_000_000_000n).toString();
}

/** An opaque 8-byte base64 fingerprint of a value, as for metadata and labels. */
export function fingerprintOf(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(value ?? null))
    .digest()
    .subarray(0, 8)
    .toString('base64');
}

/** RFC 3339 with an explicit offset, as GCE writes its timestamps. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

/** `operation-<ms>-<13 hex>-<8 hex>-<8 hex>`, GCE's operation name shape. */
export function operationName(ms: number): string {
  const hex = randomBytes(15).toString('hex');
  return `operation-${ms}-${hex.slice(0, 13)}-${hex.slice(13, 21)}-${hex.slice(21, 29)}`;
}

export function isUuid(s: string): boolean {
  return (
    /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s) &&
    !/^[0-]+$/.test(s)
  );
}
