/**
 * Entry point of a training worker thread: its own TensorFlow.js engine and
 * backend, one replica of the Net, and the loops of data-parallel training
 * and evaluation. Jobs arrive as messages; the worker replies on its port,
 * then counts itself done and signals (so a blocked coordinator can read the
 * reply synchronously once it wakes).
 */
import { parentPort, workerData } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.js";
import { BatchBuilder, type ImageDataset } from "../dataset.js";
import { evaluateBatch } from "../evaluate.js";
import { createNet, type Net } from "../net.js";
import { crossEntropy } from "../train.js";
import { abort, arriveAndWait, CTL, JobAbortedError, signal } from "./barrier.js";
import { PARAM_COUNT, PARAM_SLOTS } from "./param-layout.js";
import type { EvalJob, Job, JobReply, TrainJob, WorkerInit } from "./protocol.js";

const init = workerData as WorkerInit;
const ready = initBackend({ backend: init.backend, log: null });
ready.catch(() => {}); // reported to the coordinator by the first job
let replica: Net | undefined;

function datasetOf(job: Job): ImageDataset {
  const { count, shape, numClasses, pixels, labels } = job.data;
  return { count, shape, numClasses, pixels, labels };
}

/** Sets the replica's variables from a flat weight vector. */
function assignWeights(net: Net, flat: Float32Array): void {
  tf.tidy(() => {
    for (const slot of PARAM_SLOTS) {
      net
        .variable(slot.name)
        .assign(tf.tensor(flat.subarray(slot.offset, slot.offset + slot.size), slot.shape));
    }
  });
}

/** A float32 tensor's values: a view of the wasm heap where possible (no copy), else a copy. */
function values(t: tf.Tensor): Float32Array {
  const backend = tf.backend() as { typedArrayFromHeap?: (t: tf.TensorInfo) => unknown };
  const view = backend.typedArrayFromHeap?.(t);
  return view instanceof Float32Array ? view : (t.dataSync() as Float32Array);
}

/** w ← w − lr·a with a ← m·a + Σⱼ scaleⱼ·gⱼ, over the flat parameter vector. */
function sgdMomentumStep(
  weights: Float32Array,
  accumulation: Float32Array,
  views: Float32Array[],
  scales: number[],
  lr: number,
  momentum: number,
): void {
  const g0 = views[0] as Float32Array;
  const s0 = scales[0] as number;
  if (views.length === 1 || views.length === 2) {
    const g1 = (views[1] ?? g0) as Float32Array;
    const s1 = views.length === 2 ? (scales[1] as number) : 0;
    for (let i = 0; i < PARAM_COUNT; i++) {
      const g = s0 * (g0[i] as number) + s1 * (g1[i] as number);
      const a = momentum * (accumulation[i] as number) + g;
      accumulation[i] = a;
      weights[i] = (weights[i] as number) - lr * a;
    }
    return;
  }
  for (let i = 0; i < PARAM_COUNT; i++) {
    let g = 0;
    for (let j = 0; j < views.length; j++)
      g += (scales[j] as number) * ((views[j] as Float32Array)[i] as number);
    const a = momentum * (accumulation[i] as number) + g;
    accumulation[i] = a;
    weights[i] = (weights[i] as number) - lr * a;
  }
}

function runTrain(net: Net, job: TrainJob): void {
  const { ctl, workers, worker: k, batchSize, learningRate: lr, momentum, grads } = job;
  const data = datasetOf(job);
  const [h, w, c] = data.shape;
  const builder = new BatchBuilder(data, Math.ceil(batchSize / workers));
  const variables = PARAM_SLOTS.map((s) => net.variable(s.name));
  // This replica's weights and momentum: every worker applies the same
  // reduced gradient in the same order, so replicas stay bit-identical and no
  // weights cross threads during the epoch.
  const weights = Float32Array.from(job.weights);
  const accumulation = new Float32Array(PARAM_COUNT);
  let step = 0;
  for (let epoch = 0; epoch < job.epochs; epoch++) {
    const order = job.orders?.subarray(epoch * data.count, (epoch + 1) * data.count);
    for (let start = 0; start < data.count; start += batchSize, step++) {
      const n = Math.min(batchSize, data.count - start);
      const base = Math.floor(n / workers);
      const rem = n % workers;
      const parity = step & 1;
      // Shard j of this batch: examples [offset(j), offset(j) + size(j)).
      const size = (j: number) => base + (j < rem ? 1 : 0);
      const offset = (j: number) => j * base + Math.min(j, rem);
      const mine = grads.subarray(
        (parity * workers + k) * PARAM_COUNT,
        (parity * workers + k + 1) * PARAM_COUNT,
      );
      const nk = size(k);
      if (nk > 0) {
        const batch = builder.fill(start + offset(k), nk, order);
        const loss = tf.tidy(() => {
          const x = tf.tensor4d(batch.x, [nk, h, w, c]);
          const y = tf.tensor1d(batch.y, "int32");
          const { value, grads: g } = tf.variableGrads(
            () => crossEntropy(net.predict(x), y),
            variables,
          );
          for (const [i, slot] of PARAM_SLOTS.entries()) {
            const name = (variables[i] as tf.Variable).name;
            mine.set(values(g[name] as tf.Tensor), slot.offset);
          }
          return value.dataSync()[0] as number;
        });
        job.shardLoss[parity * workers + k] = loss * nk;
      } else {
        mine.fill(0);
        job.shardLoss[parity * workers + k] = 0;
      }
      arriveAndWait(ctl, workers);
      // The full batch's mean-loss gradient (shard means weighted by size/n,
      // summed in worker order: deterministic for a given worker count) and
      // PyTorch's SGD with momentum (a ← m·a + g; w ← w − lr·a), in one pass.
      let lossSum = 0;
      const views: Float32Array[] = [];
      const scales: number[] = [];
      for (let j = 0; j < workers; j++) {
        const nj = size(j);
        if (nj === 0) continue;
        const from = (parity * workers + j) * PARAM_COUNT;
        views.push(grads.subarray(from, from + PARAM_COUNT));
        scales.push(nj / n);
        lossSum += job.shardLoss[parity * workers + j] as number;
      }
      sgdMomentumStep(weights, accumulation, views, scales, lr, momentum);
      assignWeights(net, weights);
      if (k === 0) {
        job.losses[step] = lossSum / n;
        Atomics.store(ctl, CTL.progress, step + 1);
        signal(ctl);
      }
    }
  }
  // The slots of the last two steps may still be read by slower workers, but
  // `weights` is only read before the first barrier: safe to overwrite.
  if (k === 0) job.weights.set(weights);
}

function runEval(net: Net, job: EvalJob): void {
  const data = datasetOf(job);
  const from = Math.floor((job.worker * data.count) / job.workers);
  const to = Math.floor(((job.worker + 1) * data.count) / job.workers);
  const builder = new BatchBuilder(data, job.batchSize);
  let lossSum = 0;
  let correct = 0;
  for (let start = from; start < to; start += job.batchSize) {
    const n = Math.min(job.batchSize, to - start);
    const r = evaluateBatch(net, builder.fill(start, n), data.shape);
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
    replica ??= createNet();
    assignWeights(replica, job.weights);
    if (job.kind === "train") runTrain(replica, job);
    else runEval(replica, job);
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
