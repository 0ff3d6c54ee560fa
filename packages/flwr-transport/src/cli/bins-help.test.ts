/**
 * Every bin of @flwr-ts/transport answers `--help` in the one help style (usage line,
 * description, an Options panel with flags, metavars and defaults), colours only when asked
 * (`FORCE_COLOR`; never when piped or with `NO_COLOR`), and an unknown flag with one line, the
 * closest flag and a pointer to `--help`, exit status 2.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, test } from "vitest";

const here = import.meta.dirname;
const ESC = "\u001b[";

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function runBin(file: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
  for (const k of ["FORCE_COLOR", "NO_COLOR"]) if (!(k in env)) delete childEnv[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(here, file), ...args], {
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** bin, arguments before --help, a flag its Options panel shows, a typo and its suggestion. */
const BINS = [
  ["flwr.ts", ["ls"], "--run-id", ["ls", "--limt", "3"], "--limit"],
  ["flower-superlink.ts", [], "--ssl-certfile", ["--insecur"], "--insecure"],
  ["flower-supernode.ts", [], "--superlink", ["--insecur"], "--insecure"],
  ["flower-superexec.ts", [], "--plugin-type", ["--insecur"], "--insecure"],
  ["flwr-serverapp.ts", [], "--serverappio-api-address", ["--insecur"], "--insecure"],
  ["flwr-clientapp.ts", [], "--clientappio-api-address", ["--insecur"], "--insecure"],
] as const;

describe.each(BINS)("%s", (file, before, flag, typo, suggestion) => {
  const name = file.replace(/\.ts$/, "");

  test("--help: usage line, description, Options panel; no colour when piped", async () => {
    const r = await runBin(file, [...before, "--help"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(ESC);
    const lines = r.stdout.split("\n");
    expect(lines[1]).toMatch(new RegExp(`^ Usage: ${name}`));
    expect(r.stdout).toMatch(/╭─ Options ─+╮/);
    expect(r.stdout).toMatch(new RegExp(`│ ${flag} `));
    // The help text may wrap (long flag names are never cut, rich narrows the text instead).
    expect(r.stdout).toMatch(/│ --help +-h +Show this message/);
    // Every line of a panel has the same width (80 when not a terminal).
    for (const line of lines.filter((l) => /^[╭│╰]/.test(l))) expect(line.length).toBe(80);
  });

  test("FORCE_COLOR colours the help; NO_COLOR wins over it", async () => {
    const forced = await runBin(file, [...before, "--help"], { FORCE_COLOR: "1" });
    expect(forced.stdout).toContain(`${ESC}1;36m${flag}`);
    const off = await runBin(file, [...before, "--help"], { FORCE_COLOR: "1", NO_COLOR: "1" });
    expect(off.stdout).not.toContain(ESC);
  });

  test("an unknown flag: one line with the suggestion and --help, exit 2", async () => {
    const r = await runBin(file, [...typo]);
    expect(r.status).toBe(2);
    const text = r.stderr.trimEnd();
    expect(text.split("\n")).toHaveLength(1);
    expect(text).toContain(suggestion);
    expect(text).toMatch(/did you mean/i);
    expect(text).toContain("--help");
  });
});
