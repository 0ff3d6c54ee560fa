/**
 * Typed errors raised by the record layer (arrays, `.npy` payloads and record values).
 *
 * Every error carries a stable `code` so that callers can branch without parsing messages.
 */

/** Base class of every error raised by `@flwr-ts/core` records. */
export class RecordError extends Error {
  /** Stable machine-readable error code. */
  readonly code: string;

  /**
   * @param code - stable machine-readable code.
   * @param message - human-readable explanation (what is wrong and what to do).
   */
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Kinds of `.npy` payload problems reported by {@link NpyFormatError}. */
export type NpyErrorKind =
  | "truncated"
  | "bad-magic"
  | "unsupported-version"
  | "bad-header"
  | "unknown-dtype"
  | "length-mismatch";

/** A `.npy` payload is malformed, truncated, or uses an unsupported dtype. */
export class NpyFormatError extends RecordError {
  /** What kind of problem was found. */
  readonly kind: NpyErrorKind;

  /**
   * @param kind - kind of problem.
   * @param message - explanation.
   */
  constructor(kind: NpyErrorKind, message: string) {
    super(`npy-${kind}`, message);
    this.kind = kind;
  }
}

/** A dtype name or `.npy` descr is not one of the supported numeric/bool dtypes. */
export class UnsupportedDtypeError extends NpyFormatError {
  /** The offending dtype name or descr. */
  readonly dtype: string;

  /**
   * @param dtype - the offending dtype name or descr.
   * @param message - explanation.
   */
  constructor(dtype: string, message: string) {
    super("unknown-dtype", message);
    this.dtype = dtype;
  }
}

/** An array's shape, dtype or data are inconsistent (e.g. element count does not match shape). */
export class ArrayShapeError extends RecordError {
  /** @param message - explanation. */
  constructor(message: string) {
    super("array-shape", message);
  }
}

/** A record key or value is not allowed in that record type (wrong kind, mixed list, out of range). */
export class RecordValueError extends RecordError {
  /** The record key concerned, when known. */
  readonly key: string | undefined;

  /**
   * @param message - explanation.
   * @param key - the record key concerned, when known.
   */
  constructor(message: string, key?: string) {
    super("record-value", key === undefined ? message : `${message} (key ${JSON.stringify(key)})`);
    this.key = key;
  }
}
