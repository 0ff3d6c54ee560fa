/**
 * Training and evaluation of any tfjs `LayersModel` as a classifier with
 * integer labels: softmax cross-entropy (on logits, or on probabilities for a
 * model ending in softmax) and PyTorch's SGD with momentum, the seed's
 * optimiser, whatever the model was compiled with (its compiled optimizer and
 * loss are not used, so every round starts with fresh momentum as the seed's
 * clients do). In-process: generic models do not use the worker threads yet
 * (`workers` is accepted and validated, training runs on one thread).
 */
import * as tf from "@tensorflow/tfjs";
import { BatchBuilder, permutation } from "../dataset.js";
import type { TestResult } from "../evaluate.js";
import { resolveWorkers } from "../parallel/data-parallel.js";
import { ProgressBar } from "../progress.js";
import { SgdMomentumOptimizer } from "../sgd-momentum.js";
import { plan, type TrainOptions } from "../train.js";
import { positiveInt, TrainingOptionsError } from "../training-options.js";
import { flatDataset, type ModelDataset } from "./model-dataset.js";
import { type ModelOutput, meanLoss, modelOutputOf, summedLoss } from "./model-loss.js";

/** Options of {@link trainModel}: those of `train` plus what the model outputs. */
export interface ModelTrainOptions extends TrainOptions {
  /** `auto` (default: probabilities when the output layer is a softmax), `logits` or `probabilities`. */
  output?: ModelOutput | "auto";
}

/** Options of {@link testModel}. */
export interface ModelTestOptions {
  /** Examples per forward pass; default 256. */
  batchSize?: number;
  /** Draw a progress bar on stderr when it is a TTY (default true). */
  progressBar?: boolean;
  /** Validated as for `test`; generic models evaluate in-process. */
  workers?: number;
  /** As {@link ModelTrainOptions.output}. */
  output?: ModelOutput | "auto";
}

function checkModel(model: tf.LayersModel): void {
  if (!(model instanceof tf.LayersModel)) {
    throw new TrainingOptionsError(
      "expected a tf.LayersModel (tf.sequential, tf.model or tf.loadLayersModel)",
    );
  }
}

function* trainSteps(
  model: tf.LayersModel,
  data: ModelDataset,
  options: ModelTrainOptions,
): Generator<void, number, void> {
  checkModel(model);
  const kind = modelOutputOf(model, options.output);
  const { flat, exampleShape } = flatDataset(data);
  const p = plan(flat, { ...options, workers: 1 });
  if (options.workers !== undefined) resolveWorkers(options.workers);
  const builder = new BatchBuilder(flat, p.batchSize);
  const optimizer = new SgdMomentumOptimizer(p.learningRate, p.momentum);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  if (variables.length === 0) throw new TrainingOptionsError("the model has no trainable weights");
  try {
    for (let epoch = 1; epoch <= p.epochs; epoch++) {
      const order = options.shuffle === false ? undefined : permutation(flat.count, p.random);
      for (let start = 0; start < flat.count; start += p.batchSize) {
        const n = Math.min(p.batchSize, flat.count - start);
        const batch = builder.fill(start, n, order);
        const loss = tf.tidy(() => {
          const x = tf.tensor(batch.x, [n, ...exampleShape], "float32");
          const y = tf.tensor1d(batch.y, "int32");
          return optimizer.minimize(
            () => meanLoss(model.apply(x, { training: true }) as tf.Tensor, y, kind),
            true,
            variables,
          ) as tf.Scalar;
        });
        const value = loss.dataSync()[0] as number;
        loss.dispose();
        p.reporter.step(value);
        yield;
      }
    }
  } finally {
    optimizer.dispose();
  }
  return p.reporter.mean();
}

async function drive<T>(steps: Generator<void, T, void>, every: number): Promise<T> {
  let last = performance.now();
  let r = steps.next();
  while (!r.done) {
    if (performance.now() - last >= every) {
      await new Promise((resolve) => setImmediate(resolve));
      last = performance.now();
    }
    r = steps.next();
  }
  return r.value;
}

function runAll<T>(steps: Generator<void, T, void>): T {
  let r = steps.next();
  while (!r.done) r = steps.next();
  return r.value;
}

/**
 * Trains `model` in place on `data` (dropout and batch-norm in training mode,
 * batch-norm statistics updated); returns the mean training loss over all
 * steps. Synchronous: see {@link trainModelAsync}.
 */
export function trainModel(
  model: tf.LayersModel,
  data: ModelDataset,
  options: ModelTrainOptions,
): number {
  return runAll(trainSteps(model, data, options));
}

/** {@link trainModel}, yielding to the event loop about every `yieldEveryMs` (default 50 ms). */
export function trainModelAsync(
  model: tf.LayersModel,
  data: ModelDataset,
  options: ModelTrainOptions & { yieldEveryMs?: number },
): Promise<number> {
  return drive(trainSteps(model, data, options), options.yieldEveryMs ?? 50);
}

function* testSteps(
  model: tf.LayersModel,
  data: ModelDataset,
  options: ModelTestOptions,
): Generator<void, TestResult, void> {
  checkModel(model);
  const kind = modelOutputOf(model, options.output);
  const { flat, exampleShape } = flatDataset(data);
  const batchSize = positiveInt("batchSize", options.batchSize ?? 256);
  if (options.workers !== undefined) resolveWorkers(options.workers);
  // Validation as for training (sizes, labels); the plan itself is not used.
  plan(flat, { epochs: 1, learningRate: 1, batchSize, workers: 1, progressBar: false });
  const builder = new BatchBuilder(flat, batchSize);
  const bar = options.progressBar === false ? undefined : new ProgressBar("evaluate", flat.count);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < flat.count; start += batchSize) {
    const n = Math.min(batchSize, flat.count - start);
    const batch = builder.fill(start, n);
    const r = tf.tidy(() => {
      const out = model.apply(tf.tensor(batch.x, [n, ...exampleShape], "float32"), {
        training: false,
      }) as tf.Tensor;
      const y = tf.tensor1d(batch.y, "int32");
      const loss = summedLoss(out, y, kind);
      const ok = tf.equal(tf.argMax(out, 1), y).cast("float32").sum();
      return { loss: loss.dataSync()[0] as number, ok: ok.dataSync()[0] as number };
    });
    lossSum += r.loss;
    correct += r.ok;
    bar?.update(start + n);
    yield;
  }
  bar?.finish(flat.count, `accuracy ${(correct / flat.count).toFixed(4)}`);
  return { loss: lossSum / flat.count, accuracy: correct / flat.count, count: flat.count };
}

/** Evaluates `model` on `data`: mean cross-entropy per example and accuracy (arg-max). */
export function testModel(
  model: tf.LayersModel,
  data: ModelDataset,
  options: ModelTestOptions = {},
): TestResult {
  return runAll(testSteps(model, data, options));
}

/** {@link testModel}, yielding to the event loop about every `yieldEveryMs` (default 50 ms). */
export function testModelAsync(
  model: tf.LayersModel,
  data: ModelDataset,
  options: ModelTestOptions & { yieldEveryMs?: number } = {},
): Promise<TestResult> {
  return drive(testSteps(model, data, options), options.yieldEveryMs ?? 50);
}
