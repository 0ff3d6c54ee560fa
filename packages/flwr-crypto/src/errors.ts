/**
 * Typed errors raised by @flwr-ts/crypto.
 *
 * Every error carries a machine-readable {@link CryptoErrorCode} and a
 * one-line message that says what is wrong and, where possible, what to do.
 */

/** Machine-readable category of a {@link CryptoError}. */
export type CryptoErrorCode =
  /** A file to read does not exist or cannot be read. */
  | "file-not-found"
  /** A file to write already exists and overwriting was not requested. */
  | "file-exists"
  /** A key file is encrypted; flwr-ts only reads unencrypted keys. */
  | "encrypted-key"
  /** The key parses but is of a type or curve that is not accepted here. */
  | "unsupported-key"
  /** The input is not a key in any supported format, or is corrupt/truncated. */
  | "malformed-key"
  /** A caller-supplied option is invalid. */
  | "invalid-argument";

/** Error raised for bad keys, bad files and bad options. */
export class CryptoError extends Error {
  /** Machine-readable category. */
  readonly code: CryptoErrorCode;

  /**
   * @param code - machine-readable category.
   * @param message - one-line, human-readable explanation.
   * @param options - optional underlying cause.
   */
  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message.replace(/\s*\n\s*/g, " "), options);
    this.name = "CryptoError";
    this.code = code;
  }
}
