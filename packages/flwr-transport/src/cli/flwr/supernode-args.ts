/** Argument parsing shared by the `flwr supernode` commands: positionals plus `--format`. */
import type { CliSpec } from "@flwr-ts/core/cli";
import { UsageError } from "../cli-error.js";
import { parseCommandArgs } from "../command.js";
import { type OutputFormat, parseOutputFormat } from "../output-format.js";

/** Parsed `flwr supernode …` arguments. */
export interface SupernodeArgs {
  /** Positional arguments in order. */
  readonly positionals: string[];
  /** `--format`. */
  readonly format: OutputFormat;
  /** `--verbose` / `-v` (only where the spec has it). */
  readonly verbose: boolean;
}

/**
 * Parses the positional arguments and options of a command whose spec has `--format` (and
 * maybe `--verbose`), with commander.
 * @param spec - the command's spec: its `arguments` name the positionals, for messages.
 * @param required - how many positionals are required (default 1).
 */
export function parseSupernodeArgs(spec: CliSpec, argv: string[], required = 1): SupernodeArgs {
  const parsed = parseCommandArgs(spec, argv);
  const names = (spec.arguments ?? []).map((a) => a.name);
  const pos = parsed.positionals;
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
