import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeLeaderRecord } from '../../src/domain/leases/decode.js';
import { encodeLease, encodeLeaseSpec, encodeLegacyLeaderObject } from '../../src/domain/leases/encode.js';
import { decodeString, lastField, ProtoWriter, parseMessage } from '../../src/domain/leases/protobuf.js';
import {
  LEGACY_LEADER_ANNOTATION,
  type LeaderRecord,
  type LeaseSpec,
} from '../../src/domain/leases/types.js';
import { FIXTURE_SPEC, fixture, NAMESPACE_KV, V1_LEASE, V1_LEASE_SHA256, V1BETA1_LEASE } from './fixtures.js';

const LEASE_KEY = '/registry/leases/kube-system/kube-scheduler';
const EP_KEY = '/registry/services/endpoints/kube-system/kube-scheduler';
const CM_KEY = '/registry/configmaps/kube-system/kube-scheduler';
const utf8 = (s: string) => new TextEncoder().encode(s);
const MAGIC = [0x6b, 0x38, 0x73, 0x00];

/** A storage envelope written by hand, independently of encode.ts. */
function envelope(
  apiVersion: string,
  kind: string,
  raw: Uint8Array,
  contentEncoding = '',
  contentType = '',
): Uint8Array {
  return new ProtoWriter()
    .raw(Uint8Array.from(MAGIC))
    .message(1, (t) => t.string(1, apiVersion).string(2, kind))
    .bytes(2, raw)
    .string(3, contentEncoding)
    .string(4, contentType)
    .finish();
}

function undecodableReason(r: LeaderRecord): string {
  if (r.state !== 'undecodable') throw new Error(`expected undecodable, got ${JSON.stringify(r)}`);
  return r.reason;
}

