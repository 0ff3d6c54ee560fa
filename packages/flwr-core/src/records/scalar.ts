/**
 * Record value kinds and the integer/float rule.
 *
 * **The rule (lossless both ways):** a `bigint` is an integer and a `number` is a float.
 * `10n` travels as a protobuf `sint64` (Python sees `int`), `0.5` and also `10` travel as
 * `double` (Python sees `float`). Integers from -2^63 to 2^64-1 are allowed; like Python,
 * integers above 2^63-1 are sent as `uint64`. Decoding returns `bigint` for every integer kind
 * (`sint64`, `uint64`) and `number` for `double`, so a TypeScript round trip returns exactly the
 * values that went in, and a Python round trip keeps int as int and float as float.
 */
import { RecordValueError } from "./errors.js";

/** Smallest integer a record can hold (-2^63). */
export const INT64_MIN = -(1n << 63n);
/** Largest signed 64-bit integer (2^63-1); larger integers travel as uint64. */
export const INT64_MAX = (1n << 63n) - 1n;
/** Largest integer a record can hold (2^64-1). */
export const UINT64_MAX = (1n << 64n) - 1n;

/** A MetricRecord value: integer, float, or a homogeneous list of either. */
export type MetricValue = bigint | number | readonly bigint[] | readonly number[];

/** A ConfigRecord value: MetricRecord kinds plus bool, string, bytes and their lists. */
export type ConfigValue =
  | MetricValue
  | boolean
  | string
  | Uint8Array
  | readonly boolean[]
  | readonly string[]
  | readonly Uint8Array[];

/**
 * A config scalar (`Context.runConfig`/`nodeConfig`, proto `Scalar`): `number` = float,
 * `bigint` = integer, plus bool, string and bytes.
 */
export type Scalar = number | bigint | boolean | string | Uint8Array;

/** The wire kind a single record value is encoded as. */
export type ValueKind = "double" | "sint64" | "uint64" | "bool" | "string" | "bytes";

/** The wire kind a list value is encoded as. */
export type ListKind =
  | "doubleList"
  | "sintList"
  | "uintList"
  | "boolList"
  | "stringList"
  | "bytesList";

/** Checks that an integer fits a record (-2^63 … 2^64-1). */
export function checkInt(v: bigint, key?: string): void {
  if (v < INT64_MIN || v > UINT64_MAX) {
    throw new RecordValueError(
      `integer ${v} is out of range; records hold integers from -2^63 to 2^64-1`,
      key,
    );
  }
}

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Checks that a string is well-formed UTF-16 (no lone surrogates), so it encodes to UTF-8
 * losslessly as protobuf and Python require.
 */
export function checkWellFormed(s: string, what: string, key?: string): void {
  if (LONE_SURROGATE.test(s)) {
    throw new RecordValueError(
      `${what} contains a lone UTF-16 surrogate and cannot be encoded as UTF-8`,
      key,
    );
  }
}

function scalarKind(v: unknown, allowConfig: boolean): ValueKind | undefined {
  switch (typeof v) {
    case "number":
      return "double";
    case "bigint":
      return v > INT64_MAX ? "uint64" : "sint64";
    case "boolean":
      return allowConfig ? "bool" : undefined;
    case "string":
      return allowConfig ? "string" : undefined;
    default:
      return allowConfig && v instanceof Uint8Array ? "bytes" : undefined;
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return (v as object).constructor?.name ?? "object";
  return typeof v;
}

/**
 * Classifies a record value and validates it.
 * @param value - the value.
 * @param config - true for ConfigRecord (bool/string/bytes allowed), false for MetricRecord.
 * @param key - key for error messages.
 * @returns the wire kind; an empty list gets Python's choice (`boolList` for ConfigRecord,
 *   `doubleList` for MetricRecord).
 * @throws RecordValueError for a disallowed type, a mixed list, or an out-of-range integer.
 */
export function classifyValue(value: unknown, config: boolean, key?: string): ValueKind | ListKind {
  const allowed = config
    ? "number (float), bigint (int), boolean, string, Uint8Array, or a list of one of these"
    : "number (float), bigint (int), or a list of one of these";
  const record = config ? "ConfigRecord" : "MetricRecord";
  if (Array.isArray(value)) {
    if (value.length === 0) return config ? "boolList" : "doubleList";
    const first = scalarKind(value[0], config);
    if (first === undefined) {
      throw new RecordValueError(
        `${record} lists hold ${allowed}; got a list of ${describe(value[0])}`,
        key,
      );
    }
    const base = first === "uint64" ? "sint64" : first;
    let uint = false;
    let negative = false;
    for (const v of value) {
      const k = scalarKind(v, config);
      const kb = k === "uint64" ? "sint64" : k;
      if (kb !== base) {
        throw new RecordValueError(
          `${record} list elements must all have the same type (${describe(value[0])} and ${describe(v)} mixed); ` +
            "use bigint for every integer or number for every float",
          key,
        );
      }
      if (typeof v === "string") checkWellFormed(v, "string value", key);
      if (typeof v === "bigint") {
        checkInt(v, key);
        if (v > INT64_MAX) uint = true;
        if (v < 0n) negative = true;
      }
    }
    if (uint && negative) {
      throw new RecordValueError(
        "an integer list cannot mix values above 2^63-1 (sent as uint64) with negative values",
        key,
      );
    }
    switch (base) {
      case "double":
        return "doubleList";
      case "sint64":
        return uint ? "uintList" : "sintList";
      case "bool":
        return "boolList";
      case "string":
        return "stringList";
      default:
        return "bytesList";
    }
  }
  const k = scalarKind(value, config);
  if (k === undefined) {
    throw new RecordValueError(`${record} values are ${allowed}; got ${describe(value)}`, key);
  }
  if (typeof value === "bigint") checkInt(value, key);
  if (typeof value === "string") checkWellFormed(value, "string value", key);
  return k;
}

/**
 * Classifies a config {@link Scalar} (proto `Scalar`) and validates it.
 * @throws RecordValueError for other types or out-of-range integers.
 */
export function classifyScalar(value: unknown, key?: string): ValueKind {
  const k = scalarKind(value, true);
  if (k === undefined) {
    throw new RecordValueError(
      `config values are number (float), bigint (int), boolean, string or Uint8Array; got ${describe(value)}`,
      key,
    );
  }
  if (typeof value === "bigint") checkInt(value, key);
  if (typeof value === "string") checkWellFormed(value, "string value", key);
  return k;
}
