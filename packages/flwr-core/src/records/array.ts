/**
 * `NdArray`: flwr-ts's counterpart of Python Flower's `flwr.app.Array`.
 *
 * It is named `NdArray` (not `Array`) so that it never shadows the JavaScript global `Array`.
 * An `NdArray` holds a numpy dtype name, a shape, a serialization type (`stype`, always
 * `"numpy.ndarray"` for arrays flwr-ts creates) and `data`: the exact bytes of the `.npy` file
 * numpy writes for the array, so that arrays made in TypeScript and in Python serialize to
 * identical bytes and object IDs.
 */
import { type DType, dtypeInfo, dtypeOfTypedArray, type TypedArrayOf } from "./dtype.js";
import { ArrayShapeError, RecordValueError } from "./errors.js";
import { encodeNpyHeader, type NpyHeader, parseNpy, shapeRepr, shapeSize } from "./npy.js";

/** The serialization type of arrays whose `data` is a `.npy` file. */
export const STYPE_NUMPY = "numpy.ndarray";

/** Largest dimension an array may have (the proto `Array.shape` field is `int32`). */
export const MAX_DIMENSION = 0x7fffffff;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Fields of an {@link NdArray}, as in Python's `Array(dtype, shape, stype, data)`. */
export interface NdArrayInit {
  /** numpy dtype name, e.g. `"float32"`. */
  readonly dtype: string;
  /** Array shape. */
  readonly shape: readonly number[];
  /** Serialization type of `data`; `"numpy.ndarray"` means `data` is a `.npy` file. */
  readonly stype: string;
  /** Serialized array. */
  readonly data: Uint8Array;
}

/** Checks that a shape is a list of integers in [0, 2^31-1]; returns a frozen copy. */
export function checkShape(shape: unknown): readonly number[] {
  if (!Array.isArray(shape)) {
    throw new ArrayShapeError(
      `shape must be an array of non-negative integers, got ${typeof shape}`,
    );
  }
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0 || d > MAX_DIMENSION) {
      throw new ArrayShapeError(
        `shape ${JSON.stringify(shape)} must hold integers between 0 and ${MAX_DIMENSION}`,
      );
    }
  }
  return Object.freeze([...shape]);
}

