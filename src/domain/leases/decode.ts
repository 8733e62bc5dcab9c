// Decodes a leader-election record straight from an etcd value: a Lease, or
// the legacy annotation on an Endpoints or ConfigMap, in the protobuf or JSON
// storage encodings, or reports it as encrypted or undecodable. Never throws:
// etcd values can be anything, and one bad key must not take the console down.
import {
  allFields,
  decodeString,
  lastField,
  parseMessage,
  toInt32,
  toInt64,
  WIRE_BYTES,
  WIRE_VARINT,
  type WireField,
} from './protobuf.js';
import { formatTimestamp, parseRfc3339 } from './time.js';
import {
  type DecodedLeaderRecord,
  LEGACY_LEADER_ANNOTATION,
  type LeaderRecord,
  type LeaseSpec,
  type RecordSource,
} from './types.js';

export const PROTOBUF_MAGIC = Uint8Array.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"
const ENCRYPTED_PREFIX = 'k8s:enc:';
const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

/** Expected failures inside the decoder; turned into an 'undecodable' result at the top. */
class DecodeError extends Error {}

function fail(reason: string): never {
  throw new DecodeError(reason);
}

export function sourceFromKey(key: string): RecordSource | null {
  if (/\/leases\/[^/]+\/[^/]+$/.test(key)) return 'lease';
  if (/\/services\/endpoints\/[^/]+\/[^/]+$/.test(key)) return 'endpoints';
  if (/\/configmaps\/[^/]+\/[^/]+$/.test(key)) return 'configmap';
  return null;
}

function sourceFromKind(apiVersion: string, kind: string): RecordSource | null {
  if (kind === 'Lease' && apiVersion.startsWith('coordination.k8s.io/')) return 'lease';
  if (kind === 'Endpoints' && apiVersion === 'v1') return 'endpoints';
  if (kind === 'ConfigMap' && apiVersion === 'v1') return 'configmap';
  return null;
}

