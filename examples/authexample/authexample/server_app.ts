/**
 * authexample: a flwr-ts ServerApp — the TypeScript counterpart of the seed's
 * `authexample/server_app.py`: FedAvg (or the strategy the run config's `strategy` names,
 * `strategy-choice.ts`) over the connected SuperNodes, then the final model is
 * saved to `outputs/run-<run id>/final_model.npz` (with `metrics.json`) under the working
 * directory of the SuperLink that runs it.
 */
import { join } from "node:path";
import { ConfigRecord, type Context, consoleLogger, type Grid, ServerApp } from "@flwr-ts/core";
import { numberIn, positiveInt } from "./config-values.js";
import { runMetrics, saveFinalModel } from "./final-model.js";
import { chooseStrategy } from "./strategy-choice.js";
import { netToArrays, newNet } from "./task.js";

/** The ServerApp (the `serverapp` component in package.json). */
export const app = new ServerApp();

/** Where the ServerApp of run `runId` saves its results, relative to its working directory. */
export function outputDir(runId: bigint): string {
  return join("outputs", `run-${runId}`);
}

app.main()(async function main(grid: Grid, context: Context): Promise<void> {
  // Read run config
  const fractionEvaluate = numberIn(context.runConfig, "fraction-evaluate", 0, 1);
  const numRounds = positiveInt(context.runConfig, "num-server-rounds");
  const learningRate = numberIn(context.runConfig, "learning-rate", 1e-9, 10);

  // Load global model
  const globalModel = await newNet();
  const arrays = netToArrays(globalModel);
  globalModel.dispose();

  // Initialize the strategy (FedAvg unless the run config's "strategy" names another)
  const nodes = (await grid.getNodeIds()).length;
  // (the DP wrappers calibrate their noise for the nodes sampled per round: all, at least 2)
  const strategy = chooseStrategy(context.runConfig, { fractionEvaluate }, Math.max(nodes, 2));

  // Start strategy, run FedAvg for `numRounds`
  const result = await strategy.start({
    grid,
    initialArrays: arrays,
    trainConfig: new ConfigRecord({ lr: learningRate }),
    numRounds,
  });

  // Per-round summary, then save the final model to disk
  const metrics = runMetrics(context.runId, result, numRounds);
  for (const r of metrics.rounds) {
    const parts = [`round ${r.round}/${numRounds}:`];
    for (const [key, value] of [
      ["train_loss", r.train?.["train_loss"]],
      ["eval_loss", r.evaluate?.["eval_loss"]],
      ["eval_acc", r.evaluate?.["eval_acc"]],
    ] as const) {
      if (typeof value === "number") parts.push(`${key}=${value.toFixed(4)}`);
      else if (value === null) parts.push(`${key}=NaN`);
    }
    consoleLogger.log("INFO", parts.join(" "));
  }
  consoleLogger.log("INFO", "Saving final model to disk...");
  const saved = saveFinalModel(outputDir(context.runId), result.arrays, metrics);
  consoleLogger.log("INFO", `Final model saved to ${saved.model}`);
  consoleLogger.log("INFO", `Metrics saved to ${saved.metrics}`);
});
