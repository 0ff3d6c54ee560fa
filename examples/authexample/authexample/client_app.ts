/**
 * authexample: a flwr-ts ClientApp — the TypeScript counterpart of the seed's
 * `authexample/client_app.py`. Each SuperNode reads its own partition from the path given in
 * its node config (`--node-config 'dataset-path="datasets/cifar10_part_1"'`); a virtual
 * SuperNode of a simulation (`flwr run . local-simulation`), whose node config has Flower's
 * `partition-id` instead, trains on its partition of the synthetic stand-in
 * (`simulation-partition-size` images, run config).
 */
import {
  ArrayRecord,
  ClientApp,
  ConfigRecord,
  type Context,
  Message,
  MetricRecord,
  RecordDict,
} from "@flwr-ts/core";
import { nonEmptyString, nonNegativeInt, numberIn, positiveInt } from "./config-values.js";
import {
  arraysToNet,
  loadData,
  type NodeData,
  netToArrays,
  newNet,
  simulationData,
  test as testFn,
  train as trainFn,
} from "./task.js";

/** The ClientApp (the `clientapp` component in package.json). */
export const app = new ClientApp();

function arraysOf(msg: Message): ArrayRecord {
  const arrays = msg.content.get("arrays");
  if (!(arrays instanceof ArrayRecord)) {
    throw new TypeError(
      'the message has no ArrayRecord under "arrays"; the ServerApp must send the model as FedAvg does',
    );
  }
  return arrays;
}

function configOf(msg: Message): ConfigRecord {
  const config = msg.content.get("config");
  return config instanceof ConfigRecord ? config : new ConfigRecord();
}

/** The node's data: its prepared partition, or in simulation its synthetic partition. */
function nodeData(context: Context): Promise<NodeData> {
  const config = context.nodeConfig;
  if (config["dataset-path"] === undefined && config["partition-id"] !== undefined) {
    const partitionId = nonNegativeInt(config, "partition-id", "the node config");
    const size = positiveInt(context.runConfig, "simulation-partition-size");
    return Promise.resolve(simulationData(partitionId, size));
  }
  return loadData(nonEmptyString(config, "dataset-path", "the node config"));
}

/** Train the model on local data. */
app.train()(async function train(msg: Message, context: Context): Promise<Message> {
  // Load the model and initialize it with the received weights
  const model = await newNet();
  try {
    arraysToNet(model, arraysOf(msg));

    // Load the data (the node config says where the dataset is located)
    const { train } = await nodeData(context);

    // The learning rate comes with the instruction (the ServerApp's train config),
    // falling back to the run config.
    const config = configOf(msg);
    const learningRate = config.has("lr")
      ? numberIn(config, "lr", 1e-9, 10, "the train config")
      : numberIn(context.runConfig, "learning-rate", 1e-9, 10);

    // Call the training function
    const trainLoss = await trainFn(model, train, {
      epochs: positiveInt(context.runConfig, "local-epochs"),
      learningRate,
      batchSize: positiveInt(context.runConfig, "batch-size"),
    });

    // Construct and return the reply
    const metrics = new MetricRecord({
      train_loss: trainLoss,
      "num-examples": BigInt(train.count),
    });
    const content = new RecordDict({ arrays: netToArrays(model), metrics });
    return new Message(content, { replyTo: msg });
  } finally {
    model.dispose();
  }
});

/** Evaluate the model on local data. */
app.evaluate()(async function evaluate(msg: Message, context: Context): Promise<Message> {
  const model = await newNet();
  try {
    arraysToNet(model, arraysOf(msg));
    const { test } = await nodeData(context);
    const { loss, accuracy } = await testFn(model, test);
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
