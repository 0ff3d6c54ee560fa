/**
 * Registers this package's training kernels on a tfjs backend.
 */
import type * as tf from "../tf.js";
import { replaceKernel } from "./backend-access.js";
import { batchMatMulConfig } from "./batch-mat-mul.js";
import { conv2dBackpropFilterConfig } from "./conv2d-backprop-filter.js";
import { conv2dBackpropInputConfig } from "./conv2d-backprop-input.js";
import { cpuDelegateConfig } from "./cpu-delegate.js";
import { maxPoolGradConfig } from "./max-pool-grad.js";
import { poolReluBiasGradConfig } from "./pool-relu-bias-grad.js";
import { sgdMomentumUpdateConfig } from "./sgd-momentum-update.js";
import { softmaxCrossEntropyConfig } from "./softmax-cross-entropy.js";
import { unsortedSegmentSumConfig } from "./unsorted-segment-sum.js";

/** Backends this package has kernels for. */
export type PatchedBackendName = "wasm" | "cpu";

const KERNELS: Record<PatchedBackendName, ((backendName: string) => tf.KernelConfig)[]> = {
  // wasm: Conv2DBackpropFilter is missing, MaxPoolGrad is wrong for negative
  // maxima, Conv2DBackpropInput and transposed BatchMatMul are slow.
  wasm: [
    conv2dBackpropFilterConfig,
    maxPoolGradConfig,
    conv2dBackpropInputConfig,
    batchMatMulConfig,
    sgdMomentumUpdateConfig,
    softmaxCrossEntropyConfig,
    poolReluBiasGradConfig,
    // Missing on wasm, needed by generic models: depthwise/separable
    // convolution gradients (run by the cpu backend's kernels) and the
    // embedding gradient.
    cpuDelegateConfig("DepthwiseConv2dNativeBackpropFilter"),
    cpuDelegateConfig("DepthwiseConv2dNativeBackpropInput"),
    unsortedSegmentSumConfig,
  ],
  // cpu: Conv2DBackpropFilter takes seconds per batch; the others are loops
  // as slow as the forward convolution, replaced by the same formulations.
  // Both: a fused SGD-with-momentum update (FlwrSgdMomentumUpdate), a fused
  // softmax cross-entropy with its gradient (FlwrSoftmaxCrossEntropy), and the
  // fused backward of pool ∘ ReLU ∘ bias (FlwrPoolReluBiasGrad).
  cpu: [
    conv2dBackpropFilterConfig,
    maxPoolGradConfig,
    conv2dBackpropInputConfig,
    sgdMomentumUpdateConfig,
    softmaxCrossEntropyConfig,
    poolReluBiasGradConfig,
  ],
};

const done = new Set<string>();

/**
 * Registers the kernels for `backendName` (idempotent). Call before or after
 * `tf.setBackend`; returns the names of the kernels registered.
 */
export function registerTrainingKernels(backendName: PatchedBackendName): string[] {
  const configs = KERNELS[backendName].map((make) => make(backendName));
  if (!done.has(backendName)) {
    for (const config of configs) replaceKernel(config);
    done.add(backendName);
  }
  return configs.map((c) => c.kernelName);
}
