/** Argument parsing shared by the `flwr supernode` commands: positionals plus `--format`. */
import { parseArgs } from "node:util";
import { UsageError } from "../cli-error.js";
import { type OutputFormat, parseOutputFormat } from "../output-format.js";

/** Parsed `flwr supernode …` arguments. */
export interface SupernodeArgs {
  /** Positional arguments in order. */
  readonly positionals: string[];
  /** `--format`. */
  readonly format: OutputFormat;
  /** `--verbose` / `-v` (only where enabled). */
  readonly verbose: boolean;
}

/**
 * Parses the positional arguments and options shared by the supernode commands.
 * @param names - positional names, for messages; the first `extra.required` (default 1) are required.
 */
export function parseSupernodeArgs(
  argv: string[],
  names: readonly string[],
  extra: { verbose?: boolean; required?: number } = {},
): SupernodeArgs {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: "string" },
        ...(extra.verbose ? { verbose: { type: "boolean", short: "v" } } : {}),
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message.split("\n")[0]!);
  }
  const pos = parsed.positionals;
  const required = extra.required ?? 1;
  if (pos.length < required) throw new UsageError(`Missing argument '${names[pos.length]}'.`);
  if (pos.length > names.length) {
    throw new UsageError(`Got unexpected extra argument '${pos[names.length]}'.`);
  }
  return {
    positionals: pos,
    format: parseOutputFormat(parsed.values["format"] as string | undefined),
    verbose: parsed.values["verbose"] === true,
  };
}
