/**
 * Logging for apps and strategies, formatted like Python Flower's console logger
 * (`INFO :      message`).
 */

/** Log levels, as in Python's `logging`. */
export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR";

/** Where apps and strategies send their log lines; inject one to capture or redirect them. */
export interface Logger {
  /** Logs one line (the message may contain tabs, as Flower's tree-shaped log lines do). */
  log(level: LogLevel, message: string): void;
}

/**
 * Formats a log line exactly as Flower's uncoloured console handler does:
 * level name, a space, a colon, padding to 8 characters, a space, the message
 * (`INFO :      Starting FedAvg strategy:`).
 */
export function formatLogLine(level: LogLevel, message: string): string {
  return `${level} : ${" ".repeat(Math.max(0, 8 - level.length))} ${message}`;
}

/**
 * The default logger: writes Flower-formatted lines to stderr (Python Flower logs to stderr
 * too). DEBUG lines are dropped unless `FLWR_LOG_LEVEL=DEBUG`.
 */
export const consoleLogger: Logger = {
  log(level: LogLevel, message: string): void {
    if (level === "DEBUG" && process.env["FLWR_LOG_LEVEL"]?.toUpperCase() !== "DEBUG") return;
    console.error(formatLogLine(level, message));
  },
};

/** A logger that keeps lines in memory (`lines` holds the formatted lines); handy in tests. */
export class MemoryLogger implements Logger {
  /** Formatted lines, oldest first. */
  readonly lines: string[] = [];
  /** Raw entries, oldest first. */
  readonly entries: { level: LogLevel; message: string }[] = [];

  /** Records one line. */
  log(level: LogLevel, message: string): void {
    this.entries.push({ level, message });
    this.lines.push(formatLogLine(level, message));
  }

  /** All messages joined by newlines (without level prefixes). */
  text(): string {
    return this.entries.map((e) => e.message).join("\n");
  }
}
