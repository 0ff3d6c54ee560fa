/**
 * A generic `tf.LayersModel` inside a training worker: rebuilt from its
 * topology (cached per topology), its chunk gradients by autodiff over the
 * trainable weights, PyTorch's SGD-momentum update over a flat copy of them,
 * and evaluation of a batch.
 */

import { readModelFlat } from "../model/model-array-record.js";
import { meanLoss, summedLoss } from "../model/model-loss.js";
import { sgdMomentumFlatStep } from "../sgd-momentum.js";
import * as tf from "../tf.js";
import type { ModelSpec, TrainJob } from "./protocol.js";

/** One worker's replica in a training job: the Net's or a generic model's. */
export interface TrainReplica {
  /** Values in the gradient. */
  paramCount: number;
  /** The chunk's mean loss; its gradient written to `slot`. */
  gradients(batch: { x: Float32Array; y: Int32Array }, n: number, slot: Float32Array): number;
  /** SGD-momentum update with the gradient Σ scaleⱼ·partⱼ. */
  apply(parts: Float32Array[], scales: number[], lr: number, momentum: number): void;
  /** Writes the trained weights (job layout) to `out`. */
  read(out: Float32Array): void;
  /** Frees what the job allocated. */
  dispose(): void;
}

let cached: { topology: string; model: tf.LayersModel } | undefined;

/** The model of `spec`, rebuilt from its topology once per distinct topology. */
export async function modelReplica(spec: ModelSpec): Promise<tf.LayersModel> {
  if (cached?.topology !== spec.topology) {
    cached?.model.dispose();
    const model = await tf.models.modelFromJSON({
      modelTopology: JSON.parse(spec.topology) as tf.io.ModelJSON["modelTopology"],
    });
    cached = { topology: spec.topology, model };
  }
  return cached.model;
}

/** The trainable weights' values as one flat vector. */
function readTrainable(variables: tf.Variable[], out: Float32Array): void {
  let offset = 0;
  for (const v of variables) {
    const values = v.dataSync() as Float32Array;
    out.set(values, offset);
    offset += values.length;
  }
}

/** A training replica of `model` for `job` (its weights already set from the job). */
export function modelTrainReplica(
  model: tf.LayersModel,
  spec: ModelSpec,
  _job: TrainJob,
): TrainReplica {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const weights = new Float32Array(spec.paramCount);
  readTrainable(variables, weights);
  const accumulation = new Float32Array(spec.paramCount);
  return {
    paramCount: spec.paramCount,
    gradients: (batch, n, slot) =>
      tf.tidy(() => {
        const x = tf.tensor(batch.x, [n, ...spec.exampleShape], "float32");
        const y = tf.tensor1d(batch.y, "int32");
        const { value, grads } = tf.variableGrads(
          () => meanLoss(model.apply(x, { training: true }) as tf.Tensor, y, spec.output),
          variables,
        );
        let offset = 0;
        for (const v of variables) {
          const g = (grads[v.name] as tf.Tensor).dataSync() as Float32Array;
          slot.set(g, offset);
          offset += g.length;
        }
        return value.dataSync()[0] as number;
      }),
    apply: (parts, scales, lr, momentum) => {
      sgdMomentumFlatStep(weights, accumulation, parts, scales, lr, momentum);
      tf.tidy(() => {
        let offset = 0;
        for (const v of variables) {
          const size = v.size;
          v.assign(tf.tensor(weights.subarray(offset, offset + size), v.shape, "float32"));
          offset += size;
        }
      });
    },
    read: (out) => readModelFlat(model, out),
    dispose: () => {},
  };
}

/** Summed loss and correct predictions of one batch. */
export function evaluateModelBatch(
  model: tf.LayersModel,
  spec: ModelSpec,
  batch: { x: Float32Array; y: Int32Array },
): { lossSum: number; correct: number } {
  const n = batch.y.length;
  return tf.tidy(() => {
    const out = model.apply(tf.tensor(batch.x, [n, ...spec.exampleShape], "float32"), {
      training: false,
    }) as tf.Tensor;
    const y = tf.tensor1d(batch.y, "int32");
    const loss = summedLoss(out, y, spec.output);
    const ok = tf.equal(tf.argMax(out, 1), y).cast("float32").sum();
    return { lossSum: loss.dataSync()[0] as number, correct: ok.dataSync()[0] as number };
  });
}
