/**
 * Data-parallel training and evaluation across worker threads, each with its
 * own TensorFlow.js backend (tfjs wasm is single-threaded in Node, so this is
 * how training uses more than one core).
 *
 * Training is synchronous SGD: each step's batch is cut into one contiguous
 * chunk per worker; workers claim chunks as they come (a descheduled worker's
 * chunk is taken by another), compute each chunk's mean-loss gradient into
 * the chunk's shared slot, and once all chunks of a step are done every worker
 * sums them weighted by chunk size (= the gradient of the mean loss over the
 * whole batch) and applies the same PyTorch SGD-momentum update to its
 * replica. Chunk gradients do not depend on who computed them, so the
 * result does not depend on scheduling. The
 * result equals single-thread training on the full batch up to float
 * rounding, and is deterministic for a given seed and worker count.
 */
import { availableParallelism } from "node:os";
import type { BackendChoice } from "../backend.js";
import type { ImageDataset } from "../dataset.js";
import { Net } from "../net.js";
import * as tf from "../tf.js";
import { TrainingOptionsError } from "../training-options.js";
import { PARAM_COUNT, readFlatWeights, writeFlatWeights } from "./param-layout.js";
import {
  type EvalJob,
  GRADIENT_RING,
  type ModelSpec,
  type SharedDataset,
  type TrainJob,
} from "./protocol.js";
import { CTL, CTL_LENGTH } from "./shared-sync.js";
import { trainingWorkerPool } from "./worker-pool.js";

/** The environment variable that sets the default number of training workers. */
export const WORKERS_ENV = "FLWR_TRAIN_WORKERS";

/** The backend workers can replicate, or undefined (tfjs-node is multi-threaded itself). */
export function parallelBackend(): BackendChoice | undefined {
  const name = tf.getBackend();
  return name === "wasm" || name === "cpu" ? name : undefined;
}

/**
 * Number of workers for a train/test call: the option, else
 * `FLWR_TRAIN_WORKERS`, else the number of CPUs on the wasm and cpu backends
 * and 1 on tfjs-node (native TensorFlow already uses every core).
 */
export function resolveWorkers(option: number | undefined): number {
  if (option !== undefined) {
    if (!Number.isInteger(option) || option < 1 || option > 64)
      throw new TrainingOptionsError(`workers must be an integer in 1..64, got ${option}`);
    return parallelBackend() ? option : 1;
  }
  const env = process.env[WORKERS_ENV];
  if (env !== undefined && env.trim() !== "") {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1 || n > 64)
      throw new TrainingOptionsError(
        `${WORKERS_ENV}=${JSON.stringify(env)} must be an integer in 1..64 (1 trains in-process)`,
      );
    return parallelBackend() ? n : 1;
  }
  return parallelBackend() ? Math.min(64, availableParallelism()) : 1;
}

/** `a` itself when it is backed by shared memory, else a shared copy. */
function shared<T extends Uint8Array | Int32Array | Uint32Array | Float32Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const Ctor = a.constructor as new (buffer: SharedArrayBuffer) => T;
  const copy = new Ctor(new SharedArrayBuffer(a.byteLength));
  copy.set(a);
  return copy;
}

function shareDataset(data: ImageDataset): SharedDataset {
  return {
    count: data.count,
    shape: [...data.shape],
    numClasses: data.numClasses,
    pixels: shared(data.pixels),
    labels: shared(data.labels),
  };
}

function sharedFloat32(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(4 * n));
}

function sharedFloat64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(8 * n));
}

/** Settings of one data-parallel training call (validated by the caller). */
export interface ParallelTrainSettings {
  workers: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  momentum: number;
  /** Example order of each epoch (epochs × count), or undefined for the natural order. */
  orders: Uint32Array | undefined;
  /** Called once per step, in order, with the step's mean loss. */
  onStep: (loss: number) => void;
}

interface Prepared {
  jobs: TrainJob[];
  result: Float32Array;
  losses: Float64Array;
  ctl: Int32Array;
  onSignal: () => void;
}

/** What the workers train: the Net or a generic model, as flat weights. */
export interface ParallelSource {
  /** All weights, flat (copied into shared memory). */
  weights: Float32Array;
  /** Values in the gradient (the trainable weights). */
  paramCount: number;
  /** The generic model to rebuild, or null for the Net. */
  spec: ModelSpec | null;
  /** Sets the model from trained flat weights. */
  write(flat: Float32Array): void;
}

function netSource(model: Net): ParallelSource {
  const weights = new Float32Array(PARAM_COUNT);
  readFlatWeights(model, weights);
  return {
    weights,
    paramCount: PARAM_COUNT,
    spec: null,
    write: (flat) => writeFlatWeights(model, flat),
  };
}

function sharedCopy(values: Float32Array): Float32Array {
  const out = sharedFloat32(values.length);
  out.set(values);
  return out;
}

