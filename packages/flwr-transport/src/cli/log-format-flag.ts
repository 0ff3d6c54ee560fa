/**
 * `--log-format json` read from a raw command line, for the error lines a bin prints when the
 * rest of its arguments did not parse (so that a log shipper never receives a text line).
 */

/** True when `argv` asks for JSON logs (`--log-format json` or `--log-format=json`). */
export function jsonLogsRequested(argv: readonly string[]): boolean {
  return argv.some(
    (arg, i) => arg === "--log-format=json" || (arg === "--log-format" && argv[i + 1] === "json"),
  );
}
