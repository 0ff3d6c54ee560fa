/**
 * The cpu backend with this package's kernels against the cpu backend's own
 * (stock) kernels, to 1e-4; plus a finite-difference check of the whole
 * gradient of a small conv/pool net.
 */

import { beforeAll, describe, expect, it } from "vitest";
import { originalKernel } from "../src/kernels/backend-access.js";
import { registerTrainingKernels } from "../src/kernels/register.js";
import * as tf from "../src/tf.js";
import {
  CONV_CASES,
  convOutShape,
  maxAbsDiff,
  POOL_CASES,
  poolOutShape,
  randomValues,
  runKernel,
  sizeOf,
} from "./helpers/kernel-cases.js";

const TOL = 1e-4;

function stockAndOurs(
  name: string,
  inputs: Record<string, Float32Array>,
  shapes: Record<string, number[]>,
  attrs: object,
) {
  const ours = runKernel(name, inputs, shapes, attrs);
  const reference = tf.tidy(() => {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) tensors[k] = tf.tensor(v, shapes[k]);
    const info = originalKernel(name, "cpu").kernelFunc({
      inputs: tensors as tf.NamedTensorInfoMap,
      attrs: attrs as tf.NamedAttrMap,
      backend: tf.backend(),
    }) as tf.TensorInfo;
    const t = tf.engine().makeTensorFromTensorInfo(info);
    return { shape: t.shape, values: t.dataSync() as Float32Array };
  });
  return { ours, reference };
}

beforeAll(async () => {
  registerTrainingKernels("cpu");
  const warn = console.warn;
  console.warn = () => {};
  await tf.setBackend("cpu");
  console.warn = warn;
});

describe("cpu kernels against the stock cpu kernels", () => {
  for (const c of CONV_CASES) {
    it(`Conv2DBackpropFilter: ${c.name}`, () => {
      const dyShape = convOutShape(c);
      const { ours, reference } = stockAndOurs(
        tf.Conv2DBackpropFilter,
        { x: randomValues(sizeOf(c.x), 11), dy: randomValues(sizeOf(dyShape), 12) },
        { x: c.x, dy: dyShape },
        { strides: c.strides, pad: c.pad, dataFormat: "NHWC", filterShape: c.filter },
      );
      expect(ours.shape).toEqual(c.filter);
      expect(maxAbsDiff(ours.values, reference.values)).toBeLessThan(TOL);
    });
    it(`Conv2DBackpropInput: ${c.name}`, () => {
      const dyShape = convOutShape(c);
      const { ours, reference } = stockAndOurs(
        tf.Conv2DBackpropInput,
        { dy: randomValues(sizeOf(dyShape), 13), filter: randomValues(sizeOf(c.filter), 14) },
        { dy: dyShape, filter: c.filter },
        { strides: c.strides, pad: c.pad, dataFormat: "NHWC", inputShape: c.x },
      );
      expect(ours.shape).toEqual(c.x);
      expect(maxAbsDiff(ours.values, reference.values)).toBeLessThan(TOL);
    });
  }
  for (const c of POOL_CASES) {
    it(`MaxPoolGrad: ${c.name} (negative inputs)`, () => {
      const x = randomValues(sizeOf(c.x), 15).map((v) => v - 0.5);
      const outShape = poolOutShape(c);
      const output = tf.tidy(() =>
        tf.maxPool(tf.tensor4d(x, c.x), c.filterSize, c.strides, c.pad).dataSync(),
      ) as Float32Array;
      const { ours, reference } = stockAndOurs(
        tf.MaxPoolGrad,
        { dy: randomValues(sizeOf(outShape), 16), input: x, output },
        { dy: outShape, input: c.x, output: outShape },
        { filterSize: c.filterSize, strides: c.strides, pad: c.pad },
      );
      expect(maxAbsDiff(ours.values, reference.values)).toBeLessThan(TOL);
    });
  }
});

describe("finite differences", () => {
  it("the gradient of conv → maxpool (negative maxima) → sum of squares matches central differences", () => {
    const xv = randomValues(1 * 7 * 6 * 2, 21).map((v) => v - 1);
    const wv = randomValues(3 * 2 * 2 * 3, 22);
    const x = tf.tensor4d(xv, [1, 7, 6, 2]);
    const loss = (w: Float32Array | tf.Tensor): tf.Scalar =>
      tf.tidy(() => {
        const wt = w instanceof tf.Tensor ? w : tf.tensor4d(w, [3, 2, 2, 3]);
        return tf
          .conv2d(x, wt as tf.Tensor4D, 1, "same")
          .maxPool([2, 2], 2, "valid")
          .square()
          .sum() as tf.Scalar;
      });
    const analytic = tf.tidy(() =>
      tf
        .grad((w: tf.Tensor) => loss(w))(tf.tensor4d(wv, [3, 2, 2, 3]))
        .dataSync(),
    );
    const f64 = Float64Array.from(wv);
    const eps = 1e-2;
    const numeric = new Float32Array(wv.length);
    for (let i = 0; i < wv.length; i++) {
      const plus = Float32Array.from(f64);
      const minus = Float32Array.from(f64);
      plus[i] = (plus[i] as number) + eps;
      minus[i] = (minus[i] as number) - eps;
      numeric[i] = (loss(plus).dataSync()[0]! - loss(minus).dataSync()[0]!) / (2 * eps);
    }
    // Central differences on float32 are good to ~1e-3 here (the loss is quadratic in w
    // away from pooling switches, so the difference quotient is exact up to rounding).
    expect(maxAbsDiff(analytic, numeric)).toBeLessThan(2e-3);
    x.dispose();
  });
});
