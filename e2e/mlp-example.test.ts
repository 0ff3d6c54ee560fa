/**
 * examples/mlp-example end to end with real processes (TLS + SuperNode auth, two SuperNodes,
 * our `flwr` CLI): an MLP built as a plain `tf.sequential` is federated with @flwr-ts/ml's
 * generic path (`modelToArrayRecord`, `trainModelAsync`, `testModelAsync`) for 3 FedAvg rounds on
 * the example's generated tabular data. Asserts that the run completes and that the model learned:
 * round-1 accuracy well above chance (0.25), final round ≥ 0.85. Needs `pnpm build` first.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Deployment, startDeployment } from "./fixtures/deployment.js";
import { stopAll } from "./support/processes.js";

const exampleDir = join(import.meta.dirname, "..", "examples", "mlp-example");
let d: Deployment;
let appCopy: string;

beforeAll(async () => {
  // The app without its node_modules (pnpm's relative links would not survive a copy); the
  // processes run in the example's directory, where @flwr-ts/ml resolves.
  appCopy = mkdtempSync(join(tmpdir(), "flwr-ts-mlp-example-"));
  cpSync(exampleDir, appCopy, {
    recursive: true,
    filter: (src) => !src.includes("node_modules"),
  });
  d = await startDeployment({
    app: appCopy,
    cwd: exampleDir,
    env: { FLWR_TRAIN_WORKERS: "1", FLWR_TFJS_BACKEND: "wasm" },
  });
}, 120_000);

afterAll(async () => {
  await d?.stop();
  await stopAll();
  if (appCopy) rmSync(appCopy, { recursive: true, force: true });
});

describe("examples/mlp-example on a flwr-ts deployment", () => {
  test("3 FedAvg rounds of a generic tf.LayersModel complete and the model learns", async () => {
    const r = await d.flwr(["run", d.appDir, "my-federation", "--stream"], 240_000);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/aggregate_train: Received 2 results and 0 failures/);
    expect(r.output).toMatch(/aggregate_evaluate: Received 2 results and 0 failures/);
    const acc = [1, 2, 3].map((round) => {
      const m = new RegExp(`mlp-example round ${round}/3: .*eval_acc=([\\d.]+)`).exec(r.output);
      expect(m, r.output.slice(-3000)).not.toBeNull();
      return Number(m?.[1]);
    });
    console.log(`mlp-example accuracies per round: ${acc.join(", ")}`);
    expect(acc[0]).toBeGreaterThan(0.5);
    expect(acc[2]).toBeGreaterThanOrEqual(0.85);
  }, 240_000);
});
