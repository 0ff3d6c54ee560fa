/**
 * `Conv2DBackpropInput` (the input gradient of a 2-D convolution) for stride 1
 * as a forward `Conv2D` of dy with the filter rotated by 180° and its in/out
 * channels swapped, padded by (kernel − 1 − forward padding) on each side: one
 * call of the backend's fast convolution instead of the wasm backend's slow
 * kernel. Strided convolutions fall back to the backend's own kernel.
 */
import * as tf from "../tf.js";
import { BackendAccess, originalKernel } from "./backend-access.js";
import { UnsupportedKernelConfigError } from "./errors.js";

/** Creates the `Conv2DBackpropInput` kernel config for `backendName`. */
export function conv2dBackpropInputConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: tf.Conv2DBackpropInput,
    backendName,
    kernelFunc: (args) => {
      const { inputs, attrs, backend } = args;
      const access = new BackendAccess(backend, backendName);
      const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, inputShape } =
        attrs as unknown as tf.Conv2DBackpropInputAttrs;
      if (dataFormat !== undefined && dataFormat !== "NHWC") {
        throw new UnsupportedKernelConfigError(
          "Conv2DBackpropInput",
          `dataFormat ${dataFormat} (only NHWC)`,
        );
      }
      const info = tf.backend_util.computeConv2DInfo(
        inputShape,
        filter.shape as [number, number, number, number],
        strides,
        1,
        pad,
        dimRoundingMode,
      );
      const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
      const { top, left } = info.padInfo;
      const padT = kh - 1 - top;
      const padL = kw - 1 - left;
      // Bottom/right: whatever makes the output exactly the input's size.
      const padB = info.inHeight - (info.outHeight + padT - kh + 1);
      const padR = info.inWidth - (info.outWidth + padL - kw + 1);
      if (sh !== 1 || sw !== 1 || padT < 0 || padL < 0 || padB < 0 || padR < 0) {
        // Strided or over-padded convolutions: the backend's own kernel is correct.
        return originalKernel(tf.Conv2DBackpropInput, backendName).kernelFunc(args);
      }
      const temps: tf.TensorInfo[] = [];
      try {
        const reversed = access.run(tf.Reverse, { x: filter }, { dims: [0, 1] });
        temps.push(reversed);
        const rotated = access.run(tf.Transpose, { x: reversed }, { perm: [0, 1, 3, 2] });
        temps.push(rotated);
        return access.run(
          tf.Conv2D,
          { x: dy, filter: rotated },
          {
            strides: [1, 1],
            pad: [
              [0, 0],
              [padT, padB],
              [padL, padR],
              [0, 0],
            ],
            dataFormat: "NHWC",
            dilations: [1, 1],
          },
        );
      } finally {
        for (const t of temps) access.dispose(t);
      }
    },
  };
}