describe('decodeLeaderRecord: protobuf Leases written by Kubernetes', () => {
  it('decodes every field of the v1 fixture', () => {
    const value = fixture(V1_LEASE);
    expect(createHash('sha256').update(value).digest('hex')).toBe(V1_LEASE_SHA256);
    expect(decodeLeaderRecord(LEASE_KEY, value)).toEqual({
      state: 'decoded',
      source: 'lease',
      encoding: 'protobuf',
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      name: 'nameValue',
      namespace: 'namespaceValue',
      uid: 'uidValue',
      creationTimestamp: '2008-01-01T01:01:01Z',
      spec: FIXTURE_SPEC,
    });
  });

  it('decodes every field of the v1beta1 fixture', () => {
    expect(decodeLeaderRecord(LEASE_KEY, fixture(V1BETA1_LEASE))).toEqual({
      state: 'decoded',
      source: 'lease',
      encoding: 'protobuf',
      apiVersion: 'coordination.k8s.io/v1beta1',
      kind: 'Lease',
      name: 'nameValue',
      namespace: 'namespaceValue',
      uid: 'uidValue',
      creationTimestamp: '2008-01-01T01:01:01Z',
      spec: FIXTURE_SPEC,
    });
  });

  it('re-encodes the fixture spec to the very bytes Kubernetes wrote', () => {
    const value = fixture(V1_LEASE);
    const env = parseMessage(value.subarray(4));
    if (!env.ok) throw new Error(env.error);
    const lease = parseMessage(lastField(env.fields, 2)?.value as Uint8Array);
    if (!lease.ok) throw new Error(lease.error);
    const specBytes = lastField(lease.fields, 2)?.value as Uint8Array;
    expect(Buffer.from(encodeLeaseSpec(FIXTURE_SPEC)).toString('hex')).toBe(
      Buffer.from(specBytes).toString('hex'),
    );
  });

  it('round-trips the decoded fixture through encodeLease (v1 and v1beta1)', () => {
    for (const [name, apiVersion] of [
      [V1_LEASE, 'coordination.k8s.io/v1'],
      [V1BETA1_LEASE, 'coordination.k8s.io/v1beta1'],
    ] as const) {
      const rec = decodeLeaderRecord(LEASE_KEY, fixture(name));
      if (rec.state !== 'decoded') throw new Error(JSON.stringify(rec));
      const again = decodeLeaderRecord(
        LEASE_KEY,
        encodeLease(
          {
            name: rec.name,
            namespace: rec.namespace,
            uid: rec.uid,
            creationTimestamp: rec.creationTimestamp ?? '',
            spec: rec.spec,
          },
          apiVersion,
        ),
      );
      expect(again).toEqual(rec);
    }
  });

  it('writes the envelope as the real serializer does (same typeMeta and trailer as the fixture)', () => {
    const encoded = encodeLease({
      name: 'nameValue',
      namespace: 'namespaceValue',
      uid: 'uidValue',
      creationTimestamp: '2008-01-01T01:01:01Z',
      spec: FIXTURE_SPEC,
    });
    const real = fixture(V1_LEASE);
    // magic + typeMeta are identical; both end with contentEncoding "" and contentType "".
    expect(Buffer.from(encoded.subarray(0, 37)).equals(Buffer.from(real.subarray(0, 37)))).toBe(true);
    expect(Array.from(encoded.subarray(-4))).toEqual([0x1a, 0x00, 0x22, 0x00]);
    expect(Array.from(real.subarray(-4))).toEqual([0x1a, 0x00, 0x22, 0x00]);
  });

  it('keeps MicroTime at microseconds and metav1.Time at its stored precision', () => {
    const micro = (seconds: number, nanos: number) =>
      new ProtoWriter().message(4, (t) => t.varint(1, seconds).varint(2, nanos)).finish();
    const lease = (
      spec: Uint8Array,
      creation = new ProtoWriter().varint(1, 1199149261).varint(2, 0).finish(),
    ) =>
      envelope(
        'coordination.k8s.io/v1',
        'Lease',
        new ProtoWriter()
          .message(1, (m) => m.string(1, 'x').bytes(8, creation))
          .bytes(2, spec)
          .finish(),
      );
    const r1 = decodeLeaderRecord(LEASE_KEY, lease(micro(1072918861, 4000)));
    expect(r1.state === 'decoded' && r1.spec.renewTime).toBe('2004-01-01T01:01:01.000004Z');
    const r2 = decodeLeaderRecord(LEASE_KEY, lease(micro(1072918861, 123456789)));
    expect(r2.state === 'decoded' && r2.spec.renewTime).toBe('2004-01-01T01:01:01.123456Z');
    const r3 = decodeLeaderRecord(
      LEASE_KEY,
      lease(micro(0, 0), new ProtoWriter().varint(1, 1199149261).varint(2, 500000000).finish()),
    );
    expect(r3.state === 'decoded' && r3.creationTimestamp).toBe('2008-01-01T01:01:01.5Z');
    expect(r3.state === 'decoded' && r3.spec.renewTime).toBe('1970-01-01T00:00:00.000000Z');
    expect(undecodableReason(decodeLeaderRecord(LEASE_KEY, lease(micro(2 ** 40, 0))))).toMatch(
      /spec\.renewTime.*not a representable time/,
    );
    expect(undecodableReason(decodeLeaderRecord(LEASE_KEY, lease(micro(0, -1))))).toMatch(/spec\.renewTime/);
  });

  it('reads negative and absent spec fields as Go would', () => {
    const spec = new ProtoWriter().string(1, '').varint(2, -3).varint(5, -2147483648).finish();
    const rec = decodeLeaderRecord(
      LEASE_KEY,
      envelope('coordination.k8s.io/v1', 'Lease', new ProtoWriter().bytes(2, spec).finish()),
    );
    expect(rec.state === 'decoded' && rec.spec).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: -3,
      acquireTime: null,
      renewTime: null,
      leaseTransitions: -2147483648,
      strategy: null,
      preferredHolder: null,
    });
  });

  it('skips unknown fields of every wire type', () => {
    const spec = new ProtoWriter()
      .fixed32(99, 7)
      .string(1, 'a_b')
      .fixed64(100, 1n)
      .varint(101, 5)
      .bytes(102, Uint8Array.from([1, 2, 3]))
      .varint(2, 15)
      .finish();
    const raw = new ProtoWriter().varint(50, 1).bytes(2, spec).string(3, 'status?').finish();
    const rec = decodeLeaderRecord(LEASE_KEY, envelope('coordination.k8s.io/v1', 'Lease', raw));
    expect(rec.state === 'decoded' && rec.spec.holderIdentity).toBe('a_b');
    expect(rec.state === 'decoded' && rec.spec.leaseDurationSeconds).toBe(15);
  });
});

