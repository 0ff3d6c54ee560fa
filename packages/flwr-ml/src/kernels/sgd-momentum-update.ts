/**
 * `FlwrSgdMomentumUpdate`: one fused pass of SGD with momentum over a
 * variable (PyTorch semantics): a ← m·a + g; w ← w − lr·a. Replaces four
 * kernel launches and two temporaries per variable and step.
 */
import type * as tf from "../tf.js";
import { BackendAccess } from "./backend-access.js";

/** Name of the kernel. */
export const SGD_MOMENTUM_UPDATE = "FlwrSgdMomentumUpdate";

/** Attributes of {@link SGD_MOMENTUM_UPDATE}. */
export interface SgdMomentumUpdateAttrs {
  learningRate: number;
  momentum: number;
}

/** Creates the kernel config for `backendName` (inputs value, accumulation, gradient; outputs [value, accumulation]). */
export function sgdMomentumUpdateConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: SGD_MOMENTUM_UPDATE,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const access = new BackendAccess(backend, backendName);
      const { value, accumulation, gradient } = inputs as Record<string, tf.TensorInfo>;
      if (!value || !accumulation || !gradient)
        throw new Error(
          `${SGD_MOMENTUM_UPDATE}: inputs value, accumulation and gradient are required`,
        );
      const size = value.shape.reduce((a, b) => a * b, 1);
      const sizes = [accumulation, gradient].map((t) => t.shape.reduce((a, b) => a * b, 1));
      if (sizes.some((s) => s !== size)) throw new Error(`${SGD_MOMENTUM_UPDATE}: shapes differ`);
      const { learningRate, momentum } = attrs as unknown as SgdMomentumUpdateAttrs;
      const newValue = access.zeros([...value.shape]);
      const newAcc = access.zeros([...value.shape]);
      // Views after the last allocation.
      const w = access.read(value);
      const a = access.read(accumulation);
      const g = access.read(gradient);
      const nw = access.read(newValue.info);
      const na = access.read(newAcc.info);
      for (let i = 0; i < size; i++) {
        const acc = momentum * (a[i] as number) + (g[i] as number);
        na[i] = acc;
        nw[i] = (w[i] as number) - learningRate * acc;
      }
      return [newValue.info, newAcc.info];
    },
  };
}
