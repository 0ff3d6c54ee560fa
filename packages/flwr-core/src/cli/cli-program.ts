/**
 * The one command-line framework of every flwr-ts bin (`flwr`, `flower-superlink`,
 * `flower-supernode`, `flower-superexec`, `flwr-serverapp`, `flwr-clientapp`, `flwr-ts`,
 * `flwr-ts-prepare-dataset`): a bin describes its options once as a {@link CliSpec}; commander
 * parses the arguments ({@link parseCli}) and this module renders one help style
 * ({@link renderHelp}), modelled on Flower's typer + rich output: a usage line, the description,
 * then "Arguments", "Options" and "Commands" panels with flag, metavar, help and default.
 *
 * Why commander (v14): mature and maintained (the most used Node CLI parser), zero
 * dependencies, ESM + types included; it parses GNU-style options (`--x=v`, `-abc`, `--`),
 * suggests the closest option or command on a typo ("Did you mean …?"), and its `exitOverride`
 * and `configureOutput` hooks let each bin keep its own error wording (argparse's for
 * `flower-superlink`, typer's for `flwr`) and exit status 2. citty and cac were considered:
 * citty has no suggestions for unknown options, cac is barely maintained. Commander only parses:
 * validation stays in each bin's zod schema with Flower's messages, and commander's own help
 * and `process.exit` are turned off (the help is rendered here, in one style for all bins).
 *
 * Wire-free: no sockets, no processes; it lives in core so that crypto and ml (which must not
 * import transport) share it with transport.
 */
import { Command, CommanderError, Option } from "commander";
import { colorEnabled, type Styles, stripAnsi, styles, terminalColumns } from "./colors.js";

/** One option of a command. */
export interface CliOption {
  /** Long name without dashes, e.g. `ssl-certfile` (the key in {@link ParsedCli.values}). */
  readonly name: string;
  /** One-letter short name without the dash, e.g. `c`. */
  readonly short?: string;
  /** Placeholder of the value (e.g. `ADDRESS`); absent for a flag that takes no value. */
  readonly metavar?: string;
  /** Help text. */
  readonly help: string;
  /** The default, as shown in the help (`[default: …]`); not applied (validation does that). */
  readonly default?: string;
  /** Accepted values, shown in the help; not checked here (validation does that). */
  readonly choices?: readonly string[];
  /** May be given more than once; the values are collected in order. */
  readonly repeatable?: boolean;
  /** Accepted but not shown in the help nor suggested (deprecated spellings). */
  readonly hidden?: boolean;
}

/** One positional argument (shown in the help; the bin checks how many it got). */
export interface CliArgument {
  /** Name, e.g. `app-dir`. */
  readonly name: string;
  /** Help text. */
  readonly help: string;
  /** Required (shown as `NAME` instead of `[NAME]`). */
  readonly required?: boolean;
  /** The default, as shown in the help. */
  readonly default?: string;
  /** Takes any number of values. */
  readonly variadic?: boolean;
}

/** A subcommand of a group, as the group's help lists it. */
export interface CliSubcommand {
  /** Name typed on the command line. */
  readonly name: string;
  /** Other accepted names. */
  readonly aliases?: readonly string[];
  /** One-line description. */
  readonly summary: string;
  /** Runnable but not listed. */
  readonly hidden?: boolean;
}

/** A command: its name, help and options. */
export interface CliSpec {
  /** The words typed to run it, e.g. `flwr supernode list`. */
  readonly name: string;
  /** Description shown under the usage line (may span paragraphs). */
  readonly description: string;
  /** Options; `-h, --help` is added (and `-V, --version` with {@link CliSpec.version}). */
  readonly options?: readonly CliOption[];
  /** Positional arguments; none (and none accepted) when absent, unless it has commands. */
  readonly arguments?: readonly CliArgument[];
  /** Subcommands (a group): parsing stops at the subcommand, whose arguments are returned. */
  readonly commands?: readonly CliSubcommand[];
  /** Adds `-V, --version`. */
  readonly version?: boolean;
  /** Usage lines instead of the generated one (without `Usage:`), e.g. two forms. */
  readonly usage?: readonly string[];
  /** Text after the panels (notes, examples). */
  readonly epilog?: string;
}

/** The parsed arguments of a command. */
export interface ParsedCli {
  /**
   * Option values by long name: `true` for a flag given, the last string for an option with a
   * value, all strings in order for a repeatable one; options not given are absent.
   */
  readonly values: Record<string, string | boolean | string[]>;
  /** Positional arguments in order. */
  readonly positionals: string[];
  /** `-h`/`--help` was given. */
  readonly help: boolean;
  /** `-V`/`--version` was given. */
  readonly version: boolean;
  /** For a group: the subcommand typed (its canonical name), if any. */
  readonly command?: string;
  /** For a group: the arguments after the subcommand. */
  readonly rest: string[];
}