describe('decodeLeaderRecord: legacy annotations', () => {
  const annotation = JSON.stringify({
    holderIdentity: 'master-a_0e3d5b8c-1f7e-4a6f-9a51-2b3c4d5e6f70',
    leaseDurationSeconds: 15,
    acquireTime: '2018-06-01T10:00:00Z',
    renewTime: '2018-06-01T10:05:30Z',
    leaderTransitions: 3,
  });
  const expectedSpec: LeaseSpec = {
    holderIdentity: 'master-a_0e3d5b8c-1f7e-4a6f-9a51-2b3c4d5e6f70',
    leaseDurationSeconds: 15,
    acquireTime: '2018-06-01T10:00:00Z',
    renewTime: '2018-06-01T10:05:30Z',
    leaseTransitions: 3,
    strategy: null,
    preferredHolder: null,
  };

  it('reads the annotation from a protobuf Endpoints, skipping labels, other annotations and subsets', () => {
    const raw = new ProtoWriter()
      .message(1, (m) =>
        m
          .string(1, 'kube-scheduler')
          .string(3, 'kube-system')
          .string(5, 'uid-1')
          .message(11, (e) => e.string(1, 'app').string(2, 'x'))
          .message(12, (e) => e.string(1, 'a.example/other').string(2, '{}'))
          .message(12, (e) => e.string(1, LEGACY_LEADER_ANNOTATION).string(2, annotation)),
      )
      .message(2, (s) => s.message(1, (a) => a.string(1, '10.0.0.1')))
      .finish();
    expect(decodeLeaderRecord(EP_KEY, envelope('v1', 'Endpoints', raw))).toEqual({
      state: 'decoded',
      source: 'endpoints',
      encoding: 'protobuf',
      apiVersion: 'v1',
      kind: 'Endpoints',
      name: 'kube-scheduler',
      namespace: 'kube-system',
      uid: 'uid-1',
      creationTimestamp: null,
      spec: expectedSpec,
    });
  });

  it('reads what encodeLegacyLeaderObject writes for a ConfigMap', () => {
    const value = encodeLegacyLeaderObject(
      'ConfigMap',
      {
        name: 'kube-scheduler',
        namespace: 'kube-system',
        uid: 'u',
        creationTimestamp: '2018-01-01T00:00:00Z',
      },
      { ...expectedSpec, acquireTime: '2018-06-01T10:00:00.123456Z' },
    );
    const rec = decodeLeaderRecord(CM_KEY, value);
    expect(rec.state).toBe('decoded');
    if (rec.state !== 'decoded') return;
    expect(rec.source).toBe('configmap');
    // The annotation holds metav1.Time: whole seconds.
    expect(rec.spec).toEqual(expectedSpec);
  });

  it('reads JSON Endpoints and ConfigMaps', () => {
    for (const [key, kind, source] of [
      [EP_KEY, 'Endpoints', 'endpoints'],
      [CM_KEY, 'ConfigMap', 'configmap'],
    ] as const) {
      const json = JSON.stringify({
        kind,
        apiVersion: 'v1',
        metadata: {
          name: 'kube-scheduler',
          namespace: 'kube-system',
          uid: 'u2',
          creationTimestamp: '2018-01-01T00:00:00Z',
          annotations: { [LEGACY_LEADER_ANNOTATION]: annotation },
        },
      });
      const rec = decodeLeaderRecord(key, utf8(json));
      expect(rec).toMatchObject({ state: 'decoded', source, encoding: 'json', kind, spec: expectedSpec });
    }
  });

  it('reports an object without the annotation as no-record', () => {
    const json = JSON.stringify({
      kind: 'Endpoints',
      apiVersion: 'v1',
      metadata: { name: 'kube-scheduler' },
    });
    expect(decodeLeaderRecord(EP_KEY, utf8(json))).toMatchObject({ state: 'no-record', source: 'endpoints' });
    const pb = envelope('v1', 'ConfigMap', new ProtoWriter().message(1, (m) => m.string(1, 'x')).finish());
    expect(decodeLeaderRecord(CM_KEY, pb)).toMatchObject({ state: 'no-record', source: 'configmap' });
  });

  it('rejects an annotation that is not a leader record', () => {
    const bad = (value: string) =>
      decodeLeaderRecord(
        EP_KEY,
        envelope(
          'v1',
          'Endpoints',
          new ProtoWriter()
            .message(1, (m) => m.message(12, (e) => e.string(1, LEGACY_LEADER_ANNOTATION).string(2, value)))
            .finish(),
        ),
      );
    expect(undecodableReason(bad('not json'))).toMatch(/not JSON/);
    expect(undecodableReason(bad('[]'))).toMatch(/not a JSON object/);
    expect(undecodableReason(bad('{"leaseDurationSeconds":"15"}'))).toMatch(/leaseDurationSeconds/);
    expect(undecodableReason(bad('{"renewTime":"yesterday"}'))).toMatch(/renewTime.*RFC 3339/);
  });
});

