/**
 * A minimal protobuf writer that produces the exact bytes Python's protobuf runtime (upb)
 * writes for the messages used as object bodies (ConfigRecord, MetricRecord, Message).
 *
 * Why not the generated ts-proto encoders: object IDs hash these bytes, and ts-proto differs
 * from upb in two corner cases — it writes an empty packed repeated field (`vals: []`) as a
 * zero-length field, which upb omits, and it omits a `-0.0` double, which upb writes (upb
 * tests implicit-presence scalars bitwise). This writer follows upb in both.
 */

const textEncoder = new TextEncoder();

/** Growable byte buffer with protobuf primitives. */
export class WireWriter {
  private buf = new Uint8Array(64);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Writes an unsigned varint (0 … 2^64-1). */
  varint(v: bigint | number): this {
    let x = BigInt.asUintN(64, BigInt(v));
    this.reserve(10);
    while (x >= 0x80n) {
      this.buf[this.len++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.len++] = Number(x);
    return this;
  }

  /** Writes a field tag. */
  tag(field: number, wireType: 0 | 1 | 2 | 5): this {
    return this.varint((field << 3) | wireType);
  }

  /** Writes a zigzag-encoded sint64 value (no tag). */
  sint64(v: bigint): this {
    return this.varint((v << 1n) ^ (v >> 63n));
  }

  /** Writes a little-endian double (no tag). */
  double(v: number): this {
    this.reserve(8);
    new DataView(this.buf.buffer).setFloat64(this.len, v, true);
    this.len += 8;
    return this;
  }

  /** Writes raw bytes. */
  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** Writes a length-delimited field holding `bytes`. */
  lenField(field: number, bytes: Uint8Array): this {
    return this.tag(field, 2).varint(bytes.length).raw(bytes);
  }

  /** Writes a length-delimited field holding a UTF-8 string. */
  stringField(field: number, s: string): this {
    return this.lenField(field, textEncoder.encode(s));
  }

  /** The bytes written so far (a copy-free view). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/** True when a double must be written for an implicit-presence field (upb: bitwise non-zero). */
export function doubleIsSet(v: number): boolean {
  return !Object.is(v, 0);
}