/** What went wrong in a {@link CliUsageError}. */
export type CliUsageKind =
  | "unknown-option"
  | "unknown-command"
  | "missing-value"
  | "unexpected-argument";

/**
 * A command line that cannot be parsed. The bin words it in its own style (see
 * {@link formatUsageError}); the process exit status is 2 (argparse's and click's).
 */
export class CliUsageError extends Error {
  /** Exit status of a usage error. */
  readonly status = 2;

  /**
   * @param kind - what went wrong.
   * @param subject - the option (e.g. `--bogus`), command or argument concerned.
   * @param suggestion - the closest known option or command ("did you mean"), if any.
   * @param program - the command's words (for the pointer to its `--help`).
   */
  constructor(
    readonly kind: CliUsageKind,
    readonly subject: string,
    readonly suggestion: string | undefined,
    readonly program: string,
  ) {
    super(describeUsageError(kind, subject, suggestion));
    this.name = "CliUsageError";
  }
}

function describeUsageError(kind: CliUsageKind, subject: string, suggestion?: string): string {
  const hint = suggestion === undefined ? "" : `; did you mean '${suggestion}'?`;
  switch (kind) {
    case "unknown-option":
      return `Unknown option '${subject}'${hint}`;
    case "unknown-command":
      return `Unknown command '${subject}'${hint}`;
    case "missing-value":
      return `Option '${subject}' needs a value`;
    case "unexpected-argument":
      return `Unexpected argument '${subject}'`;
  }
}

/**
 * The one line printed for a usage error: what is wrong, the suggestion, and where the help is,
 * e.g. `Unknown option '--verbos'; did you mean '--verbose'? See 'flwr ls --help'.`
 */
export function formatUsageError(error: CliUsageError): string {
  return `${error.message}${error.message.endsWith("?") ? "" : "."} See '${error.program} --help'.`;
}

function flagsOf(option: CliOption): string {
  const long = `--${option.name}`;
  const value = option.metavar === undefined ? "" : ` <${option.metavar}>`;
  return option.short === undefined ? `${long}${value}` : `-${option.short}, ${long}${value}`;
}

/** Builds the commander program that parses `spec`'s command line (no help, no exit). */
function buildProgram(spec: CliSpec): {
  program: Command;
  picked: { command?: string; rest: string[] };
} {
  const program = new Command(spec.name)
    .exitOverride()
    .helpOption(false)
    .helpCommand(false)
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} })
    .allowExcessArguments(true);
  const picked: { command?: string; rest: string[] } = { rest: [] };
  for (const o of spec.options ?? []) {
    const option = new Option(flagsOf(o), o.help);
    if (o.hidden) option.hideHelp();
    if (o.repeatable)
      option.argParser((value: string, previous: unknown) => [
        ...(Array.isArray(previous) ? previous : []),
        value,
      ]);
    program.addOption(option);
  }
  program.addOption(new Option("-h, --help", "Show this message and exit."));
  if (spec.version) program.addOption(new Option("-V, --version", "Show the version and exit."));
  if (spec.commands) {
    for (const c of spec.commands) {
      const sub = program
        .command(c.name, { hidden: c.hidden === true })
        .helpOption(false)
        .allowUnknownOption(true)
        .allowExcessArguments(true)
        .exitOverride()
        .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} })
        .action((_opts: unknown, cmd: Command) => {
          picked.command = c.name;
          picked.rest = [...cmd.args];
        });
      for (const alias of c.aliases ?? []) sub.alias(alias);
    }
    // Options after the subcommand belong to it.
    program.passThroughOptions(true).enablePositionalOptions(true);
  }
  return { program, picked };
}

/** Commander's suggestion in `message` ("(Did you mean x?)" or "(Did you mean one of x, y?)"). */
function suggestionOf(message: string): string | undefined {
  const found = /\(Did you mean (?:one of )?([^?]+)\?\)/.exec(message)?.[1];
  return found?.split(", ")[0]?.trim();
}

function attributeKey(name: string): string {
  return name
    .replace(/^no-/, "")
    .split("-")
    .reduce((acc, word, i) => (i === 0 ? word : acc + word[0]!.toUpperCase() + word.slice(1)), "");
}

/**
 * Parses `argv` (the arguments after the program name) for `spec` with commander.
 * @throws CliUsageError for an unknown option or command (with commander's suggestion), an
 * option without its value, or a positional argument where the command takes none.
 */
