/**
 * Reader and writer for the `.npy` format exactly as `numpy.save(..., allow_pickle=False)`
 * (numpy ≥ 1.23, including numpy 2.x) writes it:
 *
 * - magic `\x93NUMPY`, version 1.0 (2.0 only when the header exceeds 65535 bytes),
 *   little-endian header length;
 * - header: the Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }`,
 *   followed by `21 - len(repr(shape[0]))` spare spaces when the shape is not empty,
 *   then 1–64 spaces of padding and `\n` so that the preamble is a multiple of 64 bytes;
 * - the elements in C order, little-endian.
 *
 * Why hand-written: Flower's `Array` carries `.npy` bytes and a content-addressed object's ID
 * is the SHA-256 of its serialisation, so the bytes must equal numpy's for the same array, to
 * the padding, and no npm package promises that. The format is small and fully specified by
 * numpy's `format.py`.
 */
import { type DType, dtypeFromDescr, dtypeInfo } from "./dtype.js";
import { NpyFormatError, UnsupportedDtypeError } from "./errors.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ARRAY_ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;

/** The parsed preamble of a `.npy` payload. */
export interface NpyHeader {
  /** Format version `[major, minor]`. */
  readonly version: readonly [number, number];
  /** The descr string, e.g. `<f4`. */
  readonly descr: string;
  /** Supported dtype the descr maps to (element type, ignoring byte order). */
  readonly dtype: DType;
  /**
   * numpy's `str(dtype)` for this descr, which Python Flower stores as `Array.dtype`: the dtype
   * name (`"int32"`), or the descr itself for non-native big-endian data (`">i4"`).
   */
  readonly dtypeName: string;
  /** True when the element data is big-endian. */
  readonly bigEndian: boolean;
  /** True when the elements are stored in Fortran (column-major) order. */
  readonly fortranOrder: boolean;
  /** Array shape. */
  readonly shape: readonly number[];
  /** Offset of the first element byte (the preamble length, a multiple of 64 for numpy files). */
  readonly dataOffset: number;
  /** Number of elements (product of the shape; 1 for a 0-d array). */
  readonly size: number;
  /** Number of element bytes the shape requires. */
  readonly dataLength: number;
}

