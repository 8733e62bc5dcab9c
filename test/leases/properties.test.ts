// Property tests: the decoder always answers (never throws, never hits its
// internal-error fallback), and decode(encode(x)) == x.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLeaderRecord } from '../../src/domain/leases/decode.js';
import { encodeLease } from '../../src/domain/leases/encode.js';
import { formatTimestamp, MAX_SECONDS, MIN_SECONDS, parseRfc3339 } from '../../src/domain/leases/time.js';
import type { LeaderRecord, LeaseSpec } from '../../src/domain/leases/types.js';
import { runs } from '../helpers/property.js';
import { fixture, V1_LEASE, V1BETA1_LEASE } from './fixtures.js';

const KEYS = [
  '/registry/leases/kube-system/kube-scheduler',
  '/registry/services/endpoints/kube-system/kube-scheduler',
  '/registry/configmaps/kube-system/kube-scheduler',
  '/weird',
];
const STATES = ['decoded', 'no-record', 'encrypted', 'undecodable'];

/** The decoder must answer with a well-formed result, and only through its expected paths. */
function checkAnswer(r: LeaderRecord): void {
  expect(STATES).toContain(r.state);
  if (r.state === 'undecodable') {
    expect(typeof r.reason).toBe('string');
    expect(r.reason.length).toBeGreaterThan(0);
    expect(r.reason).not.toMatch(/^internal error/);
  }
  // The console prints the result as JSON: it must serialise.
  expect(() => JSON.stringify(r)).not.toThrow();
}

const decodeAll = (value: Uint8Array) => {
  for (const key of KEYS) checkAnswer(decodeLeaderRecord(key, value));
};

const v1 = fixture(V1_LEASE);
const v1beta1 = fixture(V1BETA1_LEASE);

type Mutation =
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'insert'; at: number; byte: number }
  | { kind: 'delete'; at: number };

function mutate(base: Uint8Array, mutations: Mutation[]): Uint8Array {
  const out = Array.from(base);
  for (const m of mutations) {
    const at = m.at % (out.length + 1);
    if (m.kind === 'set' && at < out.length) out[at] = m.byte;
    else if (m.kind === 'insert') out.splice(at, 0, m.byte);
    else if (m.kind === 'delete') out.splice(at, 1);
  }
  return Uint8Array.from(out);
}

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
);

describe('decoder robustness', () => {
  it('answers for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => decodeAll(b)),
      { numRuns: runs(1500) },
    );
  });

  it('answers for the protobuf magic followed by arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) =>
        decodeAll(Uint8Array.from([0x6b, 0x38, 0x73, 0x00, ...b])),
      ),
      { numRuns: runs(1500) },
    );
  });

  it('answers for JSON-looking input and arbitrary JSON objects', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.json(),
          fc.string().map((s) => `{${s}`),
        ),
        (s) => decodeAll(new TextEncoder().encode(s)),
      ),
      { numRuns: runs(1000) },
    );
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.jsonValue(),
        fc.constantFrom('Lease', 'Endpoints', 'ConfigMap'),
        (spec, meta, kind) =>
          decodeAll(
            new TextEncoder().encode(
              JSON.stringify({
                kind,
                apiVersion: kind === 'Lease' ? 'coordination.k8s.io/v1' : 'v1',
                metadata: meta,
                spec,
              }),
            ),
          ),
      ),
      { numRuns: runs(1000) },
    );
  });

  it('answers for every truncation of both fixtures, and reports a truncated object as undecodable', () => {
    for (const base of [v1, v1beta1]) {
      for (let n = 0; n <= base.length; n++) {
        const r = decodeLeaderRecord(KEYS[0] as string, base.subarray(0, n));
        checkAnswer(r);
        // Up to the end of the Lease bytes (before the envelope's trailing empty strings) nothing decodes.
        if (n < base.length - 4) expect(r.state, `length ${n}`).toBe('undecodable');
      }
    }
  });

  it('answers for random mutations of the fixtures', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(v1, v1beta1),
        fc.array(mutationArb, { minLength: 1, maxLength: 8 }),
        (base, ms) => decodeAll(mutate(base, ms)),
      ),
      { numRuns: runs(3000) },
    );
  });

  it('answers for every single-byte change of the v1 fixture', () => {
    for (let at = 0; at < v1.length; at++) {
      for (const byte of [0x00, 0x7f, 0x80, 0xff, (v1[at] ?? 0) ^ 0x08]) {
        checkAnswer(decodeLeaderRecord(KEYS[0] as string, mutate(v1, [{ kind: 'set', at, byte }])));
      }
    }
  });
});

