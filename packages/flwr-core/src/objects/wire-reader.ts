/**
 * A minimal, defensive protobuf reader for object bodies. Every malformed input raises
 * {@link WireFormatError}; nothing reads out of bounds.
 */

/** The bytes are not valid protobuf for the expected message. */
export class WireFormatError extends Error {
  /** @param message - what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "WireFormatError";
  }
}

const textDecoder = new TextDecoder("utf-8", { fatal: true });

/** One decoded field: number, wire type, and its value (varint/fixed as bigint, LEN as bytes). */
export interface WireField {
  /** Field number. */
  readonly field: number;
  /** Wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32). */
  readonly wireType: number;
  /** Varint or fixed64/fixed32 value as raw unsigned bigint (wire types 0, 1, 5). */
  readonly int: bigint;
  /** Field payload for wire type 2 (a view, not a copy). */
  readonly bytes: Uint8Array;
}

/** Iterates over the fields of a protobuf message. */
export class WireReader {
  private pos = 0;
  private readonly view: DataView;

  /** @param buf - encoded message. */
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** True when all bytes were consumed. */
  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** Reads an unsigned varint as a bigint. */
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new WireFormatError("truncated varint");
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new WireFormatError("varint longer than 10 bytes");
  }

  private take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new WireFormatError(`field of ${n} bytes runs past the end of the message`);
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Reads the next field. */
  next(): WireField {
    const key = this.varint();
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (field === 0) throw new WireFormatError("field number 0 is invalid");
    switch (wireType) {
      case 0:
        return { field, wireType, int: this.varint(), bytes: EMPTY };
      case 1: {
        const b = this.take(8);
        return {
          field,
          wireType,
          int: new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true),
          bytes: b,
        };
      }
      case 2: {
        const n = this.varint();
        if (n > BigInt(this.buf.length))
          throw new WireFormatError("length-delimited field too long");
        return { field, wireType, int: 0n, bytes: this.take(Number(n)) };
      }
      case 5: {
        const b = this.take(4);
        return {
          field,
          wireType,
          int: BigInt(new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true)),
          bytes: b,
        };
      }
      default:
        throw new WireFormatError(`unsupported wire type ${wireType} (field ${field})`);
    }
  }

  /** Reads a little-endian double at the current position (used for packed doubles). */
  double(): number {
    if (this.pos + 8 > this.buf.length) throw new WireFormatError("truncated double");
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
}

const EMPTY = new Uint8Array(0);

/** Decodes a zigzag sint64 from its raw varint. */
export function unzigzag(v: bigint): bigint {
  return (v >> 1n) ^ -(v & 1n);
}

/** Reinterprets a raw fixed64 as a double. */
export function fixedToDouble(v: bigint): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, v, true);
  return dv.getFloat64(0, true);
}

/** Reinterprets a raw varint as a signed int64 (two's complement). */
export function asInt64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

/** Decodes UTF-8 strictly. */
export function utf8(bytes: Uint8Array): string {
  try {
    return textDecoder.decode(bytes);
  } catch {
    throw new WireFormatError("string field is not valid UTF-8");
  }
}

/** Requires a wire type for a field. */
export function expectWire(f: WireField, wireType: number, what: string): void {
  if (f.wireType !== wireType) {
    throw new WireFormatError(
      `${what} (field ${f.field}) has wire type ${f.wireType}, expected ${wireType}`,
    );
  }
}
