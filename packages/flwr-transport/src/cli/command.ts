/**
 * The `flwr` subcommand framework on `@flwr-ts/core/cli` (commander): each command is one module
 * exporting a {@link CliCommand} (its {@link CliSpec} and `run`); a group (like `flwr supernode`)
 * is a list of {@link CommandEntry}s that load their module lazily, so adding a command is one
 * file plus one line in its group. Help is rendered in the one style of every bin.
 */
import {
  type CliSpec,
  CliUsageError,
  colorEnabled,
  type ParsedCli,
  parseCli,
  renderHelp,
} from "@flwr-ts/core/cli";
import { type CliError, formatCliError, toCliError, UsageError } from "./cli-error.js";

/** Where a command writes (injectable for tests). */
export interface CliIo {
  /** Writes text to stdout (no newline added). */
  out(text: string): void;
  /** Writes text to stderr (no newline added). */
  err(text: string): void;
  /** Colour the help and tables (default: from stdout, `NO_COLOR`, `FORCE_COLOR`). */
  readonly color?: boolean;
  /** Terminal width to fit tables and help to; undefined: not a terminal, no limit. */
  readonly columns?: number | undefined;
}

/** The process's stdout/stderr. */
export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  get color() {
    return colorEnabled(process.stdout);
  },
  get columns() {
    return process.stdout.isTTY ? process.stdout.columns : undefined;
  },
};

/** One runnable command. */
export interface CliCommand {
  /** Name, options and help text (rendered by `--help`). */
  readonly spec: CliSpec;
  /** True for a group of subcommands (it handles `--help` itself). */
  readonly isGroup?: boolean;
  /**
   * Runs the command with the arguments after its name.
   * @returns the process exit status; throw a {@link CliError} to fail with one line.
   */
  run(argv: string[], io: CliIo): Promise<number>;
}

/** A command's help text, for `io`. */
export function commandHelp(spec: CliSpec, io: CliIo): string {
  return renderHelp(spec, {
    color: io.color ?? false,
    ...(io.columns === undefined ? {} : { width: io.columns }),
  });
}

/**
 * Parses a command's arguments with commander (`@flwr-ts/core/cli`); a usage error becomes a
 * {@link UsageError} (exit 2) of one line, e.g. `Unknown option '--verbos'; did you mean
 * '--verbose'?`, which the group completes with the pointer to the command's `--help`.
 */
export function parseCommandArgs(spec: CliSpec, argv: readonly string[]): ParsedCli {
  try {
    return parseCli(spec, argv);
  } catch (error) {
    if (error instanceof CliUsageError) throw new UsageError(error.message);
    throw error;
  }
}

/** A command in a group, loaded on first use. */
export interface CommandEntry {
  /** Name typed on the command line. */
  readonly name: string;
  /** Other accepted names (e.g. `ls` for `list`). */
  readonly aliases?: readonly string[];
  /** One-line description for the group's help. */
  readonly summary: string;
  /** Hidden from help (still runnable). */
  readonly hidden?: boolean;
  /** Loads the module that exports `command`. */
  readonly load: () => Promise<{ command: CliCommand }>;
}

/** The spec of a group: its commands as a "Commands" panel. */
export function groupSpec(
  program: string,
  description: string,
  entries: readonly CommandEntry[],
  extra: Partial<CliSpec> = {},
): CliSpec {
  return {
    name: program,
    description,
    commands: entries.map(({ name, aliases, summary, hidden }) => ({
      name,
      summary,
      ...(aliases ? { aliases } : {}),
      ...(hidden ? { hidden } : {}),
    })),
    epilog: `Run '${program} COMMAND --help' for a command's options.`,
    ...extra,
  };
}

/**
 * A command that dispatches to subcommands: `program <name> …`, with `--help` for the group.
 * @param program - the words typed so far, e.g. `flwr supernode`.
 * @param extra - more of the group's spec (e.g. `version: true` for `flwr`).
 */
export function commandGroup(
  program: string,
  description: string,
  entries: readonly CommandEntry[],
  extra: Partial<CliSpec> = {},
): CliCommand {
  const spec = groupSpec(program, description, entries, extra);
  return {
    spec,
    isGroup: true,
    async run(argv, io) {
      if (argv[0] === undefined || argv[0] === "help") {
        io.out(commandHelp(spec, io));
        return argv[0] === undefined ? 2 : 0;
      }
      let parsed: ParsedCli;
      try {
        parsed = parseCli(spec, argv);
      } catch (error) {
        if (!(error instanceof CliUsageError)) throw error;
        const hint = error.suggestion === undefined ? "" : `; did you mean '${error.suggestion}'?`;
        throw new UsageError(
          error.kind === "unknown-command"
            ? `Unknown command '${error.subject}' for '${program}'${hint}; see '${program} --help'`
            : `${error.message}; see '${program} --help'`,
        );
      }
      const entry = entries.find((e) => e.name === parsed.command);
      if (parsed.help || entry === undefined) {
        io.out(commandHelp(spec, io));
        return 0;
      }
      const rest = parsed.rest;
      const { command } = await entry.load();
      if (!command.isGroup && (rest.includes("--help") || rest.includes("-h"))) {
        io.out(commandHelp(command.spec, io));
        return 0;
      }
      if (command.isGroup) return command.run(rest, io);
      try {
        return await command.run(rest, io);
      } catch (error) {
        // A usage error points at the command's own help.
        if (error instanceof UsageError && !/--help/.test(error.message))
          throw new UsageError(
            `${error.message.replace(/\.$/, "")} (see '${program} ${entry.name} --help').`,
          );
        throw error;
      }
    },
  };
}

/**
 * Runs a command as a process entry point: prints any error as one line prefixed with `❌`
 * (never a stack trace) and returns the exit status.
 */
export async function runCommand(command: CliCommand, argv: string[], io: CliIo): Promise<number> {
  try {
    return await command.run(argv, io);
  } catch (error) {
    const e: CliError = toCliError(error);
    io.err(`❌ ${formatCliError(e)}\n`);
    return e.status;
  }
}
