/**
 * `BatchMatMul` with a transposed operand: the wasm backend's kernel is about
 * six times slower on transposed operands than transposing first, and dense
 * layers' gradients use exactly those (dy·Wᵀ, xᵀ·dy). This wrapper transposes
 * the operand with the backend's own `Transpose` and calls the backend's own
 * `BatchMatMul` untransposed.
 */
import * as tf from "@tensorflow/tfjs";
import { BackendAccess, originalKernel } from "./backend-access.js";

/** Creates the `BatchMatMul` kernel config (wrapping the original) for `backendName`. */
export function batchMatMulConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: tf.BatchMatMul,
    backendName,
    kernelFunc: (args) => {
      const { inputs, attrs, backend } = args;
      const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
      const original = originalKernel(tf.BatchMatMul, backendName);
      if (!transposeA && !transposeB) return original.kernelFunc(args);
      const access = new BackendAccess(backend, backendName);
      const temps: tf.TensorInfo[] = [];
      const swapLast = (t: tf.TensorInfo): tf.TensorInfo => {
        const rank = t.shape.length;
        const perm = [...Array(rank).keys()];
        perm[rank - 1] = rank - 2;
        perm[rank - 2] = rank - 1;
        const out = access.run(tf.Transpose, { x: t }, { perm });
        temps.push(out);
        return out;
      };
      try {
        const a2 = transposeA ? swapLast(a) : a;
        const b2 = transposeB ? swapLast(b) : b;
        const out = original.kernelFunc({
          inputs: { a: a2, b: b2 },
          attrs: { ...attrs, transposeA: false, transposeB: false },
          backend,
        });
        return out;
      } finally {
        for (const t of temps) access.dispose(t);
      }
    },
  };
}
