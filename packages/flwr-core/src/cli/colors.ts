/**
 * Terminal colours for the command lines, the way `rich` (Flower's help and tables) decides:
 * `NO_COLOR` (any non-empty value, https://no-color.org) turns them off, `FORCE_COLOR` (any value
 * but `0`/`false`) turns them on, otherwise only a TTY gets them — output piped to a file or
 * another program never contains escape sequences. Eight SGR codes do not need a library.
 */

/** What {@link colorEnabled} looks at: a stream's `isTTY` (process.stdout/stderr have one). */
export interface ColorTarget {
  /** True when the stream is a terminal. */
  readonly isTTY?: boolean | undefined;
}

/**
 * Whether to colour output written to `stream`.
 * @param stream - the stream written to (default `process.stdout`).
 * @param env - the environment (default `process.env`).
 */
export function colorEnabled(
  stream: ColorTarget = process.stdout,
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  if (env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "") return false;
  const force = env["FORCE_COLOR"];
  if (force !== undefined) return force !== "0" && force.toLowerCase() !== "false";
  return stream.isTTY === true;
}

/** Style functions; each returns its text unchanged when colours are off. */
export interface Styles {
  /** True when the functions add escapes. */
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  /** Bold cyan: option and command names (typer's style). */
  flag(text: string): string;
  /** Bold yellow: metavars and "Usage:" (typer's style). */
  metavar(text: string): string;
}

/**
 * The style functions for a target.
 * @param enabled - true to colour (see {@link colorEnabled}).
 */
export function styles(enabled: boolean): Styles {
  const sgr =
    (open: string, close: string) =>
    (text: string): string =>
      enabled && text !== "" ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return {
    enabled,
    bold: sgr("1", "22"),
    dim: sgr("2", "22"),
    red: sgr("31", "39"),
    green: sgr("32", "39"),
    yellow: sgr("33", "39"),
    cyan: sgr("36", "39"),
    flag: sgr("1;36", "22;39"),
    metavar: sgr("1;33", "22;39"),
  };
}

/** Removes SGR escape sequences (for measuring coloured text). */
export function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching the escape character is the point
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

/**
 * The width to fit tables and help to: the terminal's columns for a TTY, else `undefined`
 * (not a terminal: no limit, lines are never cut).
 */
export function terminalColumns(stream: { isTTY?: boolean; columns?: number } = process.stdout) {
  return stream.isTTY === true && stream.columns !== undefined && stream.columns > 0
    ? stream.columns
    : undefined;
}