export function parseCli(spec: CliSpec, argv: readonly string[]): ParsedCli {
  const { program, picked } = buildProgram(spec);
  // A group answers `--help` even when a subcommand is not given.
  const isGroup = spec.commands !== undefined;
  try {
    program.parse([...argv], { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    const message = error.message.split("\n")[0]!;
    const subject = /'([^']*)'/.exec(message)?.[1] ?? "";
    if (error.code === "commander.unknownOption")
      throw new CliUsageError("unknown-option", subject, suggestionOf(error.message), spec.name);
    if (error.code === "commander.unknownCommand")
      throw new CliUsageError("unknown-command", subject, suggestionOf(error.message), spec.name);
    if (error.code === "commander.optionMissingArgument") {
      const flag = /--[\w-]+/.exec(subject)?.[0] ?? subject;
      throw new CliUsageError("missing-value", flag, undefined, spec.name);
    }
    // A group without a subcommand: commander would print help; the bin decides.
    if (error.code === "commander.help" || error.code === "commander.helpDisplayed") {
      const o = program.opts();
      return {
        values: {},
        positionals: [],
        help: o["help"] === true,
        version: o["version"] === true,
        rest: [],
      };
    }
    throw error;
  }
  const opts = program.opts();
  const values: Record<string, string | boolean | string[]> = {};
  for (const o of spec.options ?? []) {
    const key = attributeKey(o.name);
    if (program.getOptionValueSource(key) !== "cli") continue;
    const value = opts[key] as string | boolean | string[];
    // commander reads `--no-x` as x = false; the bins know it by its name.
    values[o.name] = o.name.startsWith("no-") ? value === false : value;
  }
  const positionals = isGroup ? [] : [...program.args];
  if (!isGroup && spec.arguments === undefined && positionals.length > 0)
    throw new CliUsageError("unexpected-argument", positionals[0]!, undefined, spec.name);
  return {
    values,
    positionals,
    help: opts["help"] === true,
    version: opts["version"] === true,
    ...(picked.command === undefined ? {} : { command: picked.command }),
    rest: picked.rest,
  };
}

/** Options of {@link renderHelp}. */
export interface HelpOptions {
  /** Colour the help (default: {@link colorEnabled} of stdout). */
  readonly color?: boolean;
  /** Width to fit (default: the terminal's columns, else 80 as rich does off a terminal). */
  readonly width?: number;
}

/** Display width of plain text (no escapes): wide code points count 2. */
function widthOf(text: string): number {
  let width = 0;
  for (const ch of stripAnsi(text)) {
    const cp = ch.codePointAt(0)!;
    width += /\p{Extended_Pictographic}/u.test(ch) || (cp >= 0x2e80 && cp <= 0xa4cf) ? 2 : 1;
  }
  return width;
}

/** Wraps plain text to `width` columns at spaces (words longer than a line are cut). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(/ +/)) {
      if (word === "") continue;
      let w = word;
      while (widthOf(w) > width) {
        if (line !== "") {
          lines.push(line);
          line = "";
        }
        lines.push(w.slice(0, width));
        w = w.slice(width);
      }
      if (line === "") line = w;
      else if (widthOf(line) + 1 + widthOf(w) <= width) line += ` ${w}`;
      else {
        lines.push(line);
        line = w;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** A typer/rich panel: `╭─ Title ─…╮`, rows of columns (the last one wraps), `╰─…╯`. */
function panel(
  title: string,
  rows: readonly (readonly string[])[],
  width: number,
  s: Styles,
): string[] {
  const inner = width - 4; // "│ " + " │"
  const cols = rows[0]?.length ?? 0;
  const widths = Array.from({ length: cols - 1 }, (_, c) =>
    Math.max(0, ...rows.map((r) => widthOf(r[c]!))),
  );
  let fixed = widths.reduce((a, w) => a + w + 2, 0);
  // Keep at least 45% of the panel for the help text by narrowing the metavar column (the last
  // fixed one, down to 8; a cut metavar ends with "…"). Flag names are never cut, as in rich: a
  // long one narrows the help text instead (down to 20 columns, then the panel overflows).
  const minHelp = Math.max(20, Math.floor(inner * 0.45));
  const last = widths.length - 1;
  while (fixed > inner - minHelp && last > 0 && widths[last]! > 8) {
    widths[last]! -= 1;
    fixed -= 1;
  }
  const helpWidth = Math.max(20, inner - fixed);
  const border = (text: string) => s.dim(text);
  const out = [
    `${border("╭─ ")}${s.dim(title)}${border(` ${"─".repeat(Math.max(0, width - widthOf(title) - 5))}╮`)}`,
  ];
  for (const row of rows) {
    const fixedCells = row.slice(0, -1).map((cell, c) => {
      const w = widths[c]!;
      const cut = widthOf(cell) > w ? `${stripAnsi(cell).slice(0, Math.max(0, w - 1))}…` : cell;
      return cut + " ".repeat(Math.max(0, w - widthOf(cut)));
    });
    const helpLines = wrapText(row[cols - 1]!, helpWidth);
    helpLines.forEach((text, i) => {
      const left = i === 0 ? fixedCells.join("  ") : " ".repeat(fixed - 2);
      const body = `${left}${cols > 1 ? "  " : ""}${text}`;
      const line = body + " ".repeat(Math.max(0, inner - widthOf(body)));
      out.push(`${border("│")} ${line} ${border("│")}`);
    });
  }
  out.push(border(`╰${"─".repeat(width - 2)}╯`));
  return out;
}