function swapBytes(bytes: Uint8Array, itemSize: number): void {
  if (itemSize === 1) return;
  for (let i = 0; i < bytes.length; i += itemSize) {
    for (let a = i, b = i + itemSize - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

/** Reorders column-major (Fortran) element bytes into row-major (C) order. */
function fortranToC(src: Uint8Array, shape: readonly number[], itemSize: number): Uint8Array {
  const n = shapeSize(shape);
  const out = new Uint8Array(n * itemSize);
  const nd = shape.length;
  const fStrides: number[] = new Array(nd);
  let s = 1;
  for (let k = 0; k < nd; k++) {
    fStrides[k] = s;
    s *= shape[k]!;
  }
  const idx: number[] = new Array(nd).fill(0);
  for (let c = 0; c < n; c++) {
    let f = 0;
    for (let k = 0; k < nd; k++) f += idx[k]! * fStrides[k]!;
    out.set(src.subarray(f * itemSize, (f + 1) * itemSize), c * itemSize);
    for (let k = nd - 1; k >= 0; k--) {
      idx[k]! += 1;
      if (idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/**
 * A serialized n-dimensional array (Python Flower's `Array`).
 *
 * Create one from a TypedArray with {@link NdArray.fromTypedArray}, from `.npy` bytes with
 * {@link NdArray.fromNpy}, or from raw fields with the constructor (no `.npy` validation, like
 * Python). Instances are immutable; `data` must not be modified after construction.
 */
export class NdArray {
  /**
   * numpy dtype string, e.g. `"float32"` (numpy's `str(dtype)`, so `">i4"` for a big-endian
   * int32 array made by numpy).
   */
  readonly dtype: string;
  /** Array shape (`[]` for a 0-d array). */
  readonly shape: readonly number[];
  /** Serialization type; `"numpy.ndarray"` for `.npy` data. */
  readonly stype: string;
  /** The serialized array (for `"numpy.ndarray"`: the complete `.npy` file). */
  readonly data: Uint8Array;

  /**
   * Wraps already-serialized fields without parsing `data` (Python's explicit
   * `Array(dtype, shape, stype, data)` form). Use {@link NdArray.fromNpy} to validate `.npy` data.
   * @throws ArrayShapeError / RecordValueError when a field has the wrong type.
   */
  constructor(init: NdArrayInit) {
    if (typeof init?.dtype !== "string") throw new RecordValueError("Array dtype must be a string");
    if (typeof init.stype !== "string") throw new RecordValueError("Array stype must be a string");
    if (!(init.data instanceof Uint8Array))
      throw new RecordValueError("Array data must be a Uint8Array");
    this.dtype = init.dtype;
    this.shape = checkShape(init.shape);
    this.stype = init.stype;
    this.data = init.data;
  }

  /**
   * Serializes a TypedArray as numpy would (`np.save` of a C-ordered array). Costs one copy of
   * the elements (into the `.npy` buffer).
   * @param typed - the elements in C (row-major) order. For `float16` pass the raw half-precision
   *   bits in a `Uint16Array`; for `bool` pass a `Uint8Array` of 0/1.
   * @param shape - the shape; defaults to `[typed.length]`. Use `[]` for a 0-d array (1 element).
   * @param dtype - the dtype; defaults to the TypedArray's natural dtype (`Uint8Array` → `uint8`).
   * @throws ArrayShapeError when the shape does not match the element count.
   * @throws UnsupportedDtypeError / RecordValueError for an unsupported or mismatching TypedArray.
   */
  static fromTypedArray<D extends DType>(
    typed: TypedArrayOf[D],
    shape?: readonly number[],
    dtype?: D,
  ): NdArray {
    const natural = dtypeOfTypedArray(typed);
    const name: DType = dtype ?? natural;
    const info = dtypeInfo(name);
    if (!(typed instanceof (info.ctor as unknown as typeof Uint8Array))) {
      throw new RecordValueError(
        `dtype ${name} needs a ${info.ctor.name}, got a ${typed.constructor.name}`,
      );
    }
    const dims = checkShape(shape ?? [typed.length]);
    if (shapeSize(dims) !== typed.length) {
      throw new ArrayShapeError(
        `shape ${shapeRepr(dims)} holds ${shapeSize(dims)} elements but the TypedArray has ${typed.length}`,
      );
    }
    const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
    if (name === "bool") {
      for (let i = 0; i < bytes.length; i++) {
        if (bytes[i]! > 1) {
          throw new RecordValueError(`bool arrays hold 0 or 1; element ${i} is ${bytes[i]}`);
        }
      }
    }
    const header = encodeNpyHeader(name, dims);
    const data = new Uint8Array(header.length + bytes.length);
    data.set(header, 0);
    data.set(bytes, header.length);
    if (!LITTLE_ENDIAN_HOST) swapBytes(data.subarray(header.length), info.itemSize);
    return new NdArray({ dtype: name, shape: dims, stype: STYPE_NUMPY, data });
  }

  /**
   * Wraps a `.npy` payload after validating it completely (no copy: `data` is `bytes`).
   * Fortran-ordered and big-endian payloads (which numpy may write for transposed or
   * byte-swapped arrays) are accepted and kept byte-for-byte; {@link NdArray.toTypedArray}
   * converts them.
   * @throws NpyFormatError when truncated/malformed or the data length does not match the shape.
   * @throws UnsupportedDtypeError for dtypes other than float16/32/64, int8-64, uint8-64 and bool.
   */
  static fromNpy(bytes: Uint8Array): NdArray {
    if (!(bytes instanceof Uint8Array)) throw new RecordValueError("fromNpy expects a Uint8Array");
    const { header } = parseNpy(bytes);
    return new NdArray({
      dtype: header.dtypeName,
      shape: header.shape,
      stype: STYPE_NUMPY,
      data: bytes,
    });
  }

  /** Number of elements (product of the shape; 1 for a 0-d array). */
  get size(): number {
    return shapeSize(this.shape);
  }

  /**
   * Parses and validates `data` as `.npy` and checks it agrees with `dtype` and `shape`.
   * @throws ArrayShapeError when `stype` is not `"numpy.ndarray"` or fields disagree with `data`.
   * @throws NpyFormatError / UnsupportedDtypeError when `data` is not valid `.npy`.
   */
  npyHeader(): NpyHeader {
    if (this.stype !== STYPE_NUMPY) {
      throw new ArrayShapeError(
        `cannot read an Array with stype ${JSON.stringify(this.stype)} as numpy data; expected "${STYPE_NUMPY}"`,
      );
    }
    const { header } = parseNpy(this.data);
    if (header.dtypeName !== this.dtype && header.dtype !== this.dtype) {
      throw new ArrayShapeError(
        `Array dtype is ${JSON.stringify(this.dtype)} but its .npy data holds ${header.dtypeName}`,
      );
    }
    if (shapeRepr(header.shape) !== shapeRepr(this.shape)) {
      throw new ArrayShapeError(
        `Array shape is ${shapeRepr(this.shape)} but its .npy data has shape ${shapeRepr(header.shape)}`,
      );
    }
    return header;
  }

  /**
   * The elements in C order as a TypedArray (see {@link TypedArrayOf}).
   *
   * When the data is little-endian, C-ordered and suitably aligned (numpy's 64-byte preamble
   * makes this the normal case), the result is a zero-copy view of `data`: do not modify it
   * (use `.slice()` for a private copy). Otherwise the elements are copied (and byte-swapped or
   * reordered from Fortran order).
   * @param expected - when given, the dtype the caller expects; a different dtype throws.
   * @throws ArrayShapeError / NpyFormatError / UnsupportedDtypeError for invalid or unexpected data.
   */
  toTypedArray<D extends DType = DType>(expected?: D): TypedArrayOf[D] {
    const header = this.npyHeader();
    if (expected !== undefined && header.dtype !== expected) {
      throw new ArrayShapeError(
        `expected a ${expected} array but this Array holds ${header.dtype}`,
      );
    }
    const info = dtypeInfo(header.dtype);
    const offset = this.data.byteOffset + header.dataOffset;
    if (
      LITTLE_ENDIAN_HOST &&
      !header.bigEndian &&
      (!header.fortranOrder || this.shape.length < 2)
    ) {
      if (offset % info.itemSize === 0) {
        return new info.ctor(this.data.buffer, offset, header.size) as TypedArrayOf[D];
      }
    }
    // A fresh, exactly-sized copy: `data` may be a Node Buffer, whose `slice` is a view into a
    // shared pool (its `.buffer` would start elsewhere).
    let bytes: Uint8Array = new Uint8Array(header.dataLength);
    bytes.set(this.data.subarray(header.dataOffset, header.dataOffset + header.dataLength));
    if (header.bigEndian === LITTLE_ENDIAN_HOST) swapBytes(bytes, info.itemSize);
    if (header.fortranOrder && this.shape.length >= 2)
      bytes = fortranToC(bytes, this.shape, info.itemSize);
    return new info.ctor(bytes.buffer, 0, header.size) as TypedArrayOf[D];
  }

  /**
   * The elements converted to float32 (float16 decoded, integers converted, 64-bit integers
   * rounded to the nearest float). Always a fresh copy.
   */
  toFloat32Array(): Float32Array {
    const t = this.toTypedArray();
    if (this.dtype === "float16") {
      const out = new Float32Array(t.length);
      for (let i = 0; i < t.length; i++) out[i] = halfToFloat((t as Uint16Array)[i]!);
      return out;
    }
    if (t instanceof BigInt64Array || t instanceof BigUint64Array) {
      return Float32Array.from(t as ArrayLike<bigint>, (v) => Number(v));
    }
    return Float32Array.from(t as ArrayLike<number>);
  }

  /** True when both arrays have the same dtype, shape, stype and data bytes. */
  equals(other: NdArray): boolean {
    if (!(other instanceof NdArray)) return false;
    if (this.dtype !== other.dtype || this.stype !== other.stype) return false;
    if (shapeRepr(this.shape) !== shapeRepr(other.shape)) return false;
    return bytesEqual(this.data, other.data);
  }
}

/** Byte-wise equality of two Uint8Arrays. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
