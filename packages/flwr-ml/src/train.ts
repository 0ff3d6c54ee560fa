/**
 * Local training of a {@link Net}: SGD with momentum in an
 * `optimizer.minimize` loop (faster than `model.fit`), batches copied from
 * typed arrays (no `tf.slice` of a large tensor).
 */
import * as tf from "@tensorflow/tfjs";
import {
  BatchBuilder,
  type ImageDataset,
  permutation,
  seededRandom,
  validateDataset,
} from "./dataset.js";
import { SOFTMAX_CROSS_ENTROPY } from "./kernels/softmax-cross-entropy.js";
import type { Net } from "./net.js";
import { ProgressBar } from "./progress.js";
import { SgdMomentumOptimizer } from "./sgd-momentum.js";

/** Progress of {@link train}, reported after every batch. */
export interface TrainProgress {
  /** 1-based epoch. */
  epoch: number;
  /** Number of epochs. */
  epochs: number;
  /** Examples seen in this epoch. */
  seen: number;
  /** Examples per epoch. */
  total: number;
  /** Mean loss of this epoch so far. */
  loss: number;
}

/** Options of {@link train}. */
export interface TrainOptions {
  /** Passes over the data (≥ 1). */
  epochs: number;
  /** SGD learning rate (> 0). */
  learningRate: number;
  /** SGD momentum (PyTorch semantics: v ← m·v + g; w ← w − lr·v); default 0.9. */
  momentum?: number;
  /** Examples per step; default 32. The last batch of an epoch may be smaller. */
  batchSize?: number;
  /** Shuffle each epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffling (default: random). */
  seed?: number;
  /** Called after every batch. */
  onProgress?: (progress: TrainProgress) => void;
  /** Draw a progress bar on stderr when it is a TTY (default true). */
  progressBar?: boolean;
}

/** Invalid training or evaluation options. */
export class TrainingOptionsError extends RangeError {
  /** @param message - what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "TrainingOptionsError";
  }
}

/** Checks a positive integer option. */
export function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new TrainingOptionsError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/**
 * Softmax cross-entropy of logits against integer labels, mean over the batch
 * (PyTorch's `CrossEntropyLoss`).
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  if (tf.getKernel(SOFTMAX_CROSS_ENTROPY, tf.getBackend()) === undefined) {
    return tf.tidy(() => {
      const oneHot = tf.oneHot(labels, logits.shape[1]);
      return tf.losses.softmaxCrossEntropy(
        oneHot,
        logits,
        undefined,
        undefined,
        tf.Reduction.MEAN,
      ) as tf.Scalar;
    });
  }
  return fusedCrossEntropy(logits, labels);
}

/** The fused kernel as an op: only the logits get a gradient. */
function fusedCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const op = tf.customGrad(((z: tf.Tensor2D, save: (t: tf.Tensor[]) => void) => {
    const [loss, grad] = tf
      .engine()
      .runKernel(SOFTMAX_CROSS_ENTROPY, { logits: z, labels }, {}) as tf.Tensor[];
    save([grad as tf.Tensor]);
    return {
      value: loss as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(saved[0] as tf.Tensor, dy)],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (z: tf.Tensor2D) => tf.Scalar;
  return op(logits);
}

/**
 * Trains `model` in place on `data`; returns the mean training loss over all
 * steps of all epochs. Synchronous: blocks the event loop until done (see
 * {@link trainAsync}).
 */
export function train(model: Net, data: ImageDataset, options: TrainOptions): number {
  const steps = trainSteps(model, data, options);
  let r = steps.next();
  while (!r.done) r = steps.next();
  return r.value;
}

/**
 * {@link train}, yielding to the event loop about every `yieldEveryMs`
 * (default 50 ms) so timers, sockets and signals are served while training.
 */
export async function trainAsync(
  model: Net,
  data: ImageDataset,
  options: TrainOptions & { yieldEveryMs?: number },
): Promise<number> {
  const every = options.yieldEveryMs ?? 50;
  const steps = trainSteps(model, data, options);
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

/** The training loop as a generator: one `yield` per batch. */
function* trainSteps(
  model: Net,
  data: ImageDataset,
  options: TrainOptions,
): Generator<void, number, void> {
  const epochs = positiveInt("epochs", options.epochs);
  const batchSize = positiveInt("batchSize", options.batchSize ?? 32);
  const { learningRate } = options;
  const momentum = options.momentum ?? 0.9;
  if (!(learningRate > 0 && Number.isFinite(learningRate))) {
    throw new TrainingOptionsError(`learningRate must be a positive number, got ${learningRate}`);
  }
  if (!(momentum >= 0 && momentum < 1))
    throw new TrainingOptionsError(`momentum must be in [0, 1), got ${momentum}`);
  validateDataset(data);
  if (data.count === 0) throw new TrainingOptionsError("cannot train on an empty dataset");

  const [h, w, c] = data.shape;
  const builder = new BatchBuilder(data, batchSize);
  const random = options.seed === undefined ? Math.random : seededRandom(options.seed);
  const optimizer = new SgdMomentumOptimizer(learningRate, momentum);
  const variables = model.trainableVariables;
  let totalLoss = 0;
  let steps = 0;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = options.shuffle === false ? undefined : permutation(data.count, random);
      const bar =
        options.progressBar === false
          ? undefined
          : new ProgressBar(`epoch ${epoch}/${epochs}`, data.count);
      const started = performance.now();
      let epochLoss = 0;
      let epochSteps = 0;
      for (let start = 0; start < data.count; start += batchSize) {
        const n = Math.min(batchSize, data.count - start);
        const batch = builder.fill(start, n, order);
        const loss = tf.tidy(() => {
          const x = tf.tensor4d(batch.x, [n, h, w, c]);
          const y = tf.tensor1d(batch.y, "int32");
          return optimizer.minimize(
            () => crossEntropy(model.predict(x), y),
            true,
            variables,
          ) as tf.Scalar;
        });
        const value = loss.dataSync()[0] as number;
        loss.dispose();
        epochLoss += value;
        epochSteps++;
        const seen = start + n;
        const mean = epochLoss / epochSteps;
        options.onProgress?.({ epoch, epochs, seen, total: data.count, loss: mean });
        const rate = seen / ((performance.now() - started) / 1000);
        bar?.update(seen, `loss ${mean.toFixed(4)} ${rate.toFixed(0)} img/s`);
        yield;
      }
      const rate = data.count / ((performance.now() - started) / 1000);
      bar?.finish(
        data.count,
        `loss ${(epochLoss / epochSteps).toFixed(4)} ${rate.toFixed(0)} img/s`,
      );
      totalLoss += epochLoss;
      steps += epochSteps;
    }
  } finally {
    optimizer.dispose();
  }
  return totalLoss / steps;
}