/** Python `repr` of a shape tuple: `()`, `(2,)`, `(2, 3)`. */
export function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 0) return "()";
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(", ")})`;
}

/** Number of elements of an array of this shape (1 for a 0-d array). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * The `.npy` preamble numpy writes for a C-ordered little-endian array.
 * @param dtype - supported dtype name.
 * @param shape - array shape (non-negative integers).
 */
export function encodeNpyHeader(dtype: DType, shape: readonly number[]): Uint8Array {
  const { descr } = dtypeInfo(dtype);
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  if (shape.length > 0) {
    header += " ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  }
  const hlen = header.length + 1; // + "\n"
  let version = 1;
  let lenBytes = 2;
  let padlen = ARRAY_ALIGN - ((MAGIC.length + 2 + lenBytes + hlen) % ARRAY_ALIGN);
  if (hlen + padlen > 0xffff) {
    version = 2;
    lenBytes = 4;
    padlen = ARRAY_ALIGN - ((MAGIC.length + 2 + lenBytes + hlen) % ARRAY_ALIGN);
  }
  const total = MAGIC.length + 2 + lenBytes + hlen + padlen;
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (lenBytes === 2) dv.setUint16(8, hlen + padlen, true);
  else dv.setUint32(8, hlen + padlen, true);
  let p = MAGIC.length + 2 + lenBytes;
  for (let i = 0; i < header.length; i++) out[p++] = header.charCodeAt(i);
  out.fill(0x20, p, p + padlen);
  out[total - 1] = 0x0a;
  return out;
}

/**
 * Builds a complete `.npy` payload (header + element bytes) as `numpy.save` writes it.
 * @param dtype - supported dtype name.
 * @param shape - array shape.
 * @param data - little-endian element bytes in C order; its length must match the shape.
 */
export function encodeNpy(dtype: DType, shape: readonly number[], data: Uint8Array): Uint8Array {
  const header = encodeNpyHeader(dtype, shape);
  const out = new Uint8Array(header.length + data.length);
  out.set(header, 0);
  out.set(data, header.length);
  return out;
}

function fail(
  kind: "truncated" | "bad-magic" | "unsupported-version" | "bad-header",
  msg: string,
): never {
  throw new NpyFormatError(kind, `invalid .npy payload: ${msg}`);
}

function latin1(raw: Uint8Array): string {
  let s = "";
  for (let i = 0; i < raw.length; i += 8192) {
    s += String.fromCharCode(...raw.subarray(i, i + 8192));
  }
  return s;
}

/** A tiny parser for the Python dict literal of a `.npy` header. */
class HeaderParser {
  private i = 0;
  constructor(private readonly s: string) {}

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  private expect(ch: string): void {
    this.ws();
    if (this.s[this.i] !== ch) {
      fail(
        "bad-header",
        `expected '${ch}' at offset ${this.i} of header ${JSON.stringify(this.s.trim())}`,
      );
    }
    this.i++;
  }

  private peek(): string | undefined {
    this.ws();
    return this.s[this.i];
  }

  private str(): string {
    this.ws();
    const q = this.s[this.i];
    if (q !== "'" && q !== '"')
      fail("bad-header", `expected a string at offset ${this.i} of the header`);
    const end = this.s.indexOf(q, this.i + 1);
    if (end < 0) fail("bad-header", "unterminated string in the header");
    const v = this.s.slice(this.i + 1, end);
    if (v.includes("\\")) fail("bad-header", "escaped strings are not supported in the header");
    this.i = end + 1;
    return v;
  }

  private value(): unknown {
    const c = this.peek();
    if (c === "'" || c === '"') return this.str();
    if (c === "(") {
      this.i++;
      const dims: number[] = [];
      for (;;) {
        if (this.peek() === ")") {
          this.i++;
          return dims;
        }
        const m = /^\d+/.exec(this.s.slice(this.i));
        if (!m) fail("bad-header", `expected a non-negative integer dimension at offset ${this.i}`);
        this.i += m[0].length;
        const d = Number(m[0]);
        if (!Number.isSafeInteger(d)) fail("bad-header", `dimension ${m[0]} is too large`);
        dims.push(d);
        const n = this.peek();
        if (n === ",") this.i++;
        else if (n !== ")")
          fail("bad-header", `expected ',' or ')' in the shape at offset ${this.i}`);
      }
    }
    if (this.s.startsWith("True", this.i)) {
      this.i += 4;
      return true;
    }
    if (this.s.startsWith("False", this.i)) {
      this.i += 5;
      return false;
    }
    if (c === "[" || c === "{") {
      // A structured dtype (list of fields): skip it, the caller reports it as unsupported.
      let depth = 0;
      for (; this.i < this.s.length; this.i++) {
        const ch = this.s[this.i]!;
        if (ch === "'" || ch === '"') {
          const end = this.s.indexOf(ch, this.i + 1);
          if (end < 0) fail("bad-header", "unterminated string in the header");
          this.i = end;
        } else if (ch === "[" || ch === "{" || ch === "(") depth++;
        else if (ch === "]" || ch === "}" || ch === ")") {
          depth--;
          if (depth === 0) {
            this.i++;
            return { structured: true };
          }
        }
      }
      fail("bad-header", "unbalanced brackets in the header");
    }
    return fail("bad-header", `unexpected value at offset ${this.i} of the header`);
  }

  parse(): Map<string, unknown> {
    const out = new Map<string, unknown>();
    this.expect("{");
    for (;;) {
      if (this.peek() === "}") {
        this.i++;
        break;
      }
      const key = this.str();
      this.expect(":");
      if (out.has(key)) fail("bad-header", `duplicate key '${key}' in the header`);
      out.set(key, this.value());
      const n = this.peek();
      if (n === ",") this.i++;
      else if (n !== "}")
        fail("bad-header", `expected ',' or '}' at offset ${this.i} of the header`);
    }
    if (this.s.slice(this.i).trim() !== "")
      fail("bad-header", "trailing characters after the header dict");
    return out;
  }
}

/**
 * Parses and validates the preamble of a `.npy` payload (versions 1.0, 2.0 and 3.0).
 * @param bytes - the complete payload.
 * @throws NpyFormatError when the payload is truncated, has a bad magic/version/header.
 * @throws UnsupportedDtypeError when the descr is not a supported dtype.
 */
export function parseNpyHeader(bytes: Uint8Array): NpyHeader {
  if (bytes.length < 10) {
    fail("truncated", `${bytes.length} bytes is shorter than the 10-byte .npy preamble`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i])
      fail("bad-magic", "missing the \\x93NUMPY magic string (is this really .npy data?)");
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (!((major === 1 || major === 2 || major === 3) && minor === 0)) {
    fail(
      "unsupported-version",
      `format version ${major}.${minor}; versions 1.0, 2.0 and 3.0 are supported`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) fail("truncated", "the header length field is cut off");
  const hlen = lenBytes === 2 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const dataOffset = 8 + lenBytes + hlen;
  if (bytes.length < dataOffset) {
    fail("truncated", `the header needs ${dataOffset} bytes but the payload has ${bytes.length}`);
  }
  const raw = bytes.subarray(8 + lenBytes, dataOffset);
  const text = major === 3 ? new TextDecoder("utf-8", { fatal: false }).decode(raw) : latin1(raw);
  if (!text.endsWith("\n")) fail("bad-header", "the header does not end with a newline");
  const dict = new HeaderParser(text).parse();
  const keys = [...dict.keys()].sort().join(",");
  if (keys !== "descr,fortran_order,shape") {
    fail("bad-header", `header keys are [${keys}], expected descr, fortran_order and shape`);
  }
  const descrValue = dict.get("descr");
  const fortranOrder = dict.get("fortran_order");
  const shape = dict.get("shape");
  if (typeof descrValue !== "string") {
    throw new UnsupportedDtypeError(
      "structured",
      "unsupported .npy descr: structured dtypes are not supported; flwr-ts reads float16/32/64, int8-64, uint8-64 and bool arrays",
    );
  }
  if (typeof fortranOrder !== "boolean") fail("bad-header", "fortran_order is not True or False");
  if (!Array.isArray(shape)) fail("bad-header", "shape is not a tuple of integers");
  const { dtype, bigEndian } = dtypeFromDescr(descrValue);
  const size = shapeSize(shape as number[]);
  const dataLength = size * dtypeInfo(dtype).itemSize;
  return {
    version: [major, minor],
    descr: descrValue,
    dtype,
    dtypeName: bigEndian ? `>${descrValue.slice(1)}` : dtype,
    bigEndian,
    fortranOrder,
    shape: shape as number[],
    dataOffset,
    size,
    dataLength,
  };
}

/**
 * Parses a `.npy` payload and checks that the element bytes match the header's shape exactly.
 * @returns the header and a zero-copy view of the element bytes.
 * @throws NpyFormatError when truncated, malformed, or when there are too few/too many element bytes.
 */
export function parseNpy(bytes: Uint8Array): { header: NpyHeader; data: Uint8Array } {
  const header = parseNpyHeader(bytes);
  const actual = bytes.length - header.dataOffset;
  if (actual < header.dataLength) {
    throw new NpyFormatError(
      "truncated",
      `invalid .npy payload: shape ${shapeRepr(header.shape)} of ${header.dtype} needs ${header.dataLength} data bytes but only ${actual} are present (truncated?)`,
    );
  }
  if (actual > header.dataLength) {
    throw new NpyFormatError(
      "length-mismatch",
      `invalid .npy payload: shape ${shapeRepr(header.shape)} of ${header.dtype} needs ${header.dataLength} data bytes but ${actual} are present`,
    );
  }
  return { header, data: bytes.subarray(header.dataOffset) };
}
