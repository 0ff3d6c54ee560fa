/**
 * `flwr run . local-simulation --stream` with real processes (issue #16): the `flwr` CLI starts
 * Flower 1.29's local simulation SuperLink (`flower-superlink --simulation`, on a free
 * `FLWR_LOCAL_CONTROL_API_PORT`), whose SuperExec runs the linear app's ServerApp against 40
 * virtual SuperNodes on the engine's worker threads; the run then shows in `flwr ls`.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { freePort } from "./support/ports.js";
import { cliPath, run } from "./support/processes.js";

const dir = mkdtempSync(join(tmpdir(), "flwr-sim-e2e-"));
const appDir = join(dir, "app");
const home = join(dir, "home");
let env: Record<string, string> = {};

afterAll(() => {
  // The local SuperLink outlives `flwr` by design; stop the one this test started.
  const pidFile = join(home, "local-superlink", "superlink.pid");
  if (existsSync(pidFile)) {
    try {
      process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("flwr run . local-simulation", () => {
  test("runs the ServerApp on 40 virtual SuperNodes and the run shows in flwr ls", async () => {
    cpSync(join(import.meta.dirname, "fixtures", "linear-app"), appDir, { recursive: true });
    const pkgFile = join(appDir, "package.json");
    const pkg = JSON.parse(readFileSync(pkgFile, "utf8"));
    pkg.flwr.federations["local-simulation"] = {
      options: { "num-supernodes": 40, backend: { "client-resources": { "num-cpus": 1 } } },
    };
    writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
    env = { FLWR_HOME: home, FLWR_LOCAL_CONTROL_API_PORT: String(await freePort()) };

    const r = await run(cliPath("flwr"), ["run", ".", "local-simulation", "--stream"], {
      cwd: appDir,
      env,
      timeoutMs: 60_000,
    });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain("Starting local SuperLink on 127.0.0.1:");
    expect(r.output).toContain("🎊 Successfully started run");
    expect(r.output).toMatch(/Simulation Engine: 40 virtual SuperNodes, \d+ ClientApp worker/);
    expect(r.output).toContain("configure_train: Sampled 40 nodes (out of 40)");
    expect(r.output).toContain("Simulation: 40/40 ClientApps done (0 failed)");
    expect(r.output).toContain("aggregate_train: Received 40 results and 0 failures");
    const runId = /Successfully started run (\d+)/.exec(r.output)![1]!;

    const ls = await run(cliPath("flwr"), ["ls", ".", "local-simulation", "--format", "json"], {
      cwd: appDir,
      env,
    });
    expect(ls.code, ls.output).toBe(0);
    const listed = JSON.parse(ls.output.slice(ls.output.indexOf("{")));
    const row = listed.runs.find((x: { "run-id": string }) => x["run-id"] === runId);
    expect(row?.status).toBe("finished:completed");
  }, 90_000);
});
