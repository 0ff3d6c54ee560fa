/**
 * Local training of a {@link Net}: SGD with momentum in an
 * `optimizer.minimize` loop (faster than `model.fit`), batches copied from
 * typed arrays (no `tf.slice` of a large tensor).
 */

import {
  BatchBuilder,
  type ImageDataset,
  permutation,
  seededRandom,
  validateDataset,
} from "./dataset.js";
import { SOFTMAX_CROSS_ENTROPY } from "./kernels/softmax-cross-entropy.js";
import { createNetStep } from "./native-net-step.js";
import { NET_INPUT_SHAPE, type Net } from "./net.js";
import { netStepSupported } from "./net-step.js";
import { resolveWorkers, trainParallel, trainParallelAsync } from "./parallel/data-parallel.js";
import { PARAM_COUNT, readFlatWeights, writeFlatWeights } from "./parallel/param-layout.js";
import { ProgressBar } from "./progress.js";
import { SgdMomentumOptimizer } from "./sgd-momentum.js";
import * as tf from "./tf.js";
import { positiveInt, TrainingOptionsError } from "./training-options.js";

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
  /**
   * Worker threads for data-parallel training (wasm and cpu backends): each
   * step's batch is split across them and their gradients are reduced, so
   * the result equals in-process training up to float rounding. Default:
   * `FLWR_TRAIN_WORKERS`, else the number of CPUs; 1 trains in-process.
   * Ignored (1) on tfjs-node, which is multi-threaded itself.
   */
  workers?: number;
}

export { positiveInt, TrainingOptionsError } from "./training-options.js";

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

/** Validated options and the per-step bookkeeping shared by both paths. */
export interface Plan {
  epochs: number;
  batchSize: number;
  learningRate: number;
  momentum: number;
  workers: number;
  random: () => number;
  reporter: StepReporter;
}

/** Validates `options` against `data`; the plan of a training call. */
export function plan(data: ImageDataset, options: TrainOptions): Plan {
  const epochs = positiveInt("epochs", options.epochs);
  const batchSize = positiveInt("batchSize", options.batchSize ?? 32);
  const { learningRate } = options;
  const momentum = options.momentum ?? 0.9;
  if (!(learningRate > 0 && Number.isFinite(learningRate))) {
    throw new TrainingOptionsError(`learningRate must be a positive number, got ${learningRate}`);
  }
  if (!(momentum >= 0 && momentum < 1))
    throw new TrainingOptionsError(`momentum must be in [0, 1), got ${momentum}`);
  const workers = resolveWorkers(options.workers);
  validateDataset(data);
  if (data.count === 0) throw new TrainingOptionsError("cannot train on an empty dataset");
  const random = options.seed === undefined ? Math.random : seededRandom(options.seed);
  const reporter = new StepReporter(data.count, epochs, batchSize, options);
  return { epochs, batchSize, learningRate, momentum, workers, random, reporter };
}

/** Progress callbacks, progress bars and the running mean loss, one call per step. */
export class StepReporter {
  private readonly stepsPerEpoch: number;
  private epoch = 0;
  private epochStep = 0;
  private epochLoss = 0;
  private totalLoss = 0;
  private steps = 0;
  private started = 0;
  private bar: ProgressBar | undefined;

  constructor(
    private readonly count: number,
    private readonly epochs: number,
    private readonly batchSize: number,
    private readonly options: TrainOptions,
  ) {
    this.stepsPerEpoch = Math.ceil(count / batchSize);
  }

  /** Records the mean loss of the next step. */
  step(loss: number): void {
    if (this.epochStep === 0) {
      this.epoch++;
      this.epochLoss = 0;
      this.started = performance.now();
      this.bar =
        this.options.progressBar === false
          ? undefined
          : new ProgressBar(`epoch ${this.epoch}/${this.epochs}`, this.count);
    }
    this.epochStep++;
    this.epochLoss += loss;
    this.totalLoss += loss;
    this.steps++;
    const seen = Math.min(this.epochStep * this.batchSize, this.count);
    const mean = this.epochLoss / this.epochStep;
    this.options.onProgress?.({
      epoch: this.epoch,
      epochs: this.epochs,
      seen,
      total: this.count,
      loss: mean,
    });
    const rate = seen / ((performance.now() - this.started) / 1000);
    const text = `loss ${mean.toFixed(4)} ${rate.toFixed(0)} img/s`;
    if (this.epochStep === this.stepsPerEpoch) {
      this.bar?.finish(this.count, text);
      this.epochStep = 0;
    } else {
      this.bar?.update(seen, text);
    }
  }

  /** Mean loss over all steps so far. */
  mean(): number {
    return this.totalLoss / this.steps;
  }
}

