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

/** How log lines are written: Flower's console text, or one JSON object per line. */
export type LogFormat = "text" | "json";

/** The log formats, for flag validation. */
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

/**
 * Formats a log entry as one line of JSON (NDJSON: `{"time":…,"level":…,"component":…,
 * "message":…}`), for log shippers. Like Flower's JSON console mode, tabs are removed and the
 * message trimmed; unlike it (`{lvl='INFO', time='…', msg='…'}`, which no JSON parser reads),
 * the line is valid JSON.
 * @returns the line, or undefined for a message that is empty once trimmed (Flower drops those).
 */
export function formatJsonLogLine(
  level: LogLevel,
  message: string,
  component: string,
  time: Date = new Date(),
): string | undefined {
  const text = message.replaceAll("\t", "").trim();
  if (text === "") return undefined;
  return JSON.stringify({ time: time.toISOString(), level, component, message: text });
}

/**
 * Formats one entry in `format`; undefined when nothing is to be written (an empty JSON
 * message).
 */
export function formatLogEntry(
  format: LogFormat,
  level: LogLevel,
  message: string,
  component: string,
): string | undefined {
  return format === "json"
    ? formatJsonLogLine(level, message, component)
    : formatLogLine(level, message);
}

/**
 * The environment variable that carries `--log-format` to the processes a SuperLink or SuperNode
 * starts (SuperExec, ClientApps): `json` makes {@link consoleLogger} write JSON lines. ServerApp
 * processes are started without it: their output is the run's log (`flwr log`), which stays text.
 */
export const LOG_FORMAT_ENV = "FLWR_LOG_FORMAT";

/** The format {@link LOG_FORMAT_ENV} names (text unless it says `json`). */
export function logFormatFromEnv(): LogFormat {
  return process.env[LOG_FORMAT_ENV]?.toLowerCase() === "json" ? "json" : "text";
}

/** This process's program name (`flower-superexec`, `flwr-clientapp`, …): JSON lines' component. */
function processName(): string {
  const script = process.argv[1] ?? "node";
  return script.slice(script.lastIndexOf("/") + 1).replace(/\.[cm]?[jt]s$/, "");
}

/**
 * The default logger: writes Flower-formatted lines to stderr (Python Flower logs to stderr
 * too), or JSON lines when `FLWR_LOG_FORMAT=json` ({@link LOG_FORMAT_ENV}). DEBUG lines are
 * dropped unless `FLWR_LOG_LEVEL=DEBUG`.
 */
export const consoleLogger: Logger = {
  log(level: LogLevel, message: string): void {
    if (level === "DEBUG" && process.env["FLWR_LOG_LEVEL"]?.toUpperCase() !== "DEBUG") return;
    const line = formatLogEntry(logFormatFromEnv(), level, message, processName());
    if (line !== undefined) console.error(line);
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
