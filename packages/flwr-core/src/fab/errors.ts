/** Errors of FAB building and reading. */

/** What is wrong with a FAB or an app directory being bundled. */
export type FabErrorCode =
  /** The FAB (or the files to bundle) exceed the 10 MiB cap. */
  | "too-large"
  /** The bytes are not a readable zip archive. */
  | "bad-zip"
  /** An entry name is absolute, contains `..` or a backslash, or is duplicated. */
  | "unsafe-path"
  /** `.info/CONTENT` is missing or malformed. */
  | "bad-manifest"
  /** A file's SHA-256 or size differs from `.info/CONTENT`, or a file is missing/unlisted. */
  | "manifest-mismatch"
  /** The FAB's SHA-256 differs from the expected hash. */
  | "hash-mismatch"
  /** `pyproject.toml` is missing or invalid. */
  | "bad-pyproject"
  /** The app directory cannot be bundled (missing files, bad include/exclude patterns, depth). */
  | "bad-app";

/** A FAB problem; the message says what is wrong and what to do. */
export class FabError extends Error {
  /** Machine-readable category. */
  readonly code: FabErrorCode;

  /**
   * @param code - category.
   * @param message - what is wrong and what to do.
   */
  constructor(code: FabErrorCode, message: string) {
    super(message);
    this.name = "FabError";
    this.code = code;
  }
}