/** Every epoch's example order (epochs × count), drawn as the in-process loop draws them. */
export function allOrders(p: Plan, count: number, shuffle: boolean): Uint32Array | undefined {
  if (!shuffle) return undefined;
  const orders = new Uint32Array(new SharedArrayBuffer(4 * p.epochs * count));
  for (let e = 0; e < p.epochs; e++) orders.set(permutation(count, p.random), e * count);
  return orders;
}

function parallelSettings(p: Plan, data: ImageDataset, options: TrainOptions) {
  return {
    workers: p.workers,
    epochs: p.epochs,
    batchSize: p.batchSize,
    learningRate: p.learningRate,
    momentum: p.momentum,
    orders: allOrders(p, data.count, options.shuffle !== false),
    onStep: (loss: number) => p.reporter.step(loss),
  };
}

/**
 * Trains `model` in place on `data`; returns the mean training loss over all
 * steps of all epochs. Synchronous: blocks the event loop until done (see
 * {@link trainAsync}). With more than one worker (the default on a multi-core
 * machine, see {@link TrainOptions.workers}) the work runs on worker threads.
 */
export function train(model: Net, data: ImageDataset, options: TrainOptions): number {
  const p = plan(data, options);
  if (p.workers > 1) {
    trainParallel(model, data, parallelSettings(p, data, options));
    return p.reporter.mean();
  }
  const steps = stepsOf(model, data, options, p);
  let r = steps.next();
  while (!r.done) r = steps.next();
  return r.value;
}

/**
 * The in-process loop: the Net's direct step on wasm/cpu with this package's
 * kernels (native when `@flwr-ts/ml-native` is built, else {@link NetStep}), else autodiff.
 */
function stepsOf(
  model: Net,
  data: ImageDataset,
  options: TrainOptions,
  p: Plan,
): Generator<void, number, void> {
  return netStepSupported() && sameShape(data.shape, NET_INPUT_SHAPE)
    ? directSteps(model, data, options, p)
    : trainSteps(model, data, options, p);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * The in-process loop without the engine: gradients from the Net's step into
 * a flat vector, PyTorch's SGD-momentum update over flat weights, and the
 * model's variables set once at the end (also when interrupted).
 */
function* directSteps(
  model: Net,
  data: ImageDataset,
  options: TrainOptions,
  p: Plan,
): Generator<void, number, void> {
  const { batchSize } = p;
  const builder = new BatchBuilder(data, batchSize);
  const step = createNetStep();
  const weights = new Float32Array(PARAM_COUNT);
  readFlatWeights(model, weights);
  step.loadWeights(weights);
  const grads = new Float32Array(PARAM_COUNT);
  const parts = [grads];
  const scales = [1];
  try {
    for (let epoch = 1; epoch <= p.epochs; epoch++) {
      const order = options.shuffle === false ? undefined : permutation(data.count, p.random);
      for (let start = 0; start < data.count; start += batchSize) {
        const n = Math.min(batchSize, data.count - start);
        const batch = builder.fill(start, n, order);
        const loss = step.lossAndGradients(null, batch.x, batch.y, n, grads);
        step.momentumStep(parts, scales, p.learningRate, p.momentum);
        p.reporter.step(loss);
        yield;
      }
    }
  } finally {
    step.readWeights(weights);
    step.dispose();
    writeFlatWeights(model, weights);
  }
  return p.reporter.mean();
}

/**
 * {@link train}, yielding to the event loop about every `yieldEveryMs`
 * (default 50 ms) so timers, sockets and signals are served while training
 * (with worker threads the event loop is free throughout).
 */
export async function trainAsync(
  model: Net,
  data: ImageDataset,
  options: TrainOptions & { yieldEveryMs?: number },
): Promise<number> {
  const p = plan(data, options);
  if (p.workers > 1) {
    await trainParallelAsync(model, data, parallelSettings(p, data, options));
    return p.reporter.mean();
  }
  const every = options.yieldEveryMs ?? 50;
  const steps = stepsOf(model, data, options, p);
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

/** The in-process training loop as a generator: one `yield` per batch. */
function* trainSteps(
  model: Net,
  data: ImageDataset,
  options: TrainOptions,
  p: Plan,
): Generator<void, number, void> {
  const [h, w, c] = data.shape;
  const { batchSize } = p;
  const builder = new BatchBuilder(data, batchSize);
  const optimizer = new SgdMomentumOptimizer(p.learningRate, p.momentum);
  const variables = model.trainableVariables;
  try {
    for (let epoch = 1; epoch <= p.epochs; epoch++) {
      const order = options.shuffle === false ? undefined : permutation(data.count, p.random);
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
        p.reporter.step(value);
        yield;
      }
    }
  } finally {
    optimizer.dispose();
  }
  return p.reporter.mean();
}
