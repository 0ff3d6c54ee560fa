/**
 * The classification loss of a generic model: softmax cross-entropy against
 * integer labels, on logits or on probabilities (a model ending in softmax).
 */
import * as tf from "../tf.js";
import { crossEntropy } from "../train.js";
import { TrainingOptionsError } from "../training-options.js";

/** What the model outputs: raw scores (`logits`) or a softmax (`probabilities`). */
export type ModelOutput = "logits" | "probabilities";

/** Clipping of probabilities before the log, as Keras's `sparse_categorical_crossentropy`. */
const EPSILON = 1e-7;

/**
 * `option` if given, else `probabilities` when the layer producing the
 * model's output has a softmax activation (or is a `Softmax` layer), else `logits`.
 */
export function modelOutputOf(model: tf.LayersModel, option?: ModelOutput | "auto"): ModelOutput {
  if (option === "logits" || option === "probabilities") return option;
  if (option !== undefined && option !== "auto") {
    throw new TrainingOptionsError(
      `output must be "auto", "logits" or "probabilities", got ${String(option)}`,
    );
  }
  if (model.outputs.length !== 1) {
    throw new TrainingOptionsError(
      `the model must have one output, it has ${model.outputs.length}`,
    );
  }
  const layer = model.outputs[0]?.sourceLayer as tf.layers.Layer | undefined;
  if (!layer) return "logits";
  if (layer.getClassName() === "Softmax") return "probabilities";
  const activation = (layer.getConfig() as { activation?: unknown }).activation;
  return activation === "softmax" ? "probabilities" : "logits";
}

function checkOutput(out: tf.Tensor, n: number): tf.Tensor2D {
  if (out.rank !== 2 || out.shape[0] !== n) {
    throw new TrainingOptionsError(
      `the model's output has shape [${out.shape}], expected [${n}, classes] (one score per class)`,
    );
  }
  return out as tf.Tensor2D;
}

/** Mean cross-entropy over the batch (the training loss). */
export function meanLoss(out: tf.Tensor, labels: tf.Tensor1D, kind: ModelOutput): tf.Scalar {
  const o = checkOutput(out, labels.shape[0]);
  if (kind === "logits") return crossEntropy(o, labels);
  return tf.tidy(() => tf.neg(tf.mean(pickedLog(o, labels))) as tf.Scalar);
}

/** Summed cross-entropy over the batch (for evaluation). */
export function summedLoss(out: tf.Tensor, labels: tf.Tensor1D, kind: ModelOutput): tf.Scalar {
  const o = checkOutput(out, labels.shape[0]);
  return tf.tidy(() => {
    if (kind === "logits") {
      return tf.losses.softmaxCrossEntropy(
        tf.oneHot(labels, o.shape[1]),
        o,
        undefined,
        undefined,
        tf.Reduction.SUM,
      ) as tf.Scalar;
    }
    return tf.neg(tf.sum(pickedLog(o, labels))) as tf.Scalar;
  });
}

/** log p[i, label_i], p clipped to [ε, 1 − ε]. */
function pickedLog(p: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const picked = tf.sum(tf.mul(p, tf.oneHot(labels, p.shape[1])), 1);
  return tf.log(tf.clipByValue(picked, EPSILON, 1 - EPSILON)) as tf.Tensor1D;
}
