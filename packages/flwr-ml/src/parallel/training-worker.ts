/**
 * Entry point of a training worker thread: its own TensorFlow.js engine and
 * backend, one replica of the Net, and the loops of data-parallel training
 * and evaluation. Jobs arrive as messages; the worker replies on its port,
 * then counts itself done and signals (so a blocked coordinator can read the
 * reply synchronously once it wakes).
 */
import { parentPort, workerData } from "node:worker_threads";
import { initBackend } from "../backend.js";
import { BatchBuilder, type ImageDataset } from "../dataset.js";
import { netEvaluator } from "../evaluate.js";
import { writeModelFlat } from "../model/model-array-record.js";
import { createNetStep, type NetStepLike } from "../native-net-step.js";
import { createNet, NET_INPUT_SHAPE, type Net } from "../net.js";
import { netStepSupported } from "../net-step.js";
import { sgdMomentumFlatStep } from "../sgd-momentum.js";
import * as tf from "../tf.js";
import { crossEntropy } from "../train.js";
import {
  evaluateModelBatch,
  modelReplica,
  modelTrainReplica,
  type TrainReplica,
} from "./model-replica.js";
import { PARAM_COUNT, PARAM_SLOTS, writeFlatWeights } from "./param-layout.js";
import {
  type EvalJob,
  GRADIENT_RING,
  type Job,
  type JobReply,
  type ModelSpec,
  type TrainJob,
  type WorkerInit,
} from "./protocol.js";
import { abort, CTL, JobAbortedError, signal, waitAtLeast } from "./shared-sync.js";

const init = workerData as WorkerInit;
const ready = initBackend({ backend: init.backend, log: null });
ready.catch(() => {}); // reported to the coordinator by the first job
let replica: Net | undefined;
let step: NetStepLike | undefined;

function datasetOf(job: Job): ImageDataset {
  const { count, shape, numClasses, pixels, labels } = job.data;
  return { count, shape, numClasses, pixels, labels };
}

/** A float32 tensor's values: a view of the wasm heap where possible (no copy), else a copy. */
function values(t: tf.Tensor): Float32Array {
  const backend = tf.backend() as { typedArrayFromHeap?: (t: tf.TensorInfo) => unknown };
  const view = backend.typedArrayFromHeap?.(t);
  return view instanceof Float32Array ? view : (t.dataSync() as Float32Array);
}

/**
 * The chunk's mean loss, its gradient written to `slot`: through
 * the Net's direct step (native, or tfjs kernels called directly; on the
 * resident weights) where supported, else through the engine's autodiff on the
 * replica's variables set from `weights`.
 */
function chunkGradients(
  net: Net,
  step: NetStepLike | undefined,
  weights: Float32Array,
  batch: { x: Float32Array; y: Int32Array },
  n: number,
  slot: Float32Array,
): number {
  if (step) return step.lossAndGradients(null, batch.x, batch.y, n, slot);
  writeFlatWeights(net, weights);
  const variables = PARAM_SLOTS.map((s) => net.variable(s.name));
  return tf.tidy(() => {
    const x = tf.tensor4d(batch.x, [n, ...NET_INPUT_SHAPE]);
    const y = tf.tensor1d(batch.y, "int32");
    const { value, grads: g } = tf.variableGrads(() => crossEntropy(net.predict(x), y), variables);
    for (const [i, p] of PARAM_SLOTS.entries()) {
      slot.set(values(g[(variables[i] as tf.Variable).name] as tf.Tensor), p.offset);
    }
    return value.dataSync()[0] as number;
  });
}

function netReplica(net: Net, job: TrainJob): TrainReplica {
  step ??= netStepSupported() ? createNetStep() : undefined;
  const s = step;
  s?.loadWeights(job.weights);
  // This replica's weights and momentum (resident in NetStep, else these
  // arrays): every worker applies the same reduced gradient in the same order
  // with the same kernels, so replicas stay bit-identical and no weights cross
  // threads during the epoch.
  const weights = Float32Array.from(job.weights);
  const accumulation = new Float32Array(PARAM_COUNT);
  return {
    paramCount: PARAM_COUNT,
    gradients: (batch, n, slot) => chunkGradients(net, s, weights, batch, n, slot),
    apply: (parts, scales, lr, momentum) => {
      if (s) s.momentumStep(parts, scales, lr, momentum);
      else sgdMomentumFlatStep(weights, accumulation, parts, scales, lr, momentum);
    },
    read: (out) => {
      if (s) s.readWeights(out);
      else out.set(weights);
    },
    dispose: () => s?.dispose(),
  };
}

