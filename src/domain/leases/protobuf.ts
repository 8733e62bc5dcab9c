// A minimal protobuf wire-format reader and writer, enough for the handful of
// Kubernetes messages this tool reads from etcd. The reader never throws:
// values come straight from a database and may be truncated, corrupted or not
// protobuf at all, so every failure is returned as data.

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

export type WireType = typeof WIRE_VARINT | typeof WIRE_FIXED64 | typeof WIRE_BYTES | typeof WIRE_FIXED32;

export type WireField =
  | { field: number; wire: typeof WIRE_VARINT; value: bigint }
  | { field: number; wire: typeof WIRE_FIXED64 | typeof WIRE_BYTES | typeof WIRE_FIXED32; value: Uint8Array };

export type ParseResult = { ok: true; fields: WireField[] } | { ok: false; error: string };

// Field numbers above 2^29-1 are invalid in protobuf.
const MAX_FIELD = 0x1fffffff;

interface Varint {
  value: bigint;
  next: number;
}

function readVarint(buf: Uint8Array, pos: number): Varint | string {
  let value = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    const b = buf[pos + i];
    if (b === undefined) return `truncated varint at offset ${pos}`;
    value |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return { value: BigInt.asUintN(64, value), next: pos + i + 1 };
    shift += 7n;
  }
  return `varint longer than 10 bytes at offset ${pos}`;
}

/** Splits one message into its fields, in wire order; unknown fields are kept for the caller to ignore. */
export function parseMessage(buf: Uint8Array): ParseResult {
  const fields: WireField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const tag = readVarint(buf, pos);
    if (typeof tag === 'string') return { ok: false, error: tag };
    const field = tag.value >> 3n;
    const wire = Number(tag.value & 7n);
    if (field === 0n || field > BigInt(MAX_FIELD)) {
      return { ok: false, error: `invalid field number ${field} at offset ${pos}` };
    }
    const n = Number(field);
    pos = tag.next;
    switch (wire) {
      case WIRE_VARINT: {
        const v = readVarint(buf, pos);
        if (typeof v === 'string') return { ok: false, error: v };
        fields.push({ field: n, wire, value: v.value });
        pos = v.next;
        break;
      }
      case WIRE_FIXED64:
      case WIRE_FIXED32: {
        const size = wire === WIRE_FIXED64 ? 8 : 4;
        if (pos + size > buf.length)
          return { ok: false, error: `truncated fixed${size * 8} at offset ${pos}` };
        fields.push({ field: n, wire, value: buf.subarray(pos, pos + size) });
        pos += size;
        break;
      }
      case WIRE_BYTES: {
        const len = readVarint(buf, pos);
        if (typeof len === 'string') return { ok: false, error: len };
        if (len.value > BigInt(buf.length - len.next)) {
          return { ok: false, error: `field ${n} length ${len.value} runs past the end at offset ${pos}` };
        }
        const start = len.next;
        const end = start + Number(len.value);
        fields.push({ field: n, wire, value: buf.subarray(start, end) });
        pos = end;
        break;
      }
      default:
        // Groups (3, 4) are deprecated and never used by Kubernetes; 6 and 7 do not exist.
        return { ok: false, error: `unsupported wire type ${wire} for field ${n} at offset ${pos}` };
    }
  }
  return { ok: true, fields };
}

/** The last occurrence wins for singular fields, as in protobuf's merge semantics. */
export function lastField(fields: readonly WireField[], field: number): WireField | undefined {
  for (let i = fields.length - 1; i >= 0; i--) {
    const f = fields[i];
    if (f?.field === field) return f;
  }
  return undefined;
}

export function allFields(fields: readonly WireField[], field: number): WireField[] {
  return fields.filter((f) => f.field === field);
}

// ignoreBOM: a string field that starts with U+FEFF is data, not a byte-order mark.
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** Go strings may hold any bytes; invalid UTF-8 becomes U+FFFD rather than an error. */
export function decodeString(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** int32 on the wire is a sign-extended varint; keep the low 32 bits, signed. */
export function toInt32(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

export function toInt64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

// ---------------------------------------------------------------- writer

/** Builds one message; nested messages are written by a child writer and length-prefixed. */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  private rawVarint(v: bigint): void {
    let x = BigInt.asUintN(64, v);
    const out: number[] = [];
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wire: WireType): void {
    this.rawVarint((BigInt(field) << 3n) | BigInt(wire));
  }

  /** int32/int64/uint64/bool: negative numbers are sign-extended to 64 bits, as Go writes them. */
  varint(field: number, v: bigint | number | boolean): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(typeof v === 'boolean' ? (v ? 1n : 0n) : BigInt(v));
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_BYTES);
    this.rawVarint(BigInt(value.length));
    this.push(value);
    return this;
  }

  /** fixed64/double/sfixed64: exactly 8 little-endian bytes. */
  fixed64(field: number, value: bigint): this {
    this.tag(field, WIRE_FIXED64);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
    this.push(b);
    return this;
  }

  /** fixed32/float/sfixed32: exactly 4 little-endian bytes. */
  fixed32(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    this.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8Encoder.encode(value));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const child = new ProtoWriter();
    build(child);
    return this.bytes(field, child.finish());
  }

  raw(bytes: Uint8Array): this {
    this.push(bytes);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let pos = 0;
    for (const c of this.chunks) {
      out.set(c, pos);
      pos += c.length;
    }
    return out;
  }
}
