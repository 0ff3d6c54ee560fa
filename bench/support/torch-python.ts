/**
 * Finds a Python interpreter with `torch` for the benchmarks that compare with PyTorch:
 * `TORCH_PYTHON`, else `/tmp/torch-venv/bin/python`, else the repository's `.venv`.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The first candidate interpreter that imports torch, or undefined when none does. */
export function findTorchPython(): string | undefined {
  const candidates = [
    process.env.TORCH_PYTHON,
    "/tmp/torch-venv/bin/python",
    join(repoRoot, ".venv", "bin", "python"),
  ];
  for (const py of candidates) {
    if (!py || !existsSync(py)) continue;
    const r = spawnSync(py, ["-c", "import torch"], { stdio: "ignore" });
    if (r.status === 0) return py;
  }
  return undefined;
}