function runTrain(replica: TrainReplica, job: TrainJob): void {
  const { ctl, workers, batchSize, learningRate: lr, momentum, grads, chunkLoss } = job;
  const paramCount = replica.paramCount;
  const state = job.steps;
  const data = datasetOf(job);
  const builder = new BatchBuilder(data, Math.ceil(batchSize / workers));
  const stepsPerEpoch = Math.ceil(data.count / batchSize);
  const total = job.epochs * stepsPerEpoch;
  const claims = workers; // state[claims + t]: next chunk of step t to claim
  const done = workers + total; // state[done + t]: chunks of step t finished
  let order: Uint32Array | undefined;
  for (let t = 0; t < total; t++) {
    const epoch = Math.floor(t / stepsPerEpoch);
    if (t % stepsPerEpoch === 0)
      order = job.orders?.subarray(epoch * data.count, (epoch + 1) * data.count);
    const start = (t % stepsPerEpoch) * batchSize;
    const n = Math.min(batchSize, data.count - start);
    const base = Math.floor(n / workers);
    const rem = n % workers;
    // Chunk j of this batch: examples [offset(j), offset(j) + size(j)).
    const size = (j: number) => base + (j < rem ? 1 : 0);
    const offset = (j: number) => j * base + Math.min(j, rem);
    const ring = t % GRADIENT_RING;
    // Step t's slots are those of step t − RING: every replica must have applied it.
    if (t >= GRADIENT_RING) {
      for (let j = 0; j < workers; j++) waitAtLeast(ctl, state, j, t - GRADIENT_RING + 1);
    }
    for (;;) {
      const j = Atomics.add(state, claims + t, 1);
      if (j >= workers) break;
      const nj = size(j);
      let loss = 0;
      if (nj > 0) {
        const slot = grads.subarray(
          (ring * workers + j) * paramCount,
          (ring * workers + j + 1) * paramCount,
        );
        const batch = builder.fill(start + offset(j), nj, order);
        loss = replica.gradients(batch, nj, slot);
      }
      chunkLoss[ring * workers + j] = loss * nj;
      Atomics.add(state, done + t, 1);
      Atomics.notify(state, done + t);
    }
    waitAtLeast(ctl, state, done + t, workers);
    // The full batch's mean-loss gradient (chunk means weighted by size/n,
    // summed in chunk order: the same whoever computed them) and PyTorch's SGD
    // with momentum (a ← m·a + g; w ← w − lr·a).
    let lossSum = 0;
    const views: Float32Array[] = [];
    const scales: number[] = [];
    for (let j = 0; j < workers; j++) {
      const nj = size(j);
      if (nj === 0) continue;
      const from = (ring * workers + j) * paramCount;
      views.push(grads.subarray(from, from + paramCount));
      scales.push(nj / n);
      lossSum += chunkLoss[ring * workers + j] as number;
    }
    replica.apply(views, scales, lr, momentum);
    // Every replica computes the same loss; the first to get here publishes it.
    job.losses[t] = lossSum / n;
    if (Atomics.compareExchange(ctl, CTL.progress, t, t + 1) === t) signal(ctl);
    Atomics.store(state, job.worker, t + 1);
    Atomics.notify(state, job.worker);
  }
  if (job.worker === 0) replica.read(job.result);
  replica.dispose();
}

function runEval(
  evaluate: (batch: { x: Float32Array; y: Int32Array }) => { lossSum: number; correct: number },
  job: EvalJob,
): void {
  const data = datasetOf(job);
  const from = Math.floor((job.worker * data.count) / job.workers);
  const to = Math.floor(((job.worker + 1) * data.count) / job.workers);
  const builder = new BatchBuilder(data, job.batchSize);
  let lossSum = 0;
  let correct = 0;
  for (let start = from; start < to; start += job.batchSize) {
    const n = Math.min(job.batchSize, to - start);
    const r = evaluate(builder.fill(start, n));
    lossSum += r.lossSum;
    correct += r.correct;
    if (Atomics.load(job.ctl, CTL.abort) !== 0) throw new JobAbortedError();
  }
  job.results[2 * job.worker] = lossSum;
  job.results[2 * job.worker + 1] = correct;
}

async function run(job: Job): Promise<void> {
  let reply: JobReply;
  try {
    await ready;
    if (job.model) {
      const model = await modelReplica(job.model);
      writeModelFlat(model, job.weights);
      if (job.kind === "train") runTrain(modelTrainReplica(model, job.model, job), job);
      else runEval((batch) => evaluateModelBatch(model, job.model as ModelSpec, batch), job);
    } else {
      replica ??= createNet();
      const net = replica;
      writeFlatWeights(net, job.weights);
      if (job.kind === "train") runTrain(netReplica(net, job), job);
      else runEval(netEvaluator(net, datasetOf(job).shape), job);
    }
    reply = { ok: true, worker: job.worker };
  } catch (error) {
    const aborted = error instanceof JobAbortedError;
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    reply = { ok: false, worker: job.worker, error: message, aborted };
    if (!aborted) abort(job.ctl);
  }
  init.replies.postMessage(reply);
  Atomics.add(job.ctl, CTL.done, 1);
  signal(job.ctl);
}

if (!parentPort) throw new Error("training-worker.ts must run in a worker thread");
let queue = Promise.resolve();
parentPort.on("message", (job: Job) => {
  queue = queue.then(() => run(job));
});
