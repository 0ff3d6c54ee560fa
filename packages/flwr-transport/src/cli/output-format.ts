/**
 * `--format default|json` for `flwr` commands, as in Python Flower: with `json`, progress lines
 * are suppressed, the result is one JSON document on stdout, and a failure is
 * `{"success": false, "error-message": "…"}` (exit status stays non-zero).
 */
import { type CliError, toCliError, UsageError } from "./cli-error.js";
import type { CliIo } from "./command.js";

/** Output formats. */
export type OutputFormat = "default" | "json";

/** Parses a `--format` value (case-insensitive). */
export function parseOutputFormat(value: string | undefined): OutputFormat {
  const v = (value ?? "default").toLowerCase();
  if (v !== "default" && v !== "json") {
    throw new UsageError(`--format must be 'default' or 'json', got '${value}'`);
  }
  return v;
}

/**
 * JSON text with 2-space indentation in which `bigint`s are written as plain JSON numbers
 * (uint64 node ids do not fit a double).
 */
export function toJson(value: unknown): string {
  const marks: string[] = [];
  const text = JSON.stringify(
    value,
    (_key, v) => {
      if (typeof v !== "bigint") return v;
      marks.push(v.toString());
      return `\u0000bigint${marks.length - 1}\u0000`;
    },
    2,
  );
  return text.replace(/"\\u0000bigint(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)]!);
}

/** Writes progress and results in the chosen format. */
export class CommandOutput {
  constructor(
    private readonly io: CliIo,
    readonly format: OutputFormat,
  ) {}

  /** True for `--format json`. */
  get json(): boolean {
    return this.format === "json";
  }

  /** A progress or result line (suppressed in JSON mode). */
  line(text: string): void {
    if (!this.json) this.io.out(`${text}\n`);
  }

  /** The JSON document (JSON mode only). */
  document(value: unknown): void {
    if (this.json) this.io.out(`${toJson(value)}\n`);
  }

  /**
   * Runs the command body; in JSON mode a failure is printed as Flower's error document and
   * turned into a silent exit status.
   */
  async guard(body: () => Promise<number>): Promise<number> {
    if (!this.json) return body();
    try {
      return await body();
    } catch (error) {
      const e: CliError = toCliError(error);
      this.io.out(`${toJson({ success: false, "error-message": e.message })}\n`);
      return e.status;
    }
  }
}