// ---------------------------------------------------------------- round trips

const microTime = fc
  .record({
    seconds: fc.integer({ min: MIN_SECONDS, max: MAX_SECONDS }),
    micros: fc.integer({ min: 0, max: 999_999 }),
  })
  .map(({ seconds, micros }) => formatTimestamp({ seconds, nanos: micros * 1000 }, 'micro') as string);
const secondsTime = fc
  .integer({ min: MIN_SECONDS, max: MAX_SECONDS })
  .map((seconds) => formatTimestamp({ seconds, nanos: 0 }, 'auto') as string);
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const text = fc.string({ unit: 'binary', maxLength: 40 });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });

const specArb: fc.Arbitrary<LeaseSpec> = fc.record({
  holderIdentity: opt(text),
  leaseDurationSeconds: opt(int32),
  acquireTime: opt(microTime),
  renewTime: opt(microTime),
  leaseTransitions: opt(int32),
  strategy: opt(text),
  preferredHolder: opt(text),
});

describe('round trips', () => {
  it('decode(encodeLease(x)) == x', () => {
    fc.assert(
      fc.property(
        fc.record({ name: text, namespace: text, uid: text, creationTimestamp: secondsTime, spec: specArb }),
        fc.constantFrom('coordination.k8s.io/v1', 'coordination.k8s.io/v1beta1'),
        (lease, apiVersion) => {
          expect(decodeLeaderRecord(KEYS[0] as string, encodeLease(lease, apiVersion))).toEqual({
            state: 'decoded',
            source: 'lease',
            encoding: 'protobuf',
            apiVersion,
            kind: 'Lease',
            ...lease,
          });
        },
      ),
      { numRuns: runs(500) },
    );
  });

  it('decode of a JSON-stored Lease gives back its spec', () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const json = JSON.stringify({
          kind: 'Lease',
          apiVersion: 'coordination.k8s.io/v1',
          metadata: { name: 'n', namespace: 'kube-system' },
          spec: Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== null)),
        });
        const r = decodeLeaderRecord(KEYS[0] as string, new TextEncoder().encode(json));
        expect(r.state === 'decoded' && r.spec).toEqual(spec);
      }),
      { numRuns: runs(300) },
    );
  });

  it('RFC 3339 formatting and parsing are inverse', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MIN_SECONDS, max: MAX_SECONDS }),
        fc.integer({ min: 0, max: 999_999_999 }),
        (seconds, nanos) => {
          expect(parseRfc3339(formatTimestamp({ seconds, nanos }, 'auto') as string)).toEqual({
            seconds,
            nanos,
          });
          const micro = nanos - (nanos % 1000);
          expect(parseRfc3339(formatTimestamp({ seconds, nanos }, 'micro') as string)).toEqual({
            seconds,
            nanos: micro,
          });
        },
      ),
    );
    expect(parseRfc3339('2004-01-01T03:01:01.5+02:00')).toEqual({ seconds: 1072918861, nanos: 500_000_000 });
    expect(parseRfc3339('0001-01-01T00:00:00Z')?.seconds).toBe(-62135596800);
    for (const bad of [
      '2004-13-01T00:00:00Z',
      '2003-02-29T00:00:00Z',
      '2004-01-01T24:00:00Z',
      '2004-01-01 00:00:00Z',
      '',
    ]) {
      expect(parseRfc3339(bad), bad).toBeNull();
    }
    expect(parseRfc3339('2004-02-29T00:00:00Z')).not.toBeNull();
  });
});
