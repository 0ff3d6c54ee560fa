/**
 * The MLP example's ServerApp: FedAvg of the MLP over the connected
 * SuperNodes, every node evaluating every round; logs one line per round.
 */
import { type Context, FedAvg, type Grid, ServerApp } from "@flwr-ts/core";
import { modelToArrays, newModel } from "./task.js";

/** The ServerApp (the `serverapp` component in package.json). */
export const app = new ServerApp();

app.main()(async (grid: Grid, context: Context) => {
  const numRounds = Number(context.runConfig["num-server-rounds"]);
  if (!Number.isInteger(numRounds) || numRounds < 1)
    throw new RangeError("num-server-rounds must be ≥ 1");
  const model = await newModel();
  const initialArrays = modelToArrays(model);
  model.dispose();
  const strategy = new FedAvg({ fractionEvaluate: 1.0 });
  const result = await strategy.start({ grid, initialArrays, numRounds });
  for (let round = 1; round <= numRounds; round++) {
    const train = result.trainMetricsClientapp.get(round);
    const evaluate = result.evaluateMetricsClientapp.get(round);
    const fmt = (v: unknown) => (typeof v === "number" ? v.toFixed(4) : String(v));
    console.log(
      `mlp-example round ${round}/${numRounds}: train_loss=${fmt(train?.get("train_loss"))} eval_loss=${fmt(evaluate?.get("eval_loss"))} eval_acc=${fmt(evaluate?.get("eval_acc"))}`,
    );
  }
});