function helpWithDefault(help: string, dflt: string | undefined, choices?: readonly string[]) {
  let text = help;
  if (choices !== undefined) text += ` [${choices.join("|")}]`;
  if (dflt !== undefined) text += ` [default: ${dflt}]`;
  return text;
}

/**
 * Renders `spec`'s help in the one style of every flwr-ts bin (typer + rich, as Python
 * Flower's `flwr --help`): usage line, description, Arguments / Options / Commands panels.
 */
export function renderHelp(spec: CliSpec, options: HelpOptions = {}): string {
  const s = styles(options.color ?? colorEnabled(process.stdout));
  const width = Math.max(40, options.width ?? terminalColumns(process.stdout) ?? 80);
  const args = spec.arguments ?? [];
  const generated =
    `${spec.name} [OPTIONS]` +
    (spec.commands ? " COMMAND [ARGS]..." : "") +
    args
      .map((a) => {
        const n = a.name.toUpperCase() + (a.variadic ? "..." : "");
        return a.required ? ` ${n}` : ` [${n}]`;
      })
      .join("");
  const usage = spec.usage ?? [generated];
  const out: string[] = [""];
  usage.forEach((line, i) => {
    // A long usage line continues under its command (width minus " Usage: ").
    const [first, ...more] = wrapText(line, width - 9);
    out.push(` ${i === 0 ? s.metavar("Usage:") : "      "} ${s.bold(first ?? "")}`);
    for (const next of more) out.push(`          ${s.bold(next)}`);
  });
  out.push("");
  for (const line of wrapText(spec.description, width - 2)) out.push(line === "" ? "" : ` ${line}`);
  out.push("");
  if (args.length > 0) {
    out.push(
      ...panel(
        "Arguments",
        args.map((a) => [
          s.flag(a.name),
          s.metavar(a.required ? a.name.toUpperCase() : `[${a.name.toUpperCase()}]`),
          helpWithDefault(a.help, a.default),
        ]),
        width,
        s,
      ),
    );
  }
  const opts: CliOption[] = [
    ...(spec.options ?? []).filter((o) => !o.hidden),
    ...(spec.version ? [{ name: "version", short: "V", help: "Show the version and exit." }] : []),
    { name: "help", short: "h", help: "Show this message and exit." },
  ];
  out.push(
    ...panel(
      "Options",
      opts.map((o) => [
        s.flag(`--${o.name}`),
        o.short === undefined ? "" : s.flag(`-${o.short}`),
        o.metavar === undefined ? "" : s.metavar(o.metavar),
        helpWithDefault(o.help, o.default, o.choices),
      ]),
      width,
      s,
    ),
  );
  const commands = (spec.commands ?? []).filter((c) => !c.hidden);
  if (commands.length > 0) {
    out.push(
      ...panel(
        "Commands",
        commands.map((c) => [
          s.flag(c.name),
          c.aliases?.length ? `${c.summary} (alias: ${c.aliases.join(", ")})` : c.summary,
        ]),
        width,
        s,
      ),
    );
  }
  if (spec.epilog) {
    out.push("");
    // Paragraphs (blank-line separated) are re-wrapped to the width; indented lines are kept.
    for (const paragraph of spec.epilog.split(/\n\s*\n/)) {
      const lines = /^\s/m.test(paragraph)
        ? paragraph.split("\n")
        : wrapText(paragraph.replace(/\n/g, " "), width - 2);
      for (const line of lines) out.push(line === "" ? "" : ` ${line}`);
      out.push("");
    }
    out.pop();
  }
  return `${out.join("\n")}\n`;
}

/**
 * True when `argv` asks for help (`-h`/`--help` before any `--`), checked before the rest is
 * parsed so that help is shown even next to a mistake (argparse's order).
 */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
}
