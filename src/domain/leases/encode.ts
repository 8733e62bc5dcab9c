// Writes leader-election objects byte for byte as kube-apiserver stores them
// in etcd (protobuf storage), so that the lab's simulated components produce
// values that the decoder reads exactly like a real cluster's.
//
// Shape of Kubernetes' generated marshalling that matters here: fields go out
// in field-number order; plain (non-pointer) strings, integers and embedded
// structs are always written, even when empty or zero; pointer fields (all of
// LeaseSpec) only when set; empty maps and lists not at all.
import { PROTOBUF_MAGIC } from './decode.js';
import { ProtoWriter } from './protobuf.js';
import { formatTimestamp, parseRfc3339, type Timestamp } from './time.js';
import { LEGACY_LEADER_ANNOTATION, type LeaseSpec } from './types.js';

export interface ObjectMetaInput {
  name: string;
  namespace: string;
  uid: string;
  /** RFC 3339; metav1.Time stores whole seconds only. */
  creationTimestamp: string;
}

export interface LeaseObject extends ObjectMetaInput {
  spec: LeaseSpec;
}

function timestamp(s: string, what: string): Timestamp {
  const ts = parseRfc3339(s);
  // Encoding is only fed by this program's own values: a bad one is a bug.
  if (ts === null) throw new RangeError(`${what}: "${s}" is not an RFC 3339 time`);
  return ts;
}

function writeTime(w: ProtoWriter, field: number, ts: Timestamp): void {
  w.message(field, (t) => t.varint(1, ts.seconds).varint(2, ts.nanos));
}

/** metav1.Time keeps whole seconds in storage (its protobuf form drops nanos). */
function writeSecondsTime(w: ProtoWriter, field: number, s: string, what: string): void {
  writeTime(w, field, { seconds: timestamp(s, what).seconds, nanos: 0 });
}

/** metav1.MicroTime keeps microseconds. */
function writeMicroTime(w: ProtoWriter, field: number, s: string, what: string): void {
  const ts = timestamp(s, what);
  writeTime(w, field, { seconds: ts.seconds, nanos: ts.nanos - (ts.nanos % 1000) });
}

function writeObjectMeta(w: ProtoWriter, meta: ObjectMetaInput, annotations: [string, string][] = []): void {
  w.message(1, (m) => {
    m.string(1, meta.name)
      .string(2, '') // generateName
      .string(3, meta.namespace)
      .string(4, '') // selfLink
      .string(5, meta.uid)
      .string(6, '') // resourceVersion: blank in storage, the etcd mod_revision is the version
      .varint(7, 0); // generation
    writeSecondsTime(m, 8, meta.creationTimestamp, 'metadata.creationTimestamp');
    // Go marshals map entries sorted by key.
    for (const [k, v] of [...annotations].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      m.message(12, (e) => e.string(1, k).string(2, v));
    }
  });
}

/** LeaseSpec alone (every field is a pointer: absent when null). */
export function encodeLeaseSpec(spec: LeaseSpec): Uint8Array {
  const w = new ProtoWriter();
  if (spec.holderIdentity !== null) w.string(1, spec.holderIdentity);
  if (spec.leaseDurationSeconds !== null) w.varint(2, spec.leaseDurationSeconds);
  if (spec.acquireTime !== null) writeMicroTime(w, 3, spec.acquireTime, 'spec.acquireTime');
  if (spec.renewTime !== null) writeMicroTime(w, 4, spec.renewTime, 'spec.renewTime');
  if (spec.leaseTransitions !== null) w.varint(5, spec.leaseTransitions);
  if (spec.strategy !== null) w.string(6, spec.strategy);
  if (spec.preferredHolder !== null) w.string(7, spec.preferredHolder);
  return w.finish();
}

/** Wraps an object's bytes in the storage envelope: magic + runtime.Unknown. */
function envelope(apiVersion: string, kind: string, raw: Uint8Array): Uint8Array {
  const w = new ProtoWriter();
  w.raw(PROTOBUF_MAGIC)
    .message(1, (t) => t.string(1, apiVersion).string(2, kind))
    .bytes(2, raw)
    .string(3, '') // contentEncoding
    .string(4, ''); // contentType
  return w.finish();
}

/** A Lease as kube-apiserver stores it. Throws RangeError on a time that is not RFC 3339. */
export function encodeLease(lease: LeaseObject, apiVersion = 'coordination.k8s.io/v1'): Uint8Array {
  const obj = new ProtoWriter();
  writeObjectMeta(obj, lease);
  obj.bytes(2, encodeLeaseSpec(lease.spec));
  return envelope(apiVersion, 'Lease', obj.finish());
}

/**
 * The legacy annotation's JSON as client-go wrote it (LeaderElectionRecord;
 * metav1.Time fields, so whole seconds; a zero time is null).
 */
export function legacyAnnotationJson(spec: LeaseSpec): string {
  const seconds = (s: string | null) => {
    if (s === null) return null;
    return formatTimestamp({ seconds: timestamp(s, 'annotation time').seconds, nanos: 0 }, 'auto');
  };
  return JSON.stringify({
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: seconds(spec.acquireTime),
    renewTime: seconds(spec.renewTime),
    leaderTransitions: spec.leaseTransitions ?? 0,
  });
}

/** An Endpoints or ConfigMap carrying only the legacy leader annotation (how <= 1.23 clusters recorded leaders). */
export function encodeLegacyLeaderObject(
  kind: 'Endpoints' | 'ConfigMap',
  meta: ObjectMetaInput,
  spec: LeaseSpec,
): Uint8Array {
  const obj = new ProtoWriter();
  writeObjectMeta(obj, meta, [[LEGACY_LEADER_ANNOTATION, legacyAnnotationJson(spec)]]);
  return envelope('v1', kind, obj.finish());
}
