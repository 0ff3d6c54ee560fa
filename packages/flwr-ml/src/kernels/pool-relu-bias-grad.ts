/**
 * `FlwrPoolReluBiasGrad`: the backward pass of max-pool 2×2/2 over
 * ReLU(conv + bias) in one pass. From the ReLU output y [n, h, w, c] and the
 * pooled gradient dy [n, ⌊h/2⌋, ⌊w/2⌋, c], it routes each gradient to its
 * window's first maximum (as MaxPoolGrad does), keeps it where y > 0 (ReLU's
 * derivative, 0 at 0 as tf.step), and sums the result per channel (the bias
 * gradient). Replaces MaxPoolGrad, Step, Multiply and Sum: four kernels and
 * three passes over the largest activation of the step.
 */
import type * as tf from "../tf.js";
import { BackendAccess } from "./backend-access.js";
import { UnsupportedKernelConfigError } from "./errors.js";

/** Name of the kernel. */
export const POOL_RELU_BIAS_GRAD = "FlwrPoolReluBiasGrad";

/** Creates the kernel config for `backendName`: inputs y, dy; outputs [dz (shape of y), db [c]]. */
export function poolReluBiasGradConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: POOL_RELU_BIAS_GRAD,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const access = new BackendAccess(backend, backendName);
      const { y, dy } = inputs as Record<string, tf.TensorInfo>;
      if (!y || !dy || y.shape.length !== 4 || dy.shape.length !== 4) {
        throw new Error(`${POOL_RELU_BIAS_GRAD}: expects y [n, h, w, c] and dy [n, h/2, w/2, c]`);
      }
      const [n, h, w, c] = y.shape as [number, number, number, number];
      const [dn, oh, ow, dc] = dy.shape as [number, number, number, number];
      if (dn !== n || dc !== c || oh !== Math.floor(h / 2) || ow !== Math.floor(w / 2)) {
        throw new UnsupportedKernelConfigError(
          POOL_RELU_BIAS_GRAD,
          `dy [${dy.shape}] is not the 2×2/2 pooling of y [${y.shape}]`,
        );
      }
      const layout = (attrs as { dzLayout?: string } | undefined)?.dzLayout ?? "NHWC";
      if (layout !== "NHWC" && layout !== "HWNC") {
        throw new UnsupportedKernelConfigError(POOL_RELU_BIAS_GRAD, `dzLayout ${layout}`);
      }
      if (layout === "HWNC") return hwnc(access, y, dy, n, h, w, c);
      const dzOut = access.zeros([n, h, w, c]);
      const dbOut = access.zeros([c]);
      // Views after the last allocation.
      const x = access.read(y);
      const g = access.read(dy);
      const dz = access.read(dzOut.info);
      const db = new Float64Array(c);
      const row = w * c;
      let gi = 0;
      for (let b = 0; b < n; b++) {
        const imageBase = b * h * row;
        for (let i = 0; i < oh; i++) {
          const rowBase = imageBase + 2 * i * row;
          for (let j = 0; j < ow; j++) {
            const i00 = rowBase + 2 * j * c;
            for (let k = 0; k < c; k++, gi++) {
              const a = i00 + k;
              const bIdx = a + c;
              const cIdx = a + row;
              const dIdx = cIdx + c;
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
              const vd = x[dIdx] as number;
              if (vd > v) {
                v = vd;
                best = dIdx;
              }
              if (v > 0) {
                const gv = g[gi] as number;
                dz[best] = gv;
                db[k] = (db[k] as number) + gv;
              }
            }
          }
        }
      }
      access.read(dbOut.info).set(db);
      return [dzOut.info, dbOut.info];
    },
  };
}

/**
 * The same with dz written as [h, w, n, c] (the layout a filter-gradient
 * convolution takes dy in: it saves a transpose of the largest activation).
 */
function hwnc(
  access: BackendAccess,
  y: tf.TensorInfo,
  dy: tf.TensorInfo,
  n: number,
  h: number,
  w: number,
  c: number,
): tf.TensorInfo[] {
  const oh = Math.floor(h / 2);
  const ow = Math.floor(w / 2);
  const dzOut = access.zeros([h, w, n, c]);
  const dbOut = access.zeros([c]);
  const x = access.read(y);
  const g = access.read(dy);
  const dz = access.read(dzOut.info);
  const db = new Float64Array(c);
  const row = w * c;
  // Strides of dz [h, w, n, c].
  const zRow = w * n * c;
  const zCol = n * c;
  let gi = 0;
  for (let b = 0; b < n; b++) {
    const imageBase = b * h * row;
    for (let i = 0; i < oh; i++) {
      const rowBase = imageBase + 2 * i * row;
      for (let j = 0; j < ow; j++) {
        const i00 = rowBase + 2 * j * c;
        // dz index of the window's top-left for channel 0.
        const z00 = 2 * i * zRow + 2 * j * zCol + b * c;
        for (let k = 0; k < c; k++, gi++) {
          const a = i00 + k;
          let v = x[a] as number;
          let best = z00 + k;
          const vb = x[a + c] as number;
          if (vb > v) {
            v = vb;
            best = z00 + zCol + k;
          }
          const vc = x[a + row] as number;
          if (vc > v) {
            v = vc;
            best = z00 + zRow + k;
          }
          const vd = x[a + row + c] as number;
          if (vd > v) {
            v = vd;
            best = z00 + zRow + zCol + k;
          }
          if (v > 0) {
            const gv = g[gi] as number;
            dz[best] = gv;
            db[k] = (db[k] as number) + gv;
          }
        }
      }
    }
  }
  access.read(dbOut.info).set(db);
  return [dzOut.info, dbOut.info];
}
