import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeString,
  ProtoWriter,
  parseMessage,
  toInt32,
  toInt64,
  type WireField,
} from '../../src/domain/leases/protobuf.js';
import { runs } from '../helpers/property.js';
import { fixture, NAMESPACE_KV } from './fixtures.js';

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('protobuf reader', () => {
  it('reads the four wire types and keeps field order', () => {
    const res = parseMessage(
      bytes(
        0x08,
        0x96,
        0x01, // 1: varint 150
        0x11,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8, // 2: fixed64
        0x1a,
        0x02,
        0x68,
        0x69, // 3: "hi"
        0x25,
        9,
        8,
        7,
        6, // 4: fixed32
      ),
    );
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.fields.map((f) => [f.field, f.wire])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 5],
    ]);
    expect(res.fields[0]?.value).toBe(150n);
    expect(Array.from(res.fields[1]?.value as Uint8Array)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(decodeString(res.fields[2]?.value as Uint8Array)).toBe('hi');
    expect(Array.from(res.fields[3]?.value as Uint8Array)).toEqual([9, 8, 7, 6]);
  });

  it('decodes negative int32 (10-byte sign-extended varints) and int64', () => {
    const w = new ProtoWriter().varint(1, -1).varint(2, -2147483648).varint(3, -5n);
    const buf = w.finish();
    // Go writes negative int32 as 10-byte varints: tag + 10 bytes, three times.
    expect(buf.length).toBe(33);
    const res = parseMessage(buf);
    if (!res.ok) throw new Error(res.error);
    const [a, b, c] = res.fields.map((f) => f.value as bigint);
    expect(toInt32(a as bigint)).toBe(-1);
    expect(toInt32(b as bigint)).toBe(-2147483648);
    expect(toInt64(c as bigint)).toBe(-5n);
  });

  it('reports truncation, bad lengths, over-long varints, bad wire types and field 0', () => {
    const cases: [Uint8Array, RegExp][] = [
      [bytes(0x08), /truncated varint/],
      [bytes(0x08, 0x80), /truncated varint/],
      [bytes(0x0a, 0x05, 0x61), /runs past the end/],
      [bytes(0x11, 1, 2, 3), /truncated fixed64/],
      [bytes(0x15, 1, 2), /truncated fixed32/],
      [bytes(0x08, ...Array(10).fill(0xff), 0x01), /longer than 10 bytes/],
      [bytes(0x0b), /unsupported wire type 3/],
      [bytes(0x0e), /unsupported wire type 6/],
      [bytes(0x00, 0x01), /invalid field number 0/],
      [bytes(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f), /runs past the end/],
    ];
    for (const [buf, error] of cases) {
      const res = parseMessage(buf);
      expect(res.ok, `${Array.from(buf)}`).toBe(false);
      if (!res.ok) expect(res.error).toMatch(error);
    }
  });

  it('reads a real etcd KeyValue (from a bolt database) and finds the stored object inside it', () => {
    const res = parseMessage(fixture(NAMESPACE_KV));
    if (!res.ok) throw new Error(res.error);
    const byField = new Map(res.fields.map((f) => [f.field, f]));
    expect(decodeString(byField.get(1)?.value as Uint8Array)).toBe('/registry/namespaces/default');
    expect(byField.get(2)?.value).toBe(4n); // create_revision
    expect(byField.get(3)?.value).toBe(4n); // mod_revision
    expect(byField.get(4)?.value).toBe(1n); // version
    const value = byField.get(5)?.value as Uint8Array;
    expect(Array.from(value.subarray(0, 4))).toEqual([0x6b, 0x38, 0x73, 0x00]);
  });

  it('writer and reader agree on random messages (property)', () => {
    const field = fc.integer({ min: 1, max: 0x1fffffff });
    const wireField = fc.oneof(
      fc.record({
        field,
        kind: fc.constant('varint' as const),
        v: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
      }),
      fc.record({ field, kind: fc.constant('bytes' as const), v: fc.uint8Array({ maxLength: 200 }) }),
      fc.record({ field, kind: fc.constant('f64' as const), v: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
      fc.record({ field, kind: fc.constant('f32' as const), v: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
    );
    fc.assert(
      fc.property(fc.array(wireField, { maxLength: 20 }), (items) => {
        const w = new ProtoWriter();
        for (const it of items) {
          if (it.kind === 'varint') w.varint(it.field, it.v);
          else if (it.kind === 'bytes') w.bytes(it.field, it.v);
          else if (it.kind === 'f64') w.fixed64(it.field, it.v);
          else w.fixed32(it.field, it.v);
        }
        const res = parseMessage(w.finish());
        if (!res.ok) throw new Error(res.error);
        expect(res.fields.length).toBe(items.length);
        items.forEach((it, i) => {
          const f = res.fields[i] as WireField;
          expect(f.field).toBe(it.field);
          if (it.kind === 'varint') expect(f.value).toBe(BigInt.asUintN(64, it.v));
          else if (it.kind === 'bytes') expect(Array.from(f.value as Uint8Array)).toEqual(Array.from(it.v));
          else if (it.kind === 'f64') {
            expect(new DataView((f.value as Uint8Array).slice().buffer).getBigUint64(0, true)).toBe(it.v);
          } else expect(new DataView((f.value as Uint8Array).slice().buffer).getUint32(0, true)).toBe(it.v);
        });
      }),
    );
  });

  it('never throws on arbitrary bytes, and every field it returns lies inside the input (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (buf) => {
        const res = parseMessage(buf);
        if (!res.ok) {
          expect(res.error.length).toBeGreaterThan(0);
          return;
        }
        for (const f of res.fields) {
          if (f.wire !== 0) {
            expect(f.value.buffer).toBe(buf.buffer);
            expect(f.value.byteOffset + f.value.length).toBeLessThanOrEqual(buf.byteOffset + buf.length);
          }
        }
      }),
      { numRuns: runs(2000) },
    );
  });
});
