/**
 * The SuperLink's log: Flower's console lines (`INFO :      message`, `formatLogLine` of
 * `@flwr-ts/core`, the one formatter every flwr-ts process uses) or, with `--log-format json`, one
 * JSON object per line; written to stderr like Flower's console handler.
 */
import { formatLogEntry, type LogFormat, type LogLevel } from "@flwr-ts/core";

export { formatLogLine, type LogLevel } from "@flwr-ts/core";

/** A log function. */
export type Logger = (level: LogLevel, message: string) => void;

/** Options of {@link createFlowerLogger}. */
export interface FlowerLoggerOptions {
  /** Write DEBUG lines too. */
  verbose?: boolean;
  /** Where lines go; default stderr. */
  stream?: NodeJS.WritableStream;
  /** `text` (Flower's console format, default) or `json` (NDJSON). */
  format?: LogFormat;
  /** The `component` field of JSON lines; default `flower-superlink`. */
  component?: string;
}

/** A logger writing Flower-style (or JSON) lines; DEBUG lines only when `verbose`. */
export function createFlowerLogger(options: FlowerLoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stderr;
  const format = options.format ?? "text";
  const component = options.component ?? "flower-superlink";
  return (level, message) => {
    if (level === "DEBUG" && !options.verbose) return;
    const line = formatLogEntry(format, level, message, component);
    if (line !== undefined) stream.write(`${line}\n`);
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = () => {};
