/**
 * The SuperNode's log: Flower's console lines (`INFO :      …`, `formatLogLine` of
 * `@flwr-ts/core`) or, with `--log-format json`, one JSON object per line, on stderr.
 */
import { formatLogEntry, type LogFormat, type LogLevel } from "@flwr-ts/core";

export { formatLogLine, type LogLevel } from "@flwr-ts/core";

/** Where the SuperNode writes what it does. */
export interface Logger {
  /** Writes one line at `level`. */
  log(level: LogLevel, message: string): void;
}

const ORDER: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40 };

/** The level `FLWR_LOG_LEVEL` names (as in Flower), or INFO. */
function levelFromEnv(): LogLevel {
  const env = process.env["FLWR_LOG_LEVEL"]?.toUpperCase();
  return env && env in ORDER ? (env as LogLevel) : env === "WARN" ? "WARNING" : "INFO";
}

/**
 * A logger writing to stderr, dropping lines below `minLevel` (default INFO; `FLWR_LOG_LEVEL`
 * overrides it, as in Flower), in `format` (default text).
 */
export function consoleLogger(minLevel?: LogLevel, format: LogFormat = "text"): Logger {
  const level = minLevel ?? levelFromEnv();
  return {
    log(l, message) {
      if (ORDER[l] < ORDER[level]) return;
      const line = formatLogEntry(format, l, message, "flower-supernode");
      if (line !== undefined) process.stderr.write(`${line}\n`);
    },
  };
}
