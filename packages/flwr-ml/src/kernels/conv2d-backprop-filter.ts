/**
 * `Conv2DBackpropFilter` (the filter gradient of a 2-D convolution) expressed
 * through the backend's own forward `Conv2D`: the wasm backend has no such
 * kernel, and the cpu backend's takes seconds per batch.
 *
 * With x padded as the forward pass did, dW[i,j,c,o] = Σ_{n,p,q}
 * x[n, p·s + i, q·s + j, c] · dy[n,p,q,o]. Moving the batch of x into the
 * channel position (x' = [C, H, W, N]) and using dy as a filter
 * (dy' = [Ho, Wo, N, O]) makes that a valid convolution of x' with dy' at
 * dilation s, whose output [C, kh, kw, O] is transposed to [kh, kw, C, O].
 */
import * as tf from "../tf.js";
import { BackendAccess } from "./backend-access.js";
import { UnsupportedKernelConfigError } from "./errors.js";

/** Creates the `Conv2DBackpropFilter` kernel config for `backendName`. */
export function conv2dBackpropFilterConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: tf.Conv2DBackpropFilter,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const access = new BackendAccess(backend, backendName);
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
        attrs as unknown as tf.Conv2DBackpropFilterAttrs;
      if (dataFormat !== undefined && dataFormat !== "NHWC") {
        throw new UnsupportedKernelConfigError(
          "Conv2DBackpropFilter",
          `dataFormat ${dataFormat} (only NHWC)`,
        );
      }
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filterShape,
        strides,
        1,
        pad,
        dimRoundingMode,
      );
      const { top, bottom, left, right } = info.padInfo;
      const {
        strideHeight: sh,
        strideWidth: sw,
        filterHeight: kh,
        filterWidth: kw,
        outHeight: ho,
        outWidth: wo,
      } = info;
      if (top < 0 || bottom < 0 || left < 0 || right < 0) {
        throw new UnsupportedKernelConfigError("Conv2DBackpropFilter", "negative padding");
      }
      const temps: tf.TensorInfo[] = [];
      try {
        // Only the rows/columns the forward pass read: (out - 1)·stride + kernel.
        const needH = (ho - 1) * sh + kh;
        const needW = (wo - 1) * sw + kw;
        let xp = x;
        if (top + bottom + left + right > 0) {
          xp = access.run(
            tf.PadV2,
            { x },
            {
              paddings: [
                [0, 0],
                [top, bottom],
                [left, right],
                [0, 0],
              ],
              constantValue: 0,
            },
          );
          temps.push(xp);
        }
        const [n, hp, wp, c] = xp.shape as [number, number, number, number];
        if (hp > needH || wp > needW) {
          xp = access.run(tf.Slice, { x: xp }, { begin: [0, 0, 0, 0], size: [n, needH, needW, c] });
          temps.push(xp);
        }
        const xT = access.run(tf.Transpose, { x: xp }, { perm: [3, 1, 2, 0] });
        temps.push(xT);
        const dyT = access.run(tf.Transpose, { x: dy }, { perm: [1, 2, 0, 3] });
        temps.push(dyT);
        const conv = access.run(
          tf.Conv2D,
          { x: xT, filter: dyT },
          {
            strides: [1, 1],
            pad: "valid",
            dataFormat: "NHWC",
            dilations: [sh, sw],
          },
        );
        temps.push(conv);
        return access.run(tf.Transpose, { x: conv }, { perm: [1, 2, 0, 3] });
      } finally {
        for (const t of temps) if (t !== x) access.dispose(t);
      }
    },
  };
}
