/**
 * Log lines in Flower's console format (`INFO :      message`), written to stderr like
 * Flower's console handler.
 */

/** Log levels used by the SuperLink. */
export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR";

/** A log function. */
export type Logger = (level: LogLevel, message: string) => void;

/** Formats one line as Flower does: level, `:`, padding to 8 columns, message. */
export function formatLogLine(level: LogLevel, message: string): string {
  return `${level} : ${" ".repeat(8 - level.length)}${message}`;
}

/**
 * A logger writing Flower-style lines to `stream` (default stderr); DEBUG lines only when
 * `verbose`.
 */
export function createFlowerLogger(
  options: { verbose?: boolean; stream?: NodeJS.WritableStream } = {},
): Logger {
  const stream = options.stream ?? process.stderr;
  return (level, message) => {
    if (level === "DEBUG" && !options.verbose) return;
    stream.write(`${formatLogLine(level, message)}\n`);
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = () => {};