function hexPreview(value: Uint8Array): string {
  const head = Array.from(value.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return value.length > 8 ? `${head} ...` : head;
}

function startsWith(value: Uint8Array, prefix: Uint8Array): boolean {
  if (value.length < prefix.length) return false;
  return prefix.every((b, i) => value[i] === b);
}

const ENCRYPTED_BYTES = new TextEncoder().encode(ENCRYPTED_PREFIX);

export function decodeLeaderRecord(key: string, value: Uint8Array): LeaderRecord {
  const keySource = sourceFromKey(key);
  try {
    if (value.length === 0) return { state: 'undecodable', source: keySource, reason: 'empty value' };
    if (startsWith(value, ENCRYPTED_BYTES)) return decodeEncryptedPrefix(value, keySource);
    if (startsWith(value, PROTOBUF_MAGIC))
      return decodeProtobuf(value.subarray(PROTOBUF_MAGIC.length), keySource);
    const firstNonSpace = value.find((b) => b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d);
    if (firstNonSpace === 0x7b) return decodeJson(value, keySource);
    return {
      state: 'undecodable',
      source: keySource,
      reason: `not a Kubernetes storage value (starts with ${hexPreview(value)})`,
    };
  } catch (err) {
    const reason = err instanceof DecodeError ? err.message : `internal error: ${String(err)}`;
    return { state: 'undecodable', source: keySource, reason };
  }
}

// ---------------------------------------------------------------- encrypted

function decodeEncryptedPrefix(value: Uint8Array, source: RecordSource | null): LeaderRecord {
  // The prefix is ASCII; read only its start, the rest is ciphertext.
  const parts = String.fromCharCode(...value.subarray(ENCRYPTED_PREFIX.length, 512)).split(':');
  const [provider = '', providerVersion = '', keyName = ''] = parts;
  const printable = (s: string) => /^[\x21-\x7e]+$/.test(s);
  // Without the ':' that ends the key name, the segments run into ciphertext.
  const complete =
    parts.length >= 4 && printable(provider) && printable(providerVersion) && printable(keyName);
  return {
    state: 'encrypted',
    source,
    provider: complete || (parts.length >= 2 && printable(provider)) ? provider : 'unknown',
    providerVersion: complete ? providerVersion : '',
    keyName: complete ? keyName : '',
  };
}

// ---------------------------------------------------------------- protobuf

function parse(bytes: Uint8Array, what: string): WireField[] {
  const res = parseMessage(bytes);
  if (!res.ok) fail(`${what}: ${res.error}`);
  return res.fields;
}

function bytesField(fields: readonly WireField[], n: number, what: string): Uint8Array | null {
  const f = lastField(fields, n);
  if (f === undefined) return null;
  if (f.wire !== WIRE_BYTES) fail(`${what}: wire type ${f.wire}, expected length-delimited`);
  return f.value;
}

function stringField(fields: readonly WireField[], n: number, what: string): string | null {
  const b = bytesField(fields, n, what);
  return b === null ? null : decodeString(b);
}

function varintField(fields: readonly WireField[], n: number, what: string): bigint | null {
  const f = lastField(fields, n);
  if (f === undefined) return null;
  if (f.wire !== WIRE_VARINT) fail(`${what}: wire type ${f.wire}, expected varint`);
  return f.value;
}

function int32Field(fields: readonly WireField[], n: number, what: string): number | null {
  const v = varintField(fields, n, what);
  return v === null ? null : toInt32(v);
}

/** metav1.Time and metav1.MicroTime share one wire shape: seconds=1 (int64), nanos=2 (int32). */
function timeField(
  fields: readonly WireField[],
  n: number,
  what: string,
  precision: 'micro' | 'auto',
): string | null {
  const b = bytesField(fields, n, what);
  if (b === null) return null;
  const t = parse(b, what);
  const seconds = toInt64(varintField(t, 1, `${what}.seconds`) ?? 0n);
  const nanos = int32Field(t, 2, `${what}.nanos`) ?? 0;
  const formatted =
    seconds >= BigInt(Number.MIN_SAFE_INTEGER) && seconds <= BigInt(Number.MAX_SAFE_INTEGER)
      ? formatTimestamp({ seconds: Number(seconds), nanos }, precision)
      : null;
  if (formatted === null) fail(`${what}: seconds=${seconds} nanos=${nanos} is not a representable time`);
  return formatted;
}

interface ProtoMeta {
  name: string;
  namespace: string;
  uid: string;
  creationTimestamp: string | null;
  annotations: Map<string, string>;
}

function decodeObjectMetaProto(bytes: Uint8Array | null): ProtoMeta {
  const meta: ProtoMeta = {
    name: '',
    namespace: '',
    uid: '',
    creationTimestamp: null,
    annotations: new Map(),
  };
  if (bytes === null) return meta;
  const f = parse(bytes, 'metadata');
  meta.name = stringField(f, 1, 'metadata.name') ?? '';
  meta.namespace = stringField(f, 3, 'metadata.namespace') ?? '';
  meta.uid = stringField(f, 5, 'metadata.uid') ?? '';
  try {
    meta.creationTimestamp = timeField(f, 8, 'metadata.creationTimestamp', 'auto');
  } catch (err) {
    // Not needed to judge the leader: a bad creation time should not hide the record.
    if (!(err instanceof DecodeError)) throw err;
  }
  for (const entry of allFields(f, 12)) {
    if (entry.wire !== WIRE_BYTES)
      fail(`metadata.annotations: wire type ${entry.wire}, expected length-delimited`);
    const e = parse(entry.value, 'metadata.annotations entry');
    // Map entries: a later duplicate key replaces an earlier one, as in Go.
    meta.annotations.set(
      stringField(e, 1, 'metadata.annotations key') ?? '',
      stringField(e, 2, 'metadata.annotations value') ?? '',
    );
  }
  return meta;
}

function decodeLeaseSpecProto(bytes: Uint8Array | null): LeaseSpec {
  const f = bytes === null ? [] : parse(bytes, 'spec');
  return {
    holderIdentity: stringField(f, 1, 'spec.holderIdentity'),
    leaseDurationSeconds: int32Field(f, 2, 'spec.leaseDurationSeconds'),
    acquireTime: timeField(f, 3, 'spec.acquireTime', 'micro'),
    renewTime: timeField(f, 4, 'spec.renewTime', 'micro'),
    leaseTransitions: int32Field(f, 5, 'spec.leaseTransitions'),
    strategy: stringField(f, 6, 'spec.strategy'),
    preferredHolder: stringField(f, 7, 'spec.preferredHolder'),
  };
}

function decodeProtobuf(envelopeBytes: Uint8Array, keySource: RecordSource | null): LeaderRecord {
  const env = parse(envelopeBytes, 'runtime.Unknown');
  const typeMetaBytes = bytesField(env, 1, 'typeMeta');
  const typeMeta = typeMetaBytes === null ? [] : parse(typeMetaBytes, 'typeMeta');
  const apiVersion = stringField(typeMeta, 1, 'typeMeta.apiVersion') ?? '';
  const kind = stringField(typeMeta, 2, 'typeMeta.kind') ?? '';
  const raw = bytesField(env, 2, 'raw');
  const contentEncoding = stringField(env, 3, 'contentEncoding') ?? '';
  const contentType = stringField(env, 4, 'contentType') ?? '';
  if (contentEncoding !== '') fail(`content encoding "${contentEncoding}" is not supported`);
  if (contentType !== '' && contentType !== PROTOBUF_CONTENT_TYPE) {
    fail(`content type "${contentType}" is not supported`);
  }
  const source = resolveSource(apiVersion, kind, keySource);
  if (raw === null) fail(`${kind || 'object'} has no raw bytes`);
  const obj = parse(raw, kind || 'object');
  const meta = decodeObjectMetaProto(bytesField(obj, 1, 'metadata'));
  if (source === 'lease') {
    return decoded(
      source,
      'protobuf',
      apiVersion,
      kind,
      meta,
      decodeLeaseSpecProto(bytesField(obj, 2, 'spec')),
    );
  }
  return legacyRecord(
    source,
    'protobuf',
    apiVersion,
    kind,
    meta,
    meta.annotations.get(LEGACY_LEADER_ANNOTATION),
  );
}

function resolveSource(apiVersion: string, kind: string, keySource: RecordSource | null): RecordSource {
  const fromKind = sourceFromKind(apiVersion, kind);
  if (fromKind !== null) return fromKind;
  // Storage always records the type; only trust the key when the type is blank.
  if (apiVersion === '' && kind === '' && keySource !== null) return keySource;
  fail(`${apiVersion || '?'} ${kind || '?'} is not a Lease, Endpoints or ConfigMap`);
}

function decoded(
  source: RecordSource,
  encoding: 'protobuf' | 'json',
  apiVersion: string,
  kind: string,
  meta: Omit<ProtoMeta, 'annotations'>,
  spec: LeaseSpec,
): DecodedLeaderRecord {
  return {
    state: 'decoded',
    source,
    encoding,
    apiVersion,
    kind,
    name: meta.name,
    namespace: meta.namespace,
    uid: meta.uid,
    creationTimestamp: meta.creationTimestamp,
    spec,
  };
}

function legacyRecord(
  source: RecordSource,
  encoding: 'protobuf' | 'json',
  apiVersion: string,
  kind: string,
  meta: Omit<ProtoMeta, 'annotations'>,
  annotation: string | undefined,
): LeaderRecord {
  if (annotation === undefined) {
    return {
      state: 'no-record',
      source,
      reason: `${kind || source} has no ${LEGACY_LEADER_ANNOTATION} annotation`,
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(annotation);
  } catch {
    fail(`${LEGACY_LEADER_ANNOTATION} annotation is not JSON`);
  }
  if (!isObject(parsed)) fail(`${LEGACY_LEADER_ANNOTATION} annotation is not a JSON object`);
  const what = 'annotation';
  const spec: LeaseSpec = {
    holderIdentity: jsonString(parsed, 'holderIdentity', what),
    leaseDurationSeconds: jsonInt32(parsed, 'leaseDurationSeconds', what),
    acquireTime: jsonTime(parsed, 'acquireTime', what),
    renewTime: jsonTime(parsed, 'renewTime', what),
    leaseTransitions: jsonInt32(parsed, 'leaderTransitions', what),
    strategy: jsonString(parsed, 'strategy', what),
    preferredHolder: jsonString(parsed, 'preferredHolder', what),
  };
  return decoded(source, encoding, apiVersion, kind, meta, spec);
}

// ---------------------------------------------------------------- JSON

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonString(obj: Record<string, unknown>, field: string, what: string): string | null {
  const v = obj[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') fail(`${what}.${field} is not a string`);
  return v;
}

function jsonInt32(obj: Record<string, unknown>, field: string, what: string): number | null {
  const v = obj[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
    fail(`${what}.${field} is not a 32-bit integer`);
  }
  return v;
}

/** Keeps the stored string (and so its precision) once it is known to be RFC 3339. */
function jsonTime(obj: Record<string, unknown>, field: string, what: string): string | null {
  const s = jsonString(obj, field, what);
  if (s === null) return null;
  if (parseRfc3339(s) === null) fail(`${what}.${field} "${s.slice(0, 40)}" is not an RFC 3339 time`);
  return s;
}

function decodeJson(value: Uint8Array, keySource: RecordSource | null): LeaderRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeString(value));
  } catch {
    fail('starts with "{" but is not valid JSON');
  }
  if (!isObject(parsed)) fail('JSON value is not an object');
  const apiVersion = jsonString(parsed, 'apiVersion', 'object') ?? '';
  const kind = jsonString(parsed, 'kind', 'object') ?? '';
  const source = resolveSource(apiVersion, kind, keySource);
  const rawMeta = parsed.metadata ?? {};
  if (!isObject(rawMeta)) fail('metadata is not an object');
  const creation = rawMeta.creationTimestamp;
  const meta = {
    name: jsonString(rawMeta, 'name', 'metadata') ?? '',
    namespace: jsonString(rawMeta, 'namespace', 'metadata') ?? '',
    uid: jsonString(rawMeta, 'uid', 'metadata') ?? '',
    creationTimestamp: typeof creation === 'string' && parseRfc3339(creation) !== null ? creation : null,
  };
  if (source === 'lease') {
    const rawSpec = parsed.spec ?? {};
    if (!isObject(rawSpec)) fail('spec is not an object');
    const spec: LeaseSpec = {
      holderIdentity: jsonString(rawSpec, 'holderIdentity', 'spec'),
      leaseDurationSeconds: jsonInt32(rawSpec, 'leaseDurationSeconds', 'spec'),
      acquireTime: jsonTime(rawSpec, 'acquireTime', 'spec'),
      renewTime: jsonTime(rawSpec, 'renewTime', 'spec'),
      leaseTransitions: jsonInt32(rawSpec, 'leaseTransitions', 'spec'),
      strategy: jsonString(rawSpec, 'strategy', 'spec'),
      preferredHolder: jsonString(rawSpec, 'preferredHolder', 'spec'),
    };
    return decoded(source, 'json', apiVersion, kind, meta, spec);
  }
  const annotations = rawMeta.annotations ?? {};
  if (!isObject(annotations)) fail('metadata.annotations is not an object');
  const annotation = annotations[LEGACY_LEADER_ANNOTATION];
  if (annotation !== undefined && typeof annotation !== 'string') {
    fail(`${LEGACY_LEADER_ANNOTATION} annotation is not a string`);
  }
  return legacyRecord(source, 'json', apiVersion, kind, meta, annotation);
}
