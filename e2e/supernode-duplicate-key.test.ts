/**
 * A second SuperNode started with an online node's key (issue #13, item 2), with real processes
 * (TLS + SuperNode authentication + SQLite): it is refused while the first is online and exits 1
 * with one line, no stack trace; the first keeps its session and receives every instruction
 * (none go to the duplicate) through a whole run; a SIGKILLed SuperNode restarted at once with
 * its key still re-activates fast, with the same node id. Measured times are printed.
 */
import { afterEach, describe, expect, test } from "vitest";
import { type Deployment, startDeployment } from "./fixtures/deployment.js";
import { stopAll } from "./support/processes.js";

const nodeIdOf = (output: string) => /SuperNode ID: (\d+)/.exec(output)?.[1];

/** Lines of a stack trace (`    at fn (file:line:col)`) or gRPC's error dump. */
const STACK_LINE = /^\s+at \S|^\s*code: \d+,|^\s*metadata: Metadata/m;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a second SuperNode with an online node's key", () => {
  let d: Deployment | undefined;

  afterEach(async () => {
    await d?.stop();
    await stopAll();
    d = undefined;
  });

  test("is refused with one line while the first is online; the first keeps every instruction", async () => {
    d = await startDeployment({ sqlite: true });
    const first = d.supernodes[0]!;
    const nodeId = nodeIdOf(first.output());
    expect(nodeId).toBeDefined();
    const rounds = 6;
    const run = d.flwrStart([
      "run",
      d.appDir,
      "my-federation",
      "--run-config",
      `num-server-rounds=${rounds} round-delay-ms=300`,
      "--stream",
    ]);
    await run.waitFor("aggregate_train: Received 2 results", 90_000);

    const t0 = performance.now();
    const duplicate = await d.startSupernode(0);
    const code = await Promise.race([duplicate.exited(), sleep(30_000).then(() => "running")]);
    const refusedAfter = performance.now() - t0;
    const out = duplicate.output();
    console.log(
      `duplicate SuperNode: exited ${code} ${refusedAfter.toFixed(0)} ms after its start; its output:\n${out}`,
    );
    expect(code).toBe(1);
    const lines = out.split("\n").filter((l) => l.trim() !== "");
    const refusal = lines.filter((l) => l.includes("another SuperNode with this key is online"));
    expect(refusal).toHaveLength(1);
    expect(refusal[0]).toContain(`(node id ${nodeId}); stop it first`);
    expect(out).not.toMatch(STACK_LINE);
    expect(out).not.toMatch(/SuperNode ID/);

    // The first is undisturbed: every round of the run gets both replies.
    const runCode = await Promise.race([run.exited(), sleep(120_000).then(() => "running")]);
    expect(runCode).toBe(0);
    const trained = run.output().match(/aggregate_train: Received 2 results and 0 failures/g);
    const evaluated = run.output().match(/aggregate_evaluate: Received 2 results and 0 failures/g);
    expect(trained).toHaveLength(rounds);
    expect(evaluated).toHaveLength(rounds);
    expect(first.child.exitCode).toBeNull();
    expect(first.output()).not.toMatch(/no longer recognizes|activating again/);
    const list = await d.flwr(["supernode", "list", d.appDir, "my-federation", "--format", "json"]);
    const doc = JSON.parse(list.output) as { nodes: { "node-id": string; status: string }[] };
    expect(doc.nodes.find((n) => n["node-id"] === nodeId)?.status).toBe("online");
  }, 240_000);

  test("a SIGKILLed SuperNode restarted at once still re-activates fast, same node id", async () => {
    d = await startDeployment({ sqlite: true });
    const killed = d.supernodes[0]!;
    const nodeId = nodeIdOf(killed.output());
    const t0 = performance.now();
    killed.child.kill("SIGKILL");
    await killed.exited();
    const restarted = await d.startSupernode(0);
    await restarted.waitFor("SuperNode ID", 30_000);
    const activeAfter = performance.now() - t0;
    console.log(
      `SIGKILL + immediate restart: active again ${activeAfter.toFixed(0)} ms after the SIGKILL`,
    );
    expect(nodeIdOf(restarted.output())).toBe(nodeId);
    expect(restarted.output()).not.toMatch(/another SuperNode|could not be activated/);
    expect(activeAfter).toBeLessThan(10_000);
    // And it works: a run gets both replies.
    const r = await d.flwr(
      ["run", d.appDir, "my-federation", "--run-config", "num-server-rounds=1", "--stream"],
      120_000,
    );
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/aggregate_train: Received 2 results and 0 failures/);
  }, 240_000);
});
