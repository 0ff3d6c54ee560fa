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

/** Fields every job has. */
interface JobBase {
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
 * Synchronous data-parallel SGD: every step's batch is split across the
 * workers, gradients are exchanged through `grads`, and every worker applies
 * the same reduced update to its replica.
 */
export interface TrainJob extends JobBase {
  kind: "train";
  epochs: number;
  batchSize: number;
  learningRate: number;
  momentum: number;
  /** Example order of each epoch (epochs × count), or null for the natural order. */
  orders: Uint32Array | null;
  /** Gradient slots: 2 (double buffer) × workers × PARAM_COUNT. */
  grads: Float32Array;
  /** Sum of each shard's per-example losses: 2 × workers. */
  shardLoss: Float64Array;
  /** Mean loss of each step (written by worker 0). */
  losses: Float64Array;
}

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
