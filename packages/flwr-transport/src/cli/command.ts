/**
 * A small subcommand framework for the `flwr` CLI: each command is one module exporting a
 * {@link CliCommand}; a group (like `flwr supernode`) is a list of {@link CommandEntry}s that
 * load their module lazily, so adding a command is one file plus one line in its group.
 */
import { type CliError, formatCliError, toCliError, UsageError } from "./cli-error.js";
import { didYouMean } from "./did-you-mean.js";

/** Where a command writes (injectable for tests). */
export interface CliIo {
  /** Writes text to stdout (no newline added). */
  out(text: string): void;
  /** Writes text to stderr (no newline added). */
  err(text: string): void;
}

/** The process's stdout/stderr. */
export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** One runnable command. */
export interface CliCommand {
  /** Usage text shown by `--help`. */
  readonly usage: string;
  /** True for a group of subcommands (it handles `--help` itself). */
  readonly isGroup?: boolean;
  /**
   * Runs the command with the arguments after its name.
   * @returns the process exit status; throw a {@link CliError} to fail with one line.
   */
  run(argv: string[], io: CliIo): Promise<number>;
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

/** Renders a group's help: usage line, then one line per visible command. */
export function groupUsage(program: string, description: string, entries: readonly CommandEntry[]) {
  const visible = entries.filter((e) => !e.hidden);
  const width = Math.max(...visible.map((e) => e.name.length), 4);
  const lines = visible.map((e) => `  ${e.name.padEnd(width)}  ${e.summary}`);
  return (
    `Usage: ${program} <command> [options]\n\n${description}\n\nCommands:\n${lines.join("\n")}\n\n` +
    `Run '${program} <command> --help' for a command's options.`
  );
}

/**
 * A command that dispatches to subcommands: `program <name> …`, with `--help` for the group.
 * @param program - the words typed so far, e.g. `flwr supernode`.
 */
export function commandGroup(
  program: string,
  description: string,
  entries: readonly CommandEntry[],
): CliCommand {
  const usage = groupUsage(program, description, entries);
  return {
    usage,
    isGroup: true,
    async run(argv, io) {
      const [name, ...rest] = argv;
      if (name === undefined || name === "--help" || name === "-h" || name === "help") {
        io.out(`${usage}\n`);
        return name === undefined ? 2 : 0;
      }
      const entry = entries.find((e) => e.name === name || e.aliases?.includes(name));
      if (!entry) {
        const names = entries
          .filter((e) => !e.hidden)
          .flatMap((e) => [e.name, ...(e.aliases ?? [])]);
        const guess = didYouMean(name, names);
        throw new UsageError(
          `Unknown command '${name}' for '${program}'${guess ? `; did you mean '${guess}'?` : ""}; see '${program} --help'`,
        );
      }
      const { command } = await entry.load();
      if (!command.isGroup && (rest.includes("--help") || rest.includes("-h"))) {
        io.out(`${command.usage}\n`);
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
