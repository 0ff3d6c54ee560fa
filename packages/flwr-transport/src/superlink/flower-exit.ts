/**
 * Flower's exit convention (`flwr.common.exit.flwr_exit`): codes 0–99 are successful exits
 * (logged at INFO, process status 0), 100+ are errors (logged at ERROR as
 * `Exit Code: <code>\n<message>\n<help>\n\nFor more information, visit: <url>`, status 1).
 */
import type { Logger } from "./logger.js";

/** Flower's exit codes used by the SuperLink. */
export const ExitCode = {
  SUCCESS: 0,
  GRACEFUL_EXIT_SIGINT: 1,
  GRACEFUL_EXIT_SIGQUIT: 2,
  GRACEFUL_EXIT_SIGTERM: 3,
  SUPERLINK_THREAD_CRASH: 100,
  SUPERLINK_INVALID_ARGS: 104,
  SUPERLINK_DATABASE_SCHEMA_MISMATCH: 105,
  COMMON_ADDRESS_INVALID: 600,
} as const;

const HELP: Record<number, string> = {
  [ExitCode.SUPERLINK_THREAD_CRASH]: "An important background thread has crashed.",
  [ExitCode.SUPERLINK_INVALID_ARGS]:
    "Invalid arguments provided to SuperLink. Use `--help` check for the correct usage. Alternatively, check the documentation.",
  [ExitCode.SUPERLINK_DATABASE_SCHEMA_MISMATCH]:
    "The database schema does not match the expected schema for this version of SuperLink. Please refer to the documentation for guidance on how to resolve this issue.",
  [ExitCode.COMMON_ADDRESS_INVALID]: "Please provide a valid URL, IPv4 or IPv6 address.",
};

/** The Flower version whose documentation exit-code pages are linked. */
export const FLOWER_DOCS_VERSION = "1.29";

/**
 * The text Flower logs for an exit, and the process status.
 * @returns `{ level, text, status }`.
 */
export function flowerExitMessage(
  code: number,
  message?: string,
): { level: "INFO" | "ERROR"; text: string; status: 0 | 1 } {
  const isError = !(code >= 0 && code < 100);
  let text = isError ? `Exit Code: ${code}\n` : "";
  text += message ?? "";
  const help = HELP[code];
  if (help) text += `\n${help}`;
  if (isError)
    text += `\n\nFor more information, visit: <https://flower.ai/docs/framework/${FLOWER_DOCS_VERSION}/en/ref-exit-codes/${code}.html>`;
  return { level: isError ? "ERROR" : "INFO", text, status: isError ? 1 : 0 };
}

/** An exit requested by validation or start-up: the CLI logs it and exits with `status`. */
export class FlowerExit extends Error {
  /** Process exit status. */
  readonly status: number;
  /** Level to log at ("none" prints `message` as is, like Python's `sys.exit(msg)`). */
  readonly level: "INFO" | "ERROR" | "plain";

  /** @param status - process status. @param message - text. @param level - how to print it. */
  constructor(status: number, message: string, level: "INFO" | "ERROR" | "plain") {
    super(message);
    this.name = "FlowerExit";
    this.status = status;
    this.level = level;
  }

  /** Flower's `flwr_exit(code, message)`. */
  static code(code: number, message?: string): FlowerExit {
    const { level, text, status } = flowerExitMessage(code, message);
    return new FlowerExit(status, text, level);
  }

  /** Python's `sys.exit("message")`: the text on stderr, status 1. */
  static plain(message: string): FlowerExit {
    return new FlowerExit(1, message, "plain");
  }

  /** Prints the exit as Flower does. */
  report(log: Logger, stderr: NodeJS.WritableStream = process.stderr): void {
    if (this.level === "plain") stderr.write(`${this.message}\n`);
    else log(this.level, this.message);
  }
}
