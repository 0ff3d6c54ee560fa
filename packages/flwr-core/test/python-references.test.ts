/**
 * `interop/python.ts` locates every Python flwr reference `scripts/setup.sh`
 * installs (1.29 in `.venv/`, 1.42 in `.venv-1.42/`, 1.39 in `.venv-1.39/`); the
 * old 1.29 exports agree with `pythonFlwr("1.29")`.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  flwrReferences,
  pinnedFlwrVersion,
  pythonBinDir,
  pythonFlwr,
  pythonFlwrAvailable,
  pythonFlwrProblem,
  pythonPath,
  repoRoot,
  runPythonFlwr,
} from "../../../interop/python.js";

describe("Python flwr references", () => {
  it("keeps the 1.29 exports equal to pythonFlwr('1.29')", () => {
    const ref = pythonFlwr("1.29");
    expect(ref.version).toBe(pinnedFlwrVersion);
    expect(ref.pythonPath).toBe(pythonPath);
    expect(ref.binDir).toBe(pythonBinDir);
    expect(ref.available).toBe(pythonFlwrAvailable);
    expect(ref.problem).toBe(pythonFlwrProblem);
    expect(pinnedFlwrVersion).toBe(
      readFileSync(join(repoRoot, "interop/flwr-version.txt"), "utf8").trim(),
    );
  });

  it("reads each version from its pin file", () => {
    expect(pythonFlwr("1.42").version).toBe("1.42.0");
    expect(pythonFlwr("1.39").version).toBe("1.39.0");
    expect(flwrReferences).toEqual(["1.29", "1.42", "1.39"]);
  });

  for (const name of flwrReferences) {
    const ref = pythonFlwr(name);
    it.skipIf(!ref.available)(
      `runs flwr ${ref.version} from ${ref.binDir}${ref.problem ? ` (skipped: ${ref.problem})` : ""}`,
      () => {
        expect(runPythonFlwr(name, "import flwr; print(flwr.__version__)").trim()).toBe(
          ref.version,
        );
        expect(existsSync(join(ref.binDir, "flower-superlink"))).toBe(true);
        expect(existsSync(join(ref.binDir, "flwr"))).toBe(true);
      },
    );
  }
});