describe('decodeLeaderRecord: JSON Leases', () => {
  it('keeps the stored time strings and maps every field', () => {
    const json = JSON.stringify({
      kind: 'Lease',
      apiVersion: 'coordination.k8s.io/v1',
      metadata: {
        name: 'kube-controller-manager',
        namespace: 'kube-system',
        uid: 'u3',
        creationTimestamp: '2024-05-01T00:00:00Z',
      },
      spec: {
        holderIdentity: 'm1_5a7c1e2d-3b4f-4c5d-8e9f-0a1b2c3d4e5f',
        leaseDurationSeconds: 15,
        acquireTime: '2024-05-01T00:00:01.000001Z',
        renewTime: '2024-05-01T00:10:00.250000Z',
        leaseTransitions: 7,
      },
    });
    expect(
      decodeLeaderRecord('/registry/leases/kube-system/kube-controller-manager', utf8(` ${json}`)),
    ).toEqual({
      state: 'decoded',
      source: 'lease',
      encoding: 'json',
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      name: 'kube-controller-manager',
      namespace: 'kube-system',
      uid: 'u3',
      creationTimestamp: '2024-05-01T00:00:00Z',
      spec: {
        holderIdentity: 'm1_5a7c1e2d-3b4f-4c5d-8e9f-0a1b2c3d4e5f',
        leaseDurationSeconds: 15,
        acquireTime: '2024-05-01T00:00:01.000001Z',
        renewTime: '2024-05-01T00:10:00.250000Z',
        leaseTransitions: 7,
        strategy: null,
        preferredHolder: null,
      },
    });
  });

  it('rejects wrongly typed fields with a reason naming them', () => {
    const lease = (spec: unknown) =>
      decodeLeaderRecord(
        LEASE_KEY,
        utf8(JSON.stringify({ kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', spec })),
      );
    expect(undecodableReason(lease({ holderIdentity: 5 }))).toMatch(/spec\.holderIdentity is not a string/);
    expect(undecodableReason(lease({ leaseDurationSeconds: 1.5 }))).toMatch(/leaseDurationSeconds/);
    expect(undecodableReason(lease({ leaseTransitions: 2 ** 31 }))).toMatch(/leaseTransitions/);
    expect(undecodableReason(lease({ renewTime: '2024-02-30T00:00:00Z' }))).toMatch(/renewTime/);
    expect(undecodableReason(lease([]))).toMatch(/spec is not an object/);
  });
});

describe('decodeLeaderRecord: encrypted and garbage', () => {
  it('recognises encryption at rest and names the provider', () => {
    const enc = (prefix: string) =>
      decodeLeaderRecord(LEASE_KEY, Uint8Array.from([...utf8(prefix), 0x00, 0xff, 0x13, 0x37]));
    expect(enc('k8s:enc:aescbc:v1:key1:')).toEqual({
      state: 'encrypted',
      source: 'lease',
      provider: 'aescbc',
      providerVersion: 'v1',
      keyName: 'key1',
    });
    expect(enc('k8s:enc:kms:v2:cloudkms:')).toMatchObject({
      provider: 'kms',
      providerVersion: 'v2',
      keyName: 'cloudkms',
    });
    expect(enc('k8s:enc:secretbox:v1')).toMatchObject({
      state: 'encrypted',
      provider: 'secretbox',
      keyName: '',
    });
    expect(enc('k8s:enc:secretbox')).toMatchObject({ state: 'encrypted', provider: 'unknown', keyName: '' });
    expect(enc('k8s:enc:')).toMatchObject({ state: 'encrypted', provider: 'unknown' });
  });

  it('explains why anything else cannot be read', () => {
    const reason = (key: string, v: Uint8Array) => undecodableReason(decodeLeaderRecord(key, v));
    expect(reason(LEASE_KEY, new Uint8Array())).toBe('empty value');
    expect(reason(LEASE_KEY, utf8('hello'))).toMatch(
      /not a Kubernetes storage value \(starts with 68 65 6c 6c 6f\)/,
    );
    expect(reason(LEASE_KEY, utf8('[1,2]'))).toMatch(/not a Kubernetes storage value/);
    expect(reason(LEASE_KEY, utf8('{"kind":'))).toMatch(/not valid JSON/);
    expect(reason(LEASE_KEY, utf8('{"kind":"Pod","apiVersion":"v1"}'))).toMatch(/v1 Pod is not a Lease/);
    const v1 = fixture(V1_LEASE);
    expect(reason(LEASE_KEY, v1.subarray(0, 200))).toMatch(/runs past the end|truncated/);
    expect(reason(LEASE_KEY, Uint8Array.from([...MAGIC, 0x0b]))).toMatch(
      /runtime\.Unknown: unsupported wire type 3/,
    );
    const lease = new ProtoWriter().bytes(2, new ProtoWriter().varint(1, 5).finish()).finish();
    expect(reason(LEASE_KEY, envelope('coordination.k8s.io/v1', 'Lease', lease))).toMatch(
      /spec\.holderIdentity: wire type 0/,
    );
    expect(reason(LEASE_KEY, envelope('coordination.k8s.io/v1', 'Lease', lease, 'gzip'))).toMatch(
      /content encoding/,
    );
    expect(
      reason(LEASE_KEY, envelope('coordination.k8s.io/v1', 'Lease', lease, '', 'application/json')),
    ).toMatch(/content type/);
    // Blank type information: only then is the key trusted; an unknown key leaves nothing to go on.
    expect(reason('/registry/pods/default/x', envelope('', '', new Uint8Array()))).toMatch(
      /\? \? is not a Lease/,
    );
  });

  it('rejects a real etcd object of another kind (a Namespace from a bolt database)', () => {
    const kv = parseMessage(fixture(NAMESPACE_KV));
    if (!kv.ok) throw new Error(kv.error);
    const key = decodeString(lastField(kv.fields, 1)?.value as Uint8Array);
    const value = lastField(kv.fields, 5)?.value as Uint8Array;
    const rec = decodeLeaderRecord(key, value);
    expect(rec).toEqual({
      state: 'undecodable',
      source: null,
      reason: 'v1 Namespace is not a Lease, Endpoints or ConfigMap',
    });
  });

  it('a blank type falls back to the key', () => {
    const raw = new ProtoWriter().bytes(2, encodeLeaseSpec(FIXTURE_SPEC)).finish();
    const rec = decodeLeaderRecord(LEASE_KEY, envelope('', '', raw));
    expect(rec.state === 'decoded' && rec.spec).toEqual(FIXTURE_SPEC);
  });
});
