/**
 * `FlwrSoftmaxCrossEntropy`: mean softmax cross-entropy of logits [n, k]
 * against int32 labels [n], and its gradient with respect to the logits
 * ((softmax − one-hot)/n), in one pass over the (small) logits. Replaces the
 * dozen kernels of tfjs's softmaxCrossEntropy + oneHot and their gradients.
 */
import type * as tf from "../tf.js";
import { BackendAccess } from "./backend-access.js";

/** Name of the kernel. */
export const SOFTMAX_CROSS_ENTROPY = "FlwrSoftmaxCrossEntropy";

/** Creates the kernel config for `backendName`: inputs logits, labels; outputs [loss (scalar), dLogits]. */
export function softmaxCrossEntropyConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: SOFTMAX_CROSS_ENTROPY,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const access = new BackendAccess(backend, backendName);
      const { logits, labels } = inputs as Record<string, tf.TensorInfo>;
      if (
        !logits ||
        !labels ||
        logits.shape.length !== 2 ||
        labels.shape.length !== 1 ||
        labels.shape[0] !== logits.shape[0]
      ) {
        throw new Error(`${SOFTMAX_CROSS_ENTROPY}: expects logits [n, k] and labels [n]`);
      }
      if (labels.dtype !== "int32")
        throw new Error(`${SOFTMAX_CROSS_ENTROPY}: labels must be int32`);
      const [n, k] = logits.shape as [number, number];
      const lossOut = access.zeros([]);
      const gradOut = access.zeros([n, k]);
      const z = access.read(logits);
      const y = access.readInt32(labels);
      const grad = access.read(gradOut.info);
      const total = softmaxCrossEntropyInto(z, y, n, k, grad);
      access.read(lossOut.info)[0] = total / n;
      return [lossOut.info, gradOut.info];
    },
  };
}

/**
 * Writes (softmax(z) − one-hot(labels))/n for logits z [n, k] into grad and
 * returns the summed (not mean) cross-entropy. Throws a RangeError on a label
 * outside 0..k−1.
 */
export function softmaxCrossEntropyInto(
  z: Float32Array,
  y: Int32Array,
  n: number,
  k: number,
  grad: Float32Array,
): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const base = i * k;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < k; j++) max = Math.max(max, z[base + j] as number);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp((z[base + j] as number) - max);
    const label = y[i] as number;
    if (!(label >= 0 && label < k))
      throw new RangeError(`${SOFTMAX_CROSS_ENTROPY}: label ${label} outside 0..${k - 1}`);
    const logSum = Math.log(sum) + max;
    total += logSum - (z[base + label] as number);
    for (let j = 0; j < k; j++) {
      grad[base + j] = (Math.exp((z[base + j] as number) - logSum) - (j === label ? 1 : 0)) / n;
    }
  }
  return total;
}
