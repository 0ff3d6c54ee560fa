/**
 * The numpy dtypes that flwr-ts reads and writes, with their `.npy` descriptors and
 * the TypedArray used to view their elements.
 */
import { UnsupportedDtypeError } from "./errors.js";

/** Names of supported dtypes, spelled like numpy's `str(ndarray.dtype)`. */
export type DType =
  | "float16"
  | "float32"
  | "float64"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "bool";

/**
 * TypedArray holding the elements of each dtype. `float16` elements are the raw IEEE-754
 * half-precision bit patterns (Node 20 has no `Float16Array`); `bool` elements are 0 or 1.
 */
export interface TypedArrayOf {
  float16: Uint16Array;
  float32: Float32Array;
  float64: Float64Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  bool: Uint8Array;
}

/** Any TypedArray that can hold the elements of a supported dtype. */
export type NumericTypedArray = TypedArrayOf[DType];

/** Static facts about one dtype. */
export interface DTypeInfo {
  /** numpy dtype name. */
  readonly name: DType;
  /** Little-endian (or byte-order-free) `.npy` descr, e.g. `<f4`, `|u1`. */
  readonly descr: string;
  /** Bytes per element. */
  readonly itemSize: 1 | 2 | 4 | 8;
  /** Constructor of the TypedArray that views the elements. */
  readonly ctor: {
    new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericTypedArray;
    new (length: number): NumericTypedArray;
  };
}

function info(name: DType, descr: string, itemSize: 1 | 2 | 4 | 8, ctor: unknown): DTypeInfo {
  return { name, descr, itemSize, ctor: ctor as DTypeInfo["ctor"] };
}

const TABLE: Readonly<Record<DType, DTypeInfo>> = {
  float16: info("float16", "<f2", 2, Uint16Array),
  float32: info("float32", "<f4", 4, Float32Array),
  float64: info("float64", "<f8", 8, Float64Array),
  int8: info("int8", "|i1", 1, Int8Array),
  int16: info("int16", "<i2", 2, Int16Array),
  int32: info("int32", "<i4", 4, Int32Array),
  int64: info("int64", "<i8", 8, BigInt64Array),
  uint8: info("uint8", "|u1", 1, Uint8Array),
  uint16: info("uint16", "<u2", 2, Uint16Array),
  uint32: info("uint32", "<u4", 4, Uint32Array),
  uint64: info("uint64", "<u8", 8, BigUint64Array),
  bool: info("bool", "|b1", 1, Uint8Array),
};

/** All supported dtype names. */
export const DTYPES: readonly DType[] = Object.keys(TABLE) as DType[];

/** True when `name` is a supported dtype name. */
export function isDType(name: string): name is DType {
  return Object.hasOwn(TABLE, name);
}

/**
 * Facts about a supported dtype.
 * @throws UnsupportedDtypeError when `name` is not supported.
 */
export function dtypeInfo(name: string): DTypeInfo {
  if (!isDType(name)) {
    throw new UnsupportedDtypeError(
      name,
      `unsupported dtype ${JSON.stringify(name)}; supported dtypes are ${DTYPES.join(", ")}`,
    );
  }
  return TABLE[name];
}

/** Result of reading a `.npy` descr: the dtype and whether its data is big-endian. */
export interface ParsedDescr {
  /** Supported dtype. */
  readonly dtype: DType;
  /** True when the descr says big-endian (`>`); such data is byte-swapped on read. */
  readonly bigEndian: boolean;
}

/**
 * Maps a `.npy` descr (`<f4`, `>i8`, `|b1`, `=u2`, …) to a supported dtype.
 * @throws UnsupportedDtypeError for any other descr (complex, strings, datetimes, structured…).
 * @internal Used by the `.npy` reader.
 */
export function dtypeFromDescr(descr: string): ParsedDescr {
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  if (m) {
    const order = m[1]!;
    const kind = m[2]!;
    const size = Number(m[3]);
    let dtype: DType | undefined;
    if (kind === "f" && (size === 2 || size === 4 || size === 8))
      dtype = `float${size * 8}` as DType;
    else if (kind === "i" && [1, 2, 4, 8].includes(size)) dtype = `int${size * 8}` as DType;
    else if (kind === "u" && [1, 2, 4, 8].includes(size)) dtype = `uint${size * 8}` as DType;
    else if (kind === "b" && size === 1) dtype = "bool";
    if (dtype !== undefined) return { dtype, bigEndian: order === ">" && size > 1 };
  }
  throw new UnsupportedDtypeError(
    descr,
    `unsupported .npy descr ${JSON.stringify(descr)}; flwr-ts reads float16/32/64, int8-64, uint8-64 and bool arrays`,
  );
}

/** The dtype whose elements a TypedArray holds by default (Uint16Array → uint16; Uint8Array → uint8). */
export function dtypeOfTypedArray(typed: NumericTypedArray): DType {
  if (typed instanceof Float32Array) return "float32";
  if (typed instanceof Float64Array) return "float64";
  if (typed instanceof Int8Array) return "int8";
  if (typed instanceof Int16Array) return "int16";
  if (typed instanceof Int32Array) return "int32";
  if (typed instanceof BigInt64Array) return "int64";
  if (typed instanceof Uint8Array) return "uint8";
  if (typed instanceof Uint16Array) return "uint16";
  if (typed instanceof Uint32Array) return "uint32";
  if (typed instanceof BigUint64Array) return "uint64";
  throw new UnsupportedDtypeError(
    String((typed as object)?.constructor?.name),
    "expected a numeric TypedArray (Float32Array, Int32Array, BigInt64Array, Uint8Array, …)",
  );
}
