/**
 * `MaxPoolGrad`: routes each output gradient to the position of its window's
 * maximum (the first one on ties, as TensorFlow does). The wasm backend's own
 * kernel loses the gradient when a window's maximum is negative; this one is a
 * plain loop over the input, correct for any sign, and fast for the small
 * windows CNNs use.
 */
import * as tf from "../tf.js";
import { BackendAccess } from "./backend-access.js";
import { UnsupportedKernelConfigError } from "./errors.js";

/** Creates the `MaxPoolGrad` kernel config for `backendName`. */
export function maxPoolGradConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: tf.MaxPoolGrad,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const access = new BackendAccess(backend, backendName);
      const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
      const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
      if (input.shape.length !== 4) {
        throw new UnsupportedKernelConfigError(
          "MaxPoolGrad",
          `rank-${input.shape.length} input (only NHWC rank 4)`,
        );
      }
      const info = tf.backend_util.computePool2DInfo(
        input.shape as [number, number, number, number],
        filterSize,
        strides,
        1,
        pad,
        dimRoundingMode,
      );
      const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
      const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
      const padTop = info.padInfo.top;
      const padLeft = info.padInfo.left;
      if (dy.shape[1] !== outHeight || dy.shape[2] !== outWidth || dy.shape[3] !== inChannels) {
        throw new Error(`MaxPoolGrad: dy shape [${dy.shape}] does not match the pooling output`);
      }
      const out = access.zeros([...input.shape]);
      // Views are taken after the last allocation: the heap cannot move under them.
      const dx = out.data;
      const x = access.read(input);
      const g = access.read(dy);
      const rowStride = inWidth * inChannels;
      const imageStride = inHeight * rowStride;
      if (
        filterHeight === 2 &&
        filterWidth === 2 &&
        strideHeight === 2 &&
        strideWidth === 2 &&
        padTop === 0 &&
        padLeft === 0 &&
        outHeight * 2 <= inHeight &&
        outWidth * 2 <= inWidth
      ) {
        maxPool2x2Grad(x, g, dx, batchSize, inHeight, inWidth, inChannels, outHeight, outWidth);
        return out.info;
      }
      let gi = 0;
      for (let b = 0; b < batchSize; b++) {
        const imageBase = b * imageStride;
        for (let oh = 0; oh < outHeight; oh++) {
          const h0 = oh * strideHeight - padTop;
          const hStart = Math.max(0, h0);
          const hEnd = Math.min(inHeight, h0 + filterHeight);
          for (let ow = 0; ow < outWidth; ow++) {
            const w0 = ow * strideWidth - padLeft;
            const wStart = Math.max(0, w0);
            const wEnd = Math.min(inWidth, w0 + filterWidth);
            for (let c = 0; c < inChannels; c++, gi++) {
              let best = -1;
              let bestValue = Number.NEGATIVE_INFINITY;
              for (let h = hStart; h < hEnd; h++) {
                let idx = imageBase + h * rowStride + wStart * inChannels + c;
                for (let w = wStart; w < wEnd; w++, idx += inChannels) {
                  const v = x[idx] as number;
                  // `best < 0` takes the first element even if it is -Infinity or NaN.
                  if (v > bestValue || best < 0) {
                    bestValue = v;
                    best = idx;
                  }
                }
              }
              if (best >= 0) dx[best] = (dx[best] as number) + (g[gi] as number);
            }
          }
        }
      }
      return out.info;
    },
  };
}

/** The common 2×2/stride-2 unpadded case, with the window unrolled. */
function maxPool2x2Grad(
  x: Float32Array,
  g: Float32Array,
  dx: Float32Array,
  batchSize: number,
  inHeight: number,
  inWidth: number,
  channels: number,
  outHeight: number,
  outWidth: number,
): void {
  const row = inWidth * channels;
  let gi = 0;
  for (let b = 0; b < batchSize; b++) {
    const imageBase = b * inHeight * row;
    for (let oh = 0; oh < outHeight; oh++) {
      const rowBase = imageBase + 2 * oh * row;
      for (let ow = 0; ow < outWidth; ow++) {
        const i00 = rowBase + 2 * ow * channels;
        for (let c = 0; c < channels; c++, gi++) {
          const a = i00 + c;
          const bIdx = a + channels;
          const cIdx = a + row;
          const dIdx = cIdx + channels;
          // First maximum in row-major window order (a, b, c, d), NaN-free inputs.
          let best = a;
          let v = x[a] as number;
          const vb = x[bIdx] as number;
          if (vb > v) {
            v = vb;
            best = bIdx;
          }
          const vc = x[cIdx] as number;
          if (vc > v) {
            v = vc;
            best = cIdx;
          }
          if ((x[dIdx] as number) > v) best = dIdx;
          dx[best] = (dx[best] as number) + (g[gi] as number);
        }
      }
    }
  }
}
