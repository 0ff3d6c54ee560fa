/**
 * Locates the pinned Python Flower used as the reference implementation by
 * interoperability tests. `scripts/setup.sh` installs it into `.venv/`.
 *
 * In CI (`CI=true`) a missing interpreter or a wrong flwr version is an error,
 * so interop tests fail instead of silently skipping; elsewhere
 * {@link pythonFlwrAvailable} lets a test file skip with a visible reason.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (the folder holding `interop/`). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The pinned Python flwr version, from `interop/flwr-version.txt`. */
export const pinnedFlwrVersion = readFileSync(
  join(repoRoot, "interop/flwr-version.txt"),
  "utf8",
).trim();

/** Path of the interop Python interpreter (`$FLWR_PYTHON` or `.venv/bin/python`). */
export const pythonPath = process.env["FLWR_PYTHON"] ?? join(repoRoot, ".venv/bin/python");

/** Directory holding the venv's console scripts (`flwr`, `flower-superlink`, …). */
export const pythonBinDir = dirname(pythonPath);

function probe(): string | undefined {
  if (!existsSync(pythonPath))
    return `no Python interpreter at ${pythonPath} (run scripts/setup.sh)`;
  try {
    const v = execFileSync(pythonPath, ["-c", "import flwr; print(flwr.__version__)"], {
      encoding: "utf8",
    }).trim();
    if (v !== pinnedFlwrVersion)
      return `Python flwr is ${v}, expected ${pinnedFlwrVersion} (run scripts/setup.sh)`;
    return undefined;
  } catch {
    return `Python flwr is not importable with ${pythonPath} (run scripts/setup.sh)`;
  }
}

const problem = probe();
if (problem && process.env["CI"] === "true") {
  throw new Error(`interop tests need the pinned Python flwr: ${problem}`);
}

/** True when the pinned Python flwr can be run (always true in CI, else this module throws). */
export const pythonFlwrAvailable = problem === undefined;

/** Why Python flwr is unavailable, for a skip message; undefined when it is available. */
export const pythonFlwrProblem = problem;

/**
 * Runs a Python script with the pinned flwr and returns its stdout.
 * @param script - Python source passed with `-c`.
 * @param args - extra argv for the script.
 * @param input - optional stdin bytes.
 */
export function runPython(script: string, args: string[] = [], input?: Buffer | string): string {
  return execFileSync(pythonPath, ["-c", script, ...args], {
    encoding: "utf8",
    input,
    maxBuffer: 1 << 30,
  });
}
