/**
 * Runs end to end with real processes, TLS and SuperNode authentication: a flwr-ts SuperLink and
 * two registered SuperNodes (each with its SuperExec), our `flwr` CLI, the linear-regression
 * fixture app (TypeScript, loaded from the FAB without a build step).
 *
 * - `flwr run --stream` completes 3 FedAvg rounds and streams every round's log lines;
 * - `flwr ls` shows `finished:completed`, `flwr log --show` replays the logs;
 * - an unknown `--run-config` key is refused with Flower's message;
 * - `flwr stop` on a long run gives `finished:stopped`;
 * - SIGKILL of the `flwr-serverapp` process gives `finished:failed`;
 * - an app made by `flwr new` runs as generated.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Deployment, startDeployment } from "./fixtures/deployment.js";
import { stopAll } from "./support/processes.js";

let d: Deployment;

interface RunJson {
  "run-id": string;
  status: string;
}

async function runStatus(runId: string): Promise<string> {
  const r = await d.flwr(["ls", d.appDir, "my-federation", "--run-id", runId, "--format", "json"]);
  expect(r.code, r.output).toBe(0);
  const doc = JSON.parse(r.output) as { runs: RunJson[] };
  return doc.runs.find((x) => x["run-id"] === runId)?.status ?? "";
}

async function waitForStatus(runId: string, want: RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let seen = "";
  while (Date.now() < deadline) {
    seen = await runStatus(runId);
    if (want.test(seen)) return seen;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`run ${runId} stayed '${seen}', expected ${want}`);
}

async function startRun(config: string): Promise<string> {
  const r = await d.flwr([
    "run",
    d.appDir,
    "my-federation",
    "--run-config",
    config,
    "--format",
    "json",
  ]);
  expect(r.code, r.output).toBe(0);
  return (JSON.parse(r.output) as { "run-id": string })["run-id"];
}

beforeAll(async () => {
  d = await startDeployment();
}, 120_000);

afterAll(async () => {
  await d?.stop();
  await stopAll();
});

describe("flwr run on a flwr-ts deployment (TLS + SuperNode auth)", () => {
  let completedRun = "";

  test("flwr run --stream completes 3 rounds and streams each round", async () => {
    const r = await d.flwr(["run", d.appDir, "my-federation", "--stream"], 180_000);
    expect(r.code, r.output).toBe(0);
    const id = /Successfully started run (\d+)/.exec(r.output)?.[1];
    expect(id, r.output).toBeDefined();
    completedRun = id!;
    for (const round of [1, 2, 3]) expect(r.output).toContain(`[ROUND ${round}/3]`);
    expect(r.output).toMatch(/aggregate_train: Received 2 results and 0 failures/);
    expect(r.output).toMatch(/aggregate_evaluate: Received 2 results and 0 failures/);
    expect(r.output).toMatch(/final model: w=\[/);
    // The model learned y = 2·x1 − 3·x2 + 0.5 roughly.
    const w = /final model: w=\[([-\d.]+), ([-\d.]+)\]/.exec(r.output)!;
    expect(Number(w[1])).toBeGreaterThan(1);
    expect(Number(w[2])).toBeLessThan(-1.5);
  }, 180_000);

  test("flwr ls shows finished:completed; flwr log --show replays the logs", async () => {
    expect(await runStatus(completedRun)).toBe("finished:completed");
    const table = await d.flwr(["ls", d.appDir, "my-federation"]);
    expect(table.code, table.output).toBe(0);
    expect(table.output).toContain("Run ID");
    expect(table.output).toContain("@flwrts/linear-app==1.0.0");
    expect(table.output).toContain("finished:completed");
    const log = await d.flwr(["log", completedRun, d.appDir, "my-federation", "--show"]);
    expect(log.code, log.output).toBe(0);
    expect(log.output).toContain("[ROUND 3/3]");
  }, 60_000);

  test("an unknown --run-config key is refused as Flower does", async () => {
    const r = await d.flwr(["run", d.appDir, "my-federation", "--run-config", "no-such-key=1"]);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain("Key 'no-such-key' is not present in the main dictionary");
  }, 60_000);

  test("flwr stop on a long run gives finished:stopped", async () => {
    const runId = await startRun("num-server-rounds=1000 round-delay-ms=300");
    await waitForStatus(runId, /^running$/);
    const r = await d.flwr(["stop", runId, d.appDir, "my-federation"]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain(`Run ${runId} successfully stopped`);
    expect(await waitForStatus(runId, /^finished/)).toBe("finished:stopped");
    const again = await d.flwr(["stop", runId, d.appDir, "my-federation"]);
    expect(again.code).not.toBe(0);
    expect(again.output).toContain("already finished");
  }, 120_000);

  test("killing the flwr-serverapp process fails the run", async () => {
    const runId = await startRun("num-server-rounds=1000 round-delay-ms=300");
    await waitForStatus(runId, /^running$/);
    const pids = execFileSync("pgrep", [
      "-f",
      `flwr-serverapp.js.*127.0.0.1:${d.ports.serverappio}`,
    ])
      .toString()
      .trim()
      .split("\n")
      .map(Number);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, "SIGKILL");
    expect(await waitForStatus(runId, /^finished/, 90_000)).toBe("finished:failed");
  }, 120_000);

  test("an app made by flwr new runs as generated", async () => {
    const made = await d.flwr(["new", "fresh-app", "--directory", d.dir]);
    expect(made.code, made.output).toBe(0);
    const appDir = join(d.dir, "fresh-app");
    const pkgFile = join(appDir, "package.json");
    const pkg = JSON.parse(readFileSync(pkgFile, "utf8"));
    expect(pkg.flwr.app.components).toEqual({
      serverapp: "server_app.ts:app",
      clientapp: "client_app.ts:app",
    });
    // What its README's commands need is declared: the app's runtime and the CLI tools.
    expect(Object.keys(pkg.dependencies)).toEqual(["@flwr-ts/core"]);
    expect(Object.keys(pkg.devDependencies)).toEqual(["@flwr-ts/transport"]);
    const readme = readFileSync(join(appDir, "README.md"), "utf8");
    for (const bin of ["flower-superlink", "flower-supernode", "flwr run"])
      expect(readme).toContain(`npx ${bin}`);
    // Point its federation at this deployment (the generated one targets 127.0.0.1:9093, insecure).
    const ours = JSON.parse(readFileSync(join(d.appDir, "package.json"), "utf8"));
    pkg.flwr.federations = ours.flwr.federations;
    writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
    const r = await d.flwr(["run", appDir, "my-federation", "--stream"], 180_000);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain("[ROUND 3/3]");
    expect(r.output).toMatch(/aggregate_train: Received 2 results and 0 failures/);
  }, 180_000);
});
