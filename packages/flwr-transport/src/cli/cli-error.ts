/**
 * Errors that end a CLI command with one clear line and a non-zero exit status, and the
 * wrapper that turns anything thrown into such a line (never a stack trace).
 */
import { exitStatusOf, USAGE_EXIT_STATUS } from "./exit-codes.js";

/** A failure to report to the user as one line. */
export class CliError extends Error {
  /** Process exit status (1 by default, 2 for usage errors). */
  readonly status: number;
  /** Flower's exit code, printed as `Exit Code: <n>` when set. */
  readonly flowerCode: number | undefined;

  /**
   * @param message - one line: what is wrong and what to do.
   * @param options - `status` (default 1, or derived from `flowerCode`), `flowerCode`.
   */
  constructor(message: string, options: { status?: number; flowerCode?: number } = {}) {
    super(message.replace(/\s*\n\s*/g, " "));
    this.name = "CliError";
    this.flowerCode = options.flowerCode;
    this.status =
      options.status ?? (options.flowerCode === undefined ? 1 : exitStatusOf(options.flowerCode));
  }
}

/**
 * A command-line usage error (unknown flag, missing argument); exit status 2. node:util
 * `parseArgs`'s advice about `--` after "Unknown option '…'" is dropped: it is rarely the fix.
 */
export class UsageError extends CliError {
  constructor(message: string) {
    super(
      message.replace(/^(Unknown option '[^']*')\. To specify a positional argument.*$/s, "$1"),
      {
        status: USAGE_EXIT_STATUS,
      },
    );
    this.name = "UsageError";
  }
}

/** The one line printed for a {@link CliError}. */
export function formatCliError(error: CliError): string {
  return error.flowerCode === undefined
    ? error.message
    : `${error.message} (Exit Code: ${error.flowerCode})`;
}

/** Converts anything thrown into a {@link CliError} (unexpected errors keep only their message). */
export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof Error) {
    const name = error.name && error.name !== "Error" ? `${error.name}: ` : "";
    return new CliError(`${name}${error.message}`);
  }
  return new CliError(String(error));
}
