/**
 * `pnpm demo` end to end, as a real process: certificates, keys, the synthetic dataset, a
 * SuperLink with TLS and SuperNode authentication, registration, two SuperNodes and
 * `flwr run --stream` for 3 rounds, with the demo's defaults (10,000 synthetic images, learning
 * rate 0.01). Asserts that it completes, that training converged as the demo promises (final
 * accuracy ≥ 0.9 and no round more than 0.1 below the one before; `bench/demo-convergence.ts`
 * shows flwr-ml and PyTorch meeting it on the same partitions), that the chart was written, and
 * that no process it started is left. Needs `pnpm build` first (it runs the built CLIs).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../interop/python.js";

const appDir = join(repoRoot, "examples", "authexample");

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "0.0.0.0", () => server.close(() => resolve(true)));
  });
}

/** A base port p with p..p+4 free (the demo checks again and fails clearly if one is taken). */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 6_000) * 6;
    const free = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => portFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error("no 6 consecutive free ports found");
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

interface DemoRun {
  code: number | null;
  output: string;
}

function runDemo(args: string[], timeoutMs: number): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(repoRoot, "scripts", "demo.ts"), ...args],
      { cwd: repoRoot, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      output += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGINT");
      reject(
        new Error(`the demo did not finish within ${timeoutMs / 1000} s:\n${output.slice(-4000)}`),
      );
    }, timeoutMs);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe("pnpm demo", () => {
  it("runs the authentication example end to end on synthetic data and cleans up", async () => {
    const basePort = await freeBasePort();
    const { code, output } = await runDemo(
      ["--synthetic", "--datasets", ".demo/datasets", "--base-port", String(basePort)],
      280_000,
    );
    const context = `\n--- demo output (tail) ---\n${output.slice(-6000)}`;
    expect(code, context).toBe(0);

    // Every step of the seed ran: TLS + auth SuperLink, both registrations, both online.
    expect(output).toContain("--enable-supernode-auth");
    expect(output.match(/registered successfully/g)?.length, context).toBe(2);
    expect(output.match(/│ online /g)?.length ?? 0, context).toBeGreaterThanOrEqual(2);
    expect(output).toContain("SYNTHETIC");

    // Per-round metrics were streamed, and the model learned.
    const accuracies = [1, 2, 3].map((round) =>
      Number(output.match(new RegExp(`round ${round}: .*eval_acc ([0-9.]+)`))?.[1]),
    );
    for (const [i, acc] of accuracies.entries()) {
      expect(acc, `round ${i + 1}${context}`).toBeGreaterThan(0);
      if (i > 0)
        expect(acc, `round ${i + 1}${context}`).toBeGreaterThanOrEqual(accuracies[i - 1]! - 0.1);
    }
    const acc = Number(output.match(/final accuracy: ([0-9.]+) after 3 rounds/)?.[1]);
    expect(acc, context).toBe(accuracies[2]);
    expect(acc, context).toBeGreaterThanOrEqual(0.9);

    // The chart and the final model exist.
    const chart = output.match(/\[demo\] chart: (.+)/)?.[1]?.trim();
    const model = output.match(/\[demo\] final model: (.+)/)?.[1]?.trim();
    expect(chart, context).toBeDefined();
    const chartPath = join(repoRoot, chart!);
    expect(existsSync(chartPath)).toBe(true);
    expect(readFileSync(chartPath, "utf8")).toContain("<svg");
    expect(existsSync(join(repoRoot, model!))).toBe(true);

    // No process it started is left: each child ran in its own process group.
    const groups = output.match(/all processes stopped \(process groups ([\d ]+)\)/)?.[1];
    expect(groups, context).toBeDefined();
    const pgids = groups!.trim().split(/\s+/).map(Number);
    expect(pgids.length).toBeGreaterThanOrEqual(3);
    for (const m of output.matchAll(/started \(pid (\d+)\)/g))
      expect(pgids).toContain(Number(m[1]));
    for (const pgid of pgids) expect(groupAlive(pgid), `process group ${pgid}`).toBe(false);

    // The demo state is gone without --keep; the run's outputs are removed by this test.
    expect(existsSync(join(appDir, ".demo"))).toBe(false);
    rmSync(dirname(chartPath), { recursive: true, force: true });
  }, 300_000);
});
