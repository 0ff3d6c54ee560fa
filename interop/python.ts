/**
 * Locates the Python Flower releases used as reference implementations by
 * interoperability tests. `scripts/setup.sh` installs each into its own venv:
 *
 * | reference | venv          | pin file                         | speaks                                  |
 * | --------- | ------------- | -------------------------------- | --------------------------------------- |
 * | `"1.29"`  | `.venv/`      | `interop/flwr-version.txt`       | gRPC Fleet, Control, ServerAppIo, ClientAppIo |
 * | `"1.42"`  | `.venv-1.42/` | `interop/flwr-1.42-version.txt`  | HTTP Fleet, Control, Runtime (newest)   |
 * | `"1.39"`  | `.venv-1.39/` | `interop/flwr-1.39-version.txt`  | gRPC Fleet (last such SuperLink/SuperNode), HTTP Control/Runtime |
 *
 * The module-level exports (`pythonPath`, `pythonFlwrAvailable`, `runPython`, …)
 * describe the 1.29 reference, as they always have; {@link pythonFlwr} locates any
 * of them.
 *
 * In CI (`CI=true`) a missing interpreter or a wrong flwr version is an error,
 * so interop tests fail instead of silently skipping: importing this module throws
 * when the 1.29 reference is missing, and {@link pythonFlwr} throws for a missing
 * 1.42 or 1.39 reference. Elsewhere `available`/`problem` let a test file skip with
 * a visible reason.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (the folder holding `interop/`). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

/** A Python flwr release flwr-ts is tested against. */
export type FlwrReference = "1.29" | "1.42" | "1.39";

/** Every reference, in the order `scripts/setup.sh` lists them. */
export const flwrReferences: readonly FlwrReference[] = ["1.29", "1.42", "1.39"];

/** Where a reference lives: its venv, pin file and the variable that overrides its interpreter. */
const layout: Record<FlwrReference, { venv: string; pinFile: string; env: string }> = {
  "1.29": { venv: ".venv", pinFile: "interop/flwr-version.txt", env: "FLWR_PYTHON" },
  "1.42": { venv: ".venv-1.42", pinFile: "interop/flwr-1.42-version.txt", env: "FLWR_PYTHON_1_42" },
  "1.39": { venv: ".venv-1.39", pinFile: "interop/flwr-1.39-version.txt", env: "FLWR_PYTHON_1_39" },
};

/** A located Python flwr reference. */
export interface PythonFlwr {
  /** Which reference this is. */
  readonly reference: FlwrReference;
  /** Interpreter path (`$FLWR_PYTHON[_1_42|_1_39]` or `<venv>/bin/python`). */
  readonly pythonPath: string;
  /** Directory holding the venv's console scripts (`flwr`, `flower-superlink`, …). */
  readonly binDir: string;
  /** The pinned flwr version, read from the reference's pin file (e.g. `"1.42.0"`). */
  readonly version: string;
  /** True when the interpreter imports flwr at exactly {@link version}. */
  readonly available: boolean;
  /** Why it is unavailable, for a skip message; undefined when available. */
  readonly problem: string | undefined;
}

function readPin(ref: FlwrReference): string {
  return readFileSync(join(repoRoot, layout[ref].pinFile), "utf8").trim();
}

function interpreter(ref: FlwrReference): string {
  const { venv, env } = layout[ref];
  return process.env[env] ?? join(repoRoot, venv, "bin/python");
}

function probe(python: string, version: string): string | undefined {
  if (!existsSync(python)) return `no Python interpreter at ${python} (run scripts/setup.sh)`;
  try {
    const v = execFileSync(python, ["-c", "import flwr; print(flwr.__version__)"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    if (v !== version) return `Python flwr is ${v}, expected ${version} (run scripts/setup.sh)`;
    return undefined;
  } catch {
    return `Python flwr is not importable with ${python} (run scripts/setup.sh)`;
  }
}

function locate(ref: FlwrReference): PythonFlwr {
  const python = interpreter(ref);
  const version = readPin(ref);
  const problem = probe(python, version);
  return {
    reference: ref,
    pythonPath: python,
    binDir: dirname(python),
    version,
    available: problem === undefined,
    problem,
  };
}

/** The pinned Python flwr version, from `interop/flwr-version.txt`. */
export const pinnedFlwrVersion = readPin("1.29");

/** Path of the interop Python interpreter (`$FLWR_PYTHON` or `.venv/bin/python`). */
export const pythonPath = interpreter("1.29");

/** Directory holding the venv's console scripts (`flwr`, `flower-superlink`, …). */
export const pythonBinDir = dirname(pythonPath);

const reference129 = locate("1.29");
const problem = reference129.problem;
if (problem && process.env["CI"] === "true") {
  throw new Error(`interop tests need the pinned Python flwr: ${problem}`);
}

/** True when the pinned Python flwr can be run (always true in CI, else this module throws). */
export const pythonFlwrAvailable = problem === undefined;

/** Why Python flwr is unavailable, for a skip message; undefined when it is available. */
export const pythonFlwrProblem = problem;

const located = new Map<FlwrReference, PythonFlwr>([["1.29", reference129]]);

/**
 * Locates a Python flwr reference (probed once per process). In CI (`CI=true`) a
 * missing or wrong-version reference throws, like this module's import does for 1.29.
 * @param ref - `"1.29"` (`.venv/`), `"1.42"` (`.venv-1.42/`) or `"1.39"` (`.venv-1.39/`).
 */
export function pythonFlwr(ref: FlwrReference): PythonFlwr {
  if (!(ref in layout)) throw new Error(`unknown Python flwr reference ${String(ref)}`);
  let found = located.get(ref);
  if (found === undefined) {
    found = locate(ref);
    located.set(ref, found);
  }
  if (found.problem && process.env["CI"] === "true") {
    throw new Error(`interop tests need Python flwr ${found.version}: ${found.problem}`);
  }
  return found;
}

/**
 * Runs a Python script with the pinned flwr and returns its stdout.
 * @param script - Python source passed with `-c`.
 * @param args - extra argv for the script.
 * @param input - optional stdin bytes.
 */
export function runPython(script: string, args: string[] = [], input?: Buffer | string): string {
  return runPythonFlwr("1.29", script, args, input);
}

/**
 * Runs a Python script with a given flwr reference's interpreter and returns its stdout.
 * @param ref - which reference's interpreter runs it.
 * @param script - Python source passed with `-c`.
 * @param args - extra argv for the script.
 * @param input - optional stdin bytes.
 */
export function runPythonFlwr(
  ref: FlwrReference,
  script: string,
  args: string[] = [],
  input?: Buffer | string,
): string {
  const python = ref === "1.29" ? pythonPath : pythonFlwr(ref).pythonPath;
  return execFileSync(python, ["-c", script, ...args], {
    encoding: "utf8",
    input,
    maxBuffer: 1 << 30,
  });
}
