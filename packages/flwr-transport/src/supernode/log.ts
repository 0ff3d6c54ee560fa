/** The SuperNode's log: Flower-style lines (`INFO :      …`) on stderr. */

/** Log severity. */
export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR";

/** Where the SuperNode writes what it does. */
export interface Logger {
  /** Writes one line at `level`. */
  log(level: LogLevel, message: string): void;
}

const ORDER: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40 };

/** Formats a line as Python Flower's console handler does (level, colon, aligned message). */
export function formatLogLine(level: LogLevel, message: string): string {
  return `${`${level} :`.padEnd(12)}${message}`;
}

/**
 * A logger writing to stderr, dropping lines below `minLevel` (default INFO; `FLWR_LOG_LEVEL`
 * overrides it, as in Flower).
 */
export function consoleLogger(minLevel?: LogLevel): Logger {
  const env = process.env["FLWR_LOG_LEVEL"]?.toUpperCase();
  const level: LogLevel =
    minLevel ?? (env && env in ORDER ? (env as LogLevel) : env === "WARN" ? "WARNING" : "INFO");
  return {
    log(l, message) {
      if (ORDER[l] >= ORDER[level]) process.stderr.write(`${formatLogLine(l, message)}\n`);
    },
  };
}
