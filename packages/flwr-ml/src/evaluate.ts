/**
 * Evaluation of a {@link Net}: mean cross-entropy and accuracy.
 */

import { BatchBuilder, type ImageDataset, validateDataset } from "./dataset.js";
import { nativeNetKernels, scoreLogits } from "./native-net-step.js";
import { NET_INPUT_SHAPE, NET_NUM_CLASSES, type Net } from "./net.js";
import { netStepSupported } from "./net-step.js";
import {
  evaluateParallel,
  evaluateParallelAsync,
  resolveWorkers,
} from "./parallel/data-parallel.js";
import { PARAM_COUNT, readFlatWeights } from "./parallel/param-layout.js";
import { ProgressBar } from "./progress.js";
import * as tf from "./tf.js";
import { positiveInt, TrainingOptionsError } from "./training-options.js";

/** Options of {@link test}. */
export interface TestOptions {
  /** Examples per forward pass; default 256. */
  batchSize?: number;
  /** Draw a progress bar on stderr when it is a TTY (default true). */
  progressBar?: boolean;
  /**
   * Worker threads sharing the examples (wasm and cpu backends); default as
   * for training (`FLWR_TRAIN_WORKERS`, else the number of CPUs), never more
   * than the number of batches. 1 evaluates in-process.
   */
  workers?: number;
}

/** Result of {@link test}. */
export interface TestResult {
  /** Mean cross-entropy per example. */
  loss: number;
  /** Fraction of examples whose arg-max logit is the label. */
  accuracy: number;
  /** Number of examples evaluated. */
  count: number;
}

/**
 * Evaluates `model` on `data`. The loss is the mean over examples (PyTorch's
 * example averages batch means instead; they differ only through a smaller
 * last batch).
 */
export function test(model: Net, data: ImageDataset, options: TestOptions = {}): TestResult {
  const workers = evalWorkers(data, options);
  if (workers > 1) {
    const r = evaluateParallel(model, data, workers, options.batchSize ?? 256);
    return result(r, data, options);
  }
  const steps = testSteps(model, data, options);
  let r = steps.next();
  while (!r.done) r = steps.next();
  return r.value;
}

/** {@link test}, yielding to the event loop between batches about every `yieldEveryMs` (default 50). */
export async function testAsync(
  model: Net,
  data: ImageDataset,
  options: TestOptions & { yieldEveryMs?: number } = {},
): Promise<TestResult> {
  const workers = evalWorkers(data, options);
  if (workers > 1) {
    const r = await evaluateParallelAsync(model, data, workers, options.batchSize ?? 256);
    return result(r, data, options);
  }
  const every = options.yieldEveryMs ?? 50;
  const steps = testSteps(model, data, options);
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

/** Validates the options; the number of workers to use. */
function evalWorkers(data: ImageDataset, options: TestOptions): number {
  const batchSize = positiveInt("batchSize", options.batchSize ?? 256);
  const workers = resolveWorkers(options.workers);
  validateDataset(data);
  if (data.count === 0) throw new TrainingOptionsError("cannot evaluate on an empty dataset");
  return Math.min(workers, Math.ceil(data.count / batchSize));
}

function result(
  r: { lossSum: number; correct: number },
  data: ImageDataset,
  options: TestOptions,
): TestResult {
  const accuracy = r.correct / data.count;
  if (options.progressBar !== false) {
    new ProgressBar("evaluate", data.count).finish(data.count, `accuracy ${accuracy.toFixed(4)}`);
  }
  return { loss: r.lossSum / data.count, accuracy, count: data.count };
}

/** Summed cross-entropy and number of correct predictions of one batch. */
export function evaluateBatch(
  model: Net,
  batch: { x: Float32Array; y: Int32Array },
  shape: readonly [number, number, number],
): { lossSum: number; correct: number } {
  const n = batch.y.length;
  const [h, w, c] = shape;
  return tf.tidy(() => {
    const logits = model.predict(tf.tensor4d(batch.x, [n, h, w, c]));
    const y = tf.tensor1d(batch.y, "int32");
    const perExample = tf.losses.softmaxCrossEntropy(
      tf.oneHot(y, logits.shape[1]),
      logits,
      undefined,
      undefined,
      tf.Reduction.SUM,
    );
    const ok = tf.equal(tf.argMax(logits, 1), y).cast("float32").sum();
    return { lossSum: perExample.dataSync()[0] as number, correct: ok.dataSync()[0] as number };
  });
}

function* testSteps(
  model: Net,
  data: ImageDataset,
  options: TestOptions,
): Generator<void, TestResult, void> {
  const batchSize = positiveInt("batchSize", options.batchSize ?? 256);
  validateDataset(data);
  if (data.count === 0) throw new TrainingOptionsError("cannot evaluate on an empty dataset");
  const builder = new BatchBuilder(data, batchSize);
  const bar = options.progressBar === false ? undefined : new ProgressBar("evaluate", data.count);
  let lossSum = 0;
  let correct = 0;
  const evaluate = netEvaluator(model, data.shape);
  for (let start = 0; start < data.count; start += batchSize) {
    const n = Math.min(batchSize, data.count - start);
    const batch = builder.fill(start, n);
    const { lossSum: lossTotal, correct: hits } = evaluate(batch);
    lossSum += lossTotal;
    correct += hits;
    bar?.update(start + n);
    yield;
  }
  bar?.finish(data.count, `accuracy ${(correct / data.count).toFixed(4)}`);
  return { loss: lossSum / data.count, accuracy: correct / data.count, count: data.count };
}

/**
 * Evaluation of one batch: the native forward pass of `@flwr-ts/ml-native`
 * where it is available (wasm/cpu, the Net's input shape), else
 * {@link evaluateBatch} through tfjs.
 */
export function netEvaluator(
  model: Net,
  shape: readonly [number, number, number],
): (batch: { x: Float32Array; y: Int32Array }) => { lossSum: number; correct: number } {
  const native = netStepSupported() ? nativeNetKernels() : undefined;
  if (!native || shape.some((v, i) => v !== NET_INPUT_SHAPE[i])) {
    return (batch) => evaluateBatch(model, batch, shape);
  }
  const weights = new Float32Array(PARAM_COUNT);
  readFlatWeights(model, weights);
  let logits = new Float32Array(0);
  return (batch) => {
    const n = batch.y.length;
    if (logits.length < n * NET_NUM_CLASSES) logits = new Float32Array(n * NET_NUM_CLASSES);
    native.forward(weights, batch.x, n, logits);
    return scoreLogits(logits, batch.y, n);
  };
}