function prepareTrain(
  source: ParallelSource,
  data: ImageDataset,
  s: ParallelTrainSettings,
): Prepared {
  const steps = s.epochs * Math.ceil(data.count / s.batchSize);
  const ctl = new Int32Array(new SharedArrayBuffer(4 * CTL_LENGTH));
  const weights = sharedCopy(source.weights);
  const losses = sharedFloat64(steps);
  const grads = sharedFloat32(GRADIENT_RING * s.workers * source.paramCount);
  const chunkLoss = sharedFloat64(GRADIENT_RING * s.workers);
  const stepState = new Int32Array(new SharedArrayBuffer(4 * (s.workers + 2 * steps)));
  const result = sharedFloat32(weights.length);
  const sharedData = shareDataset(data);
  const orders = s.orders ? shared(s.orders) : null;
  const jobs = Array.from(
    { length: s.workers },
    (_, worker): TrainJob => ({
      kind: "train",
      model: source.spec,
      worker,
      workers: s.workers,
      ctl,
      data: sharedData,
      weights,
      epochs: s.epochs,
      batchSize: s.batchSize,
      learningRate: s.learningRate,
      momentum: s.momentum,
      orders,
      grads,
      chunkLoss,
      steps: stepState,
      losses,
      result,
    }),
  );
  let reported = 0;
  const onSignal = () => {
    const done = Atomics.load(ctl, CTL.progress);
    while (reported < done) s.onStep(losses[reported++] as number);
  };
  return { jobs, result, losses, ctl, onSignal };
}

/**
 * Trains `model` with `settings.workers` worker threads, blocking until done;
 * the model's variables hold the trained weights afterwards.
 */
export function trainParallel(
  model: Net | ParallelSource,
  data: ImageDataset,
  settings: ParallelTrainSettings,
): void {
  const backend = parallelBackend();
  if (!backend)
    throw new TrainingOptionsError("data-parallel training needs the wasm or cpu backend");
  const source = model instanceof Net ? netSource(model) : model;
  const p = prepareTrain(source, data, settings);
  trainingWorkerPool(backend).runSync(p.jobs, p.onSignal);
  source.write(p.result);
}

/** {@link trainParallel} without blocking the event loop. */
export async function trainParallelAsync(
  model: Net | ParallelSource,
  data: ImageDataset,
  settings: ParallelTrainSettings,
): Promise<void> {
  const backend = parallelBackend();
  if (!backend)
    throw new TrainingOptionsError("data-parallel training needs the wasm or cpu backend");
  const source = model instanceof Net ? netSource(model) : model;
  const p = prepareTrain(source, data, settings);
  await trainingWorkerPool(backend).run(p.jobs, p.onSignal);
  source.write(p.result);
}

function prepareEval(
  model: Net | ParallelSource,
  data: ImageDataset,
  workers: number,
  batchSize: number,
) {
  const ctl = new Int32Array(new SharedArrayBuffer(4 * CTL_LENGTH));
  const source = model instanceof Net ? netSource(model) : model;
  const weights = sharedCopy(source.weights);
  const results = sharedFloat64(2 * workers);
  const sharedData = shareDataset(data);
  const jobs = Array.from(
    { length: workers },
    (_, worker): EvalJob => ({
      kind: "eval",
      model: source.spec,
      worker,
      workers,
      ctl,
      data: sharedData,
      weights,
      batchSize,
      results,
    }),
  );
  const total = () => {
    let lossSum = 0;
    let correct = 0;
    for (let i = 0; i < workers; i++) {
      lossSum += results[2 * i] as number;
      correct += results[2 * i + 1] as number;
    }
    return { lossSum, correct };
  };
  return { jobs, total };
}

/** Summed loss and correct predictions over `data`, split across workers (blocking). */
export function evaluateParallel(
  model: Net | ParallelSource,
  data: ImageDataset,
  workers: number,
  batchSize: number,
): { lossSum: number; correct: number } {
  const backend = parallelBackend();
  if (!backend) throw new TrainingOptionsError("parallel evaluation needs the wasm or cpu backend");
  const p = prepareEval(model, data, workers, batchSize);
  trainingWorkerPool(backend).runSync(p.jobs, () => {});
  return p.total();
}

/** {@link evaluateParallel} without blocking the event loop. */
export async function evaluateParallelAsync(
  model: Net | ParallelSource,
  data: ImageDataset,
  workers: number,
  batchSize: number,
): Promise<{ lossSum: number; correct: number }> {
  const backend = parallelBackend();
  if (!backend) throw new TrainingOptionsError("parallel evaluation needs the wasm or cpu backend");
  const p = prepareEval(model, data, workers, batchSize);
  await trainingWorkerPool(backend).run(p.jobs, () => {});
  return p.total();
}
