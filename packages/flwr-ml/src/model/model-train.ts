/**
 * Training and evaluation of any tfjs `LayersModel` as a classifier with
 * integer labels: softmax cross-entropy (on logits, or on probabilities for a
 * model ending in softmax) and PyTorch's SGD with momentum, the seed's
 * optimiser, whatever the model was compiled with (its compiled optimizer and
 * loss are not used, so every round starts with fresh momentum as the seed's
 * clients do). With more than one worker (wasm/cpu) the model is rebuilt in
 * each worker thread from `model.toJSON()` and trained data-parallel as the Net.
 */

import { BatchBuilder, permutation } from "../dataset.js";
import type { TestResult } from "../evaluate.js";
import {
  evaluateParallel,
  evaluateParallelAsync,
  type ParallelSource,
  resolveWorkers,
  trainParallel,
  trainParallelAsync,
} from "../parallel/data-parallel.js";
import { ProgressBar } from "../progress.js";
import { SgdMomentumOptimizer } from "../sgd-momentum.js";
import * as tf from "../tf.js";
import { allOrders, type Plan, plan, type TrainOptions } from "../train.js";
import { positiveInt, TrainingOptionsError } from "../training-options.js";
import { readModelFlat, writeModelFlat } from "./model-array-record.js";
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
  /** Worker threads sharing the examples, as for `test`. */
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
  const parallel = parallelPlan(model, data, options);
  if (parallel) {
    trainParallel(parallel.source, parallel.flat, parallel.settings);
    return parallel.plan.reporter.mean();
  }
  return runAll(trainSteps(model, data, options));
}

/** The data-parallel set-up when more than one worker is to train, else undefined. */
function parallelPlan(model: tf.LayersModel, data: ModelDataset, options: ModelTrainOptions) {
  checkModel(model);
  const workers = resolveWorkers(options.workers);
  if (workers <= 1) return undefined;
  const kind = modelOutputOf(model, options.output);
  const { flat, exampleShape } = flatDataset(data);
  const p: Plan = plan(flat, options);
  const source = modelSource(model, kind, exampleShape);
  const settings = {
    workers: p.workers,
    epochs: p.epochs,
    batchSize: p.batchSize,
    learningRate: p.learningRate,
    momentum: p.momentum,
    orders: allOrders(p, flat.count, options.shuffle !== false),
    onStep: (loss: number) => p.reporter.step(loss),
  };
  return { source, flat, settings, plan: p };
}

/** The model as the workers take it: topology, all weights flat, trainable size. */
function modelSource(
  model: tf.LayersModel,
  output: ModelOutput,
  exampleShape: number[],
): ParallelSource {
  const paramCount = model.trainableWeights.reduce(
    (n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1),
    0,
  );
  if (paramCount === 0) throw new TrainingOptionsError("the model has no trainable weights");
  return {
    weights: readModelFlat(model),
    paramCount,
    spec: {
      topology: JSON.stringify(model.toJSON(null, false)),
      paramCount,
      exampleShape,
      output,
    },
    write: (flat) => writeModelFlat(model, flat),
  };
}

/** {@link trainModel}, yielding to the event loop about every `yieldEveryMs` (default 50 ms). */
export async function trainModelAsync(
  model: tf.LayersModel,
  data: ModelDataset,
  options: ModelTrainOptions & { yieldEveryMs?: number },
): Promise<number> {
  const parallel = parallelPlan(model, data, options);
  if (parallel) {
    await trainParallelAsync(parallel.source, parallel.flat, parallel.settings);
    return parallel.plan.reporter.mean();
  }
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
  const parallel = parallelEval(model, data, options);
  if (parallel) {
    const r = evaluateParallel(
      parallel.source,
      parallel.flat,
      parallel.workers,
      parallel.batchSize,
    );
    return evalResult(r, parallel.flat.count, options);
  }
  return runAll(testSteps(model, data, options));
}

function parallelEval(model: tf.LayersModel, data: ModelDataset, options: ModelTestOptions) {
  checkModel(model);
  const batchSize = positiveInt("batchSize", options.batchSize ?? 256);
  const { flat, exampleShape } = flatDataset(data);
  const workers = Math.min(resolveWorkers(options.workers), Math.ceil(flat.count / batchSize));
  if (!(workers > 1)) return undefined;
  plan(flat, { epochs: 1, learningRate: 1, batchSize, workers: 1, progressBar: false });
  const source = modelSource(model, modelOutputOf(model, options.output), exampleShape);
  return { source, flat, workers, batchSize };
}

function evalResult(
  r: { lossSum: number; correct: number },
  count: number,
  options: ModelTestOptions,
): TestResult {
  const accuracy = r.correct / count;
  if (options.progressBar !== false) {
    new ProgressBar("evaluate", count).finish(count, `accuracy ${accuracy.toFixed(4)}`);
  }
  return { loss: r.lossSum / count, accuracy, count };
}

/** {@link testModel}, yielding to the event loop about every `yieldEveryMs` (default 50 ms). */
export async function testModelAsync(
  model: tf.LayersModel,
  data: ModelDataset,
  options: ModelTestOptions & { yieldEveryMs?: number } = {},
): Promise<TestResult> {
  const parallel = parallelEval(model, data, options);
  if (parallel) {
    const r = await evaluateParallelAsync(
      parallel.source,
      parallel.flat,
      parallel.workers,
      parallel.batchSize,
    );
    return evalResult(r, parallel.flat.count, options);
  }
  return drive(testSteps(model, data, options), options.yieldEveryMs ?? 50);
}
