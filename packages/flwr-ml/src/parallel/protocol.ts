/**
 * Messages between the coordinator (the thread that called `train`/`test`)
 * and the training workers. Typed arrays in a job are views of
 * SharedArrayBuffers: posting them shares the memory, nothing is copied.
 */
import type { MessagePort } from "node:worker_threads";
import type { BackendChoice } from "../backend.js";

/** Data given to each worker at start-up. */
export interface WorkerInit {
  /** The backend to initialise (the coordinator's choice). */
  backend: BackendChoice;
  /** Port for replies (the coordinator reads it synchronously when it must block). */
  replies: MessagePort;
  /** Per-worker health flags of the pool (set to 1 by a worker that failed to start). */
  health: Int32Array;
}

/** The dataset as shared views. */
export interface SharedDataset {
  count: number;
  shape: [number, number, number];
  numClasses: number;
  pixels: Uint8Array | Float32Array;
  labels: Uint8Array | Int32Array;
}

/**
 * A generic `tf.LayersModel` for the workers to rebuild (absent for the seed's
 * Net): `weights`/`result` then hold all its weights (`model.weights` order)
 * and the gradient slots its trainable ones (`trainableWeights` order).
 */
export interface ModelSpec {
  /** `JSON.stringify(model.toJSON(null, false))`. */
  topology: string;
  /** Values in the trainable weights. */
  paramCount: number;
  /** One example's shape. */
  exampleShape: number[];
  /** What the model outputs. */
  output: "logits" | "probabilities";
}

/** Fields every job has. */
interface JobBase {
  /** The generic model, or null for the Net. */
  model?: ModelSpec | null;
  /** This worker's index (0-based). */
  worker: number;
  /** Workers taking part. */
  workers: number;
  /** Control array ({@link CTL}). */
  ctl: Int32Array;
  /** The data. */
  data: SharedDataset;
  /** The model's weights, flat ({@link PARAM_SLOTS}); train jobs write the final weights back. */
  weights: Float32Array;
}

/**
 * Synchronous data-parallel SGD: every step's batch is cut into `workers`
 * contiguous chunks; workers claim chunks dynamically (a worker the OS has
 * descheduled leaves its chunk to the others), write each chunk's gradient to
 * the chunk's slot, and every worker applies the same reduced update to its
 * replica once all chunks of the step are done.
 */
export interface TrainJob extends JobBase {
  kind: "train";
  epochs: number;
  batchSize: number;
  learningRate: number;
  momentum: number;
  /** Example order of each epoch (epochs × count), or null for the natural order. */
  orders: Uint32Array | null;
  /** Gradient slots: {@link GRADIENT_RING} steps × workers (chunks) × PARAM_COUNT. */
  grads: Float32Array;
  /** Sum of each chunk's per-example losses: {@link GRADIENT_RING} × workers. */
  chunkLoss: Float64Array;
  /**
   * Step bookkeeping: [0, workers) steps each worker has applied; then per
   * step the next chunk to claim; then per step the chunks done.
   */
  steps: Int32Array;
  /** Mean loss of each step (written by the first worker to apply it). */
  losses: Float64Array;
  /** The trained weights (written by worker 0 at the end). */
  result: Float32Array;
}

/** Steps whose gradient slots exist at once: how far a worker may run ahead of the slowest. */
export const GRADIENT_RING = 4;

/** Evaluation of a contiguous range of examples. */
export interface EvalJob extends JobBase {
  kind: "eval";
  batchSize: number;
  /** Per worker: [loss sum, correct count]. */
  results: Float64Array;
}

/** A job. */
export type Job = TrainJob | EvalJob;

/** A worker's reply when its part of a job ends. */
export type JobReply =
  | { ok: true; worker: number }
  | { ok: false; worker: number; error: string; aborted: boolean };
