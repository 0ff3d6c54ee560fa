import { describe, expect, test } from "vitest";
import {
  type CliSpec,
  CliUsageError,
  formatUsageError,
  parseCli,
  renderHelp,
  wantsHelp,
  wrapText,
} from "./cli-program.js";
import { colorEnabled, stripAnsi, styles, terminalColumns } from "./colors.js";

const SPEC: CliSpec = {
  name: "demo",
  description: "A demo command.",
  version: true,
  arguments: [{ name: "app-dir", help: "The app.", default: "." }],
  options: [
    { name: "insecure", help: "No TLS." },
    { name: "database", metavar: "PATH", help: "Where.", default: ":memory:" },
    { name: "run-config", short: "c", metavar: "TEXT", repeatable: true, help: "Overrides." },
    { name: "no-http-api", help: "gRPC only." },
    { name: "old-flag", metavar: "X", help: "Deprecated.", hidden: true },
  ],
};

function usageError(spec: CliSpec, argv: string[]): CliUsageError {
  try {
    parseCli(spec, argv);
  } catch (error) {
    if (error instanceof CliUsageError) return error;
    throw error;
  }
  throw new Error("expected a usage error");
}

describe("parseCli (commander)", () => {
  test("values by long name, repeatable values in order, --no-x by its name", () => {
    const r = parseCli(SPEC, ["app", "--insecure", "--database=x.db", "-c", "a=1", "-cb=2"]);
    expect(r.values).toEqual({ insecure: true, database: "x.db", "run-config": ["a=1", "b=2"] });
    expect(r.positionals).toEqual(["app"]);
    expect(parseCli(SPEC, ["--no-http-api"]).values).toEqual({ "no-http-api": true });
    expect(parseCli(SPEC, ["--old-flag", "v"]).values).toEqual({ "old-flag": "v" });
    expect(parseCli(SPEC, ["-h"]).help).toBe(true);
    expect(parseCli(SPEC, ["--version"]).version).toBe(true);
  });

  test("usage errors: kind, subject, commander's suggestion, one line with the --help pointer", () => {
    const typo = usageError(SPEC, ["--insecur"]);
    expect([typo.kind, typo.subject, typo.suggestion, typo.status]).toEqual([
      "unknown-option",
      "--insecur",
      "--insecure",
      2,
    ]);
    expect(formatUsageError(typo)).toBe(
      "Unknown option '--insecur'; did you mean '--insecure'? See 'demo --help'.",
    );
    // Hidden options are accepted but never suggested.
    expect(usageError(SPEC, ["--old-flg"]).suggestion).toBeUndefined();
    expect(formatUsageError(usageError(SPEC, ["--database"]))).toBe(
      "Option '--database' needs a value. See 'demo --help'.",
    );
    const noArgs: CliSpec = { name: "x", description: "", options: [] };
    expect(usageError(noArgs, ["extra"]).kind).toBe("unexpected-argument");
  });

  test("a group stops at its subcommand and hands over the rest", () => {
    const group: CliSpec = {
      name: "tool",
      description: "",
      commands: [
        { name: "register", summary: "R" },
        { name: "list", aliases: ["ls"], summary: "L" },
      ],
    };
    const r = parseCli(group, ["ls", "--format", "json", "--help"]);
    expect([r.command, r.rest]).toEqual(["list", ["--format", "json", "--help"]]);
    expect(parseCli(group, ["--help"]).help).toBe(true);
    const e = usageError(group, ["regster"]);
    expect([e.kind, e.suggestion]).toEqual(["unknown-command", "register"]);
    // Several candidates ("one of list, ls"): the first.
    expect(usageError(group, ["lst"]).suggestion).toBe("list");
  });

  test("wantsHelp stops at --", () => {
    expect(wantsHelp(["--x", "-h"])).toBe(true);
    expect(wantsHelp(["--", "--help"])).toBe(false);
  });
});

describe("renderHelp (typer + rich style)", () => {
  test("usage line, description, Arguments and Options panels with metavar and default", () => {
    const help = renderHelp(SPEC, { color: false, width: 80 });
    const lines = help.split("\n");
    expect(lines[1]).toBe(" Usage: demo [OPTIONS] [APP-DIR]");
    expect(lines[3]).toBe(" A demo command.");
    expect(help).toMatch(/╭─ Arguments ─+╮/);
    expect(help).toMatch(/│ --database +PATH +Where\. \[default: :memory:\] +│/);
    expect(help).toMatch(/│ --run-config +-c +TEXT +Overrides\. +│/);
    expect(help).toMatch(/│ --help +-h +Show this message and exit\. +│/);
    expect(help).not.toContain("--old-flag");
    for (const line of lines.filter((l) => /^[╭│╰]/.test(l))) expect(line).toHaveLength(80);
    expect(help).not.toContain("\u001b[");
  });

  test("fits narrow widths by wrapping the help column", () => {
    const help = renderHelp(SPEC, { color: false, width: 50 });
    for (const line of help.split("\n").filter((l) => /^[╭│╰]/.test(l)))
      expect(line).toHaveLength(50);
  });

  test("long flag names are never cut: the help text narrows instead", () => {
    const help = renderHelp(SPEC, { color: false, width: 40 });
    expect(help).not.toMatch(/--[a-z-]*…/);
    for (const name of ["--database", "--run-config", "--insecure", "--help"])
      expect(help).toContain(name);
  });

  test("colours: flags bold cyan, metavars bold yellow; same layout without escapes", () => {
    const coloured = renderHelp(SPEC, { color: true, width: 80 });
    expect(coloured).toContain("\u001b[1;36m--insecure");
    expect(coloured).toContain("\u001b[1;33mPATH");
    expect(stripAnsi(coloured)).toBe(renderHelp(SPEC, { color: false, width: 80 }));
  });

  test("wrapText wraps at spaces and cuts words longer than a line", () => {
    expect(wrapText("aaa bbb ccc", 7)).toEqual(["aaa bbb", "ccc"]);
    expect(wrapText("abcdefghij", 4)).toEqual(["abcd", "efgh", "ij"]);
  });
});

describe("colours follow NO_COLOR, FORCE_COLOR and the TTY", () => {
  test.each([
    [{ isTTY: true }, {}, true],
    [{ isTTY: false }, {}, false],
    [{}, {}, false],
    [{ isTTY: true }, { NO_COLOR: "1" }, false],
    [{ isTTY: true }, { NO_COLOR: "" }, true],
    [{ isTTY: false }, { FORCE_COLOR: "1" }, true],
    [{ isTTY: false }, { FORCE_COLOR: "" }, true],
    [{ isTTY: true }, { FORCE_COLOR: "0" }, false],
    [{ isTTY: false }, { FORCE_COLOR: "1", NO_COLOR: "1" }, false],
  ])("%j with %j → %s", (stream, env, expected) => {
    expect(colorEnabled(stream, env)).toBe(expected);
  });

  test("styles add SGR codes only when enabled; terminalColumns only for a TTY", () => {
    expect(styles(true).bold("x")).toBe("\u001b[1mx\u001b[22m");
    expect(styles(false).bold("x")).toBe("x");
    expect(terminalColumns({ isTTY: true, columns: 60 })).toBe(60);
    expect(terminalColumns({ isTTY: false, columns: 60 })).toBeUndefined();
  });
});
