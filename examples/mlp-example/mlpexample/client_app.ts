/**
 * The MLP example's ClientApp: trains and evaluates the MLP on this node's
 * generated data (chosen by the node config's `partition-id`).
 */
import {
  ArrayRecord,
  ClientApp,
  type Context,
  Message,
  MetricRecord,
  RecordDict,
} from "@flwr-ts/core";
import { testModelAsync, trainModelAsync } from "@flwr-ts/ml";
import { arraysToModel, modelToArrays, newModel, nodeData } from "./task.js";

/** The ClientApp (the `clientapp` component in package.json). */
export const app = new ClientApp();

function arraysOf(msg: Message): ArrayRecord {
  const arrays = msg.content.get("arrays");
  if (!(arrays instanceof ArrayRecord))
    throw new TypeError('the message has no ArrayRecord under "arrays"');
  return arrays;
}

function intOf(record: Record<string, unknown>, key: string, fallback?: number): number {
  const v = record[key] ?? fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`${key} must be a non-negative integer, got ${String(v)}`);
  return n;
}

function dataOf(context: Context) {
  const partition = intOf(context.nodeConfig as Record<string, unknown>, "partition-id", 0);
  const count = intOf(context.runConfig as Record<string, unknown>, "examples-per-node");
  return nodeData(partition, count);
}

app.train()(async (msg: Message, context: Context) => {
  const model = await newModel();
  try {
    arraysToModel(model, arraysOf(msg));
    const { train } = dataOf(context);
    const config = context.runConfig as Record<string, unknown>;
    const loss = await trainModelAsync(model, train, {
      epochs: intOf(config, "local-epochs"),
      learningRate: Number(config["learning-rate"]),
      momentum: 0.9,
      batchSize: intOf(config, "batch-size"),
      progressBar: false,
    });
    const metrics = new MetricRecord({ train_loss: loss, "num-examples": BigInt(train.count) });
    return new Message(new RecordDict({ arrays: modelToArrays(model), metrics }), { replyTo: msg });
  } finally {
    model.dispose();
  }
});

app.evaluate()(async (msg: Message, context: Context) => {
  const model = await newModel();
  try {
    arraysToModel(model, arraysOf(msg));
    const { test } = dataOf(context);
    const { loss, accuracy } = await testModelAsync(model, test, { progressBar: false });
    const metrics = new MetricRecord({
      eval_loss: loss,
      eval_acc: accuracy,
      "num-examples": BigInt(test.count),
    });
    return new Message(new RecordDict({ metrics }), { replyTo: msg });
  } finally {
    model.dispose();
  }
});
