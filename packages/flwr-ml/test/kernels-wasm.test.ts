/**
 * The wasm backend with this package's kernels against the stock cpu backend
 * (whose kernels are correct, only slow), to 1e-4.
 */
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, it } from "vitest";
import { originalKernel } from "../src/kernels/backend-access.js";
import { UnsupportedKernelConfigError } from "../src/kernels/errors.js";
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

function onBoth(
  name: string,
  inputs: Record<string, Float32Array>,
  shapes: Record<string, number[]>,
  attrs: object,
) {
  const warn = console.warn;
  console.warn = () => {};
  tf.setBackend("cpu");
  console.warn = warn;
  const reference = runKernel(name, inputs, shapes, attrs);
  tf.setBackend("wasm");
  const ours = runKernel(name, inputs, shapes, attrs);
  return { reference, ours };
}

beforeAll(async () => {
  expect(registerTrainingKernels("wasm")).toEqual([
    "Conv2DBackpropFilter",
    "MaxPoolGrad",
    "Conv2DBackpropInput",
    "BatchMatMul",
    "FlwrSgdMomentumUpdate",
    "FlwrSoftmaxCrossEntropy",
    "FlwrPoolReluBiasGrad",
    "DepthwiseConv2dNativeBackpropFilter",
    "DepthwiseConv2dNativeBackpropInput",
    "UnsortedSegmentSum",
  ]);
  await tf.setBackend("wasm");
  await tf.ready();
});

describe("wasm Conv2DBackpropFilter", () => {
  for (const c of CONV_CASES) {
    it(`matches the cpu reference: ${c.name}`, () => {
      const dyShape = convOutShape(c);
      const { reference, ours } = onBoth(
        tf.Conv2DBackpropFilter,
        { x: randomValues(sizeOf(c.x), 1), dy: randomValues(sizeOf(dyShape), 2) },
        { x: c.x, dy: dyShape },
        { strides: c.strides, pad: c.pad, dataFormat: "NHWC", filterShape: c.filter },
      );
      expect(ours.shape).toEqual(c.filter);
      expect(maxAbsDiff(ours.values, reference.values)).toBeLessThan(TOL);
    });
  }
});

describe("unsupported configurations", () => {
  it("throw a clear error instead of computing something wrong", () => {
    const x = tf.zeros([1, 3, 6, 6]);
    const dy = tf.zeros([1, 4, 4, 4]);
    expect(() =>
      tf.engine().runKernel(
        tf.Conv2DBackpropFilter,
        { x, dy },
        {
          strides: [1, 1],
          pad: "valid",
          dataFormat: "NCHW",
          filterShape: [3, 3, 3, 4],
        },
      ),
    ).toThrow(/Conv2DBackpropFilter does not support dataFormat NCHW/);
    expect(() =>
      tf.engine().runKernel(
        tf.Conv2DBackpropInput,
        { dy, filter: tf.zeros([3, 3, 3, 4]) },
        {
          strides: [1, 1],
          pad: "valid",
          dataFormat: "NCHW",
          inputShape: [1, 3, 6, 6],
        },
      ),
    ).toThrow(UnsupportedKernelConfigError);
    tf.dispose([x, dy]);
  });
});

describe("wasm Conv2DBackpropInput", () => {
  for (const c of CONV_CASES) {
    it(`matches the cpu reference: ${c.name}`, () => {
      const dyShape = convOutShape(c);
      const { reference, ours } = onBoth(
        tf.Conv2DBackpropInput,
        { dy: randomValues(sizeOf(dyShape), 3), filter: randomValues(sizeOf(c.filter), 4) },
        { dy: dyShape, filter: c.filter },
        { strides: c.strides, pad: c.pad, dataFormat: "NHWC", inputShape: c.x },
      );
      expect(ours.shape).toEqual(c.x);
      expect(maxAbsDiff(ours.values, reference.values)).toBeLessThan(TOL);
    });
  }
});

describe("wasm MaxPoolGrad", () => {
  for (const c of POOL_CASES) {
    for (const sign of ["mixed", "all negative"] as const) {
      it(`matches the cpu reference: ${c.name}, ${sign} inputs`, () => {
        const x = randomValues(sizeOf(c.x), 5);
        if (sign === "all negative")
          for (let i = 0; i < x.length; i++) x[i] = -Math.abs(x[i] as number) - 0.01;
        const outShape = poolOutShape(c);
        const output = tf.tidy(() =>
          tf.maxPool(tf.tensor4d(x, c.x), c.filterSize, c.strides, c.pad).dataSync(),
        ) as Float32Array;
        const { reference, ours } = onBoth(
          tf.MaxPoolGrad,
          { dy: randomValues(sizeOf(outShape), 6), input: x, output },
          { dy: outShape, input: c.x, output: outShape },
          { filterSize: c.filterSize, strides: c.strides, pad: c.pad },
        );
        expect(ours.shape).toEqual(c.x);
        expect(maxAbsDiff(ours.values, reference.values)).toBeLessThan(TOL);
        // Every output gradient lands somewhere: the sums agree.
        const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
        expect(Math.abs(sum(ours.values) - sum(reference.values))).toBeLessThan(1e-3);
      });
    }
  }
});

describe("the stock wasm MaxPoolGrad (why it is replaced)", () => {
  it("loses gradients when a window's maximum is negative", () => {
    const c = POOL_CASES[0]!;
    const x = randomValues(sizeOf(c.x), 5).map((v) => -Math.abs(v) - 0.01);
    const outShape = poolOutShape(c);
    const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad };
    const stock = tf.tidy(() => {
      const input = tf.tensor4d(x, c.x);
      const output = tf.maxPool(input, c.filterSize, c.strides, c.pad);
      const dy = tf.ones(outShape);
      const info = originalKernel(tf.MaxPoolGrad, "wasm").kernelFunc({
        inputs: { dy, input, output },
        attrs,
        backend: tf.backend(),
      }) as tf.TensorInfo;
      return tf.engine().makeTensorFromTensorInfo(info).dataSync();
    });
    // With all-ones dy a correct gradient sums to the number of windows.
    const total = Array.from(stock).reduce((s, v) => s + v, 0);
    expect(total).not.toBeCloseTo(sizeOf(outShape), 0);
  });
});

describe("wasm BatchMatMul with transposed operands", () => {
  const cases: [string, number[], number[], boolean, boolean][] = [
    ["a·bᵀ", [1, 5, 7], [1, 3, 7], false, true],
    ["aᵀ·b", [1, 7, 5], [1, 7, 3], true, false],
    ["aᵀ·bᵀ batched", [2, 4, 6], [2, 3, 4], true, true],
    ["plain", [2, 6, 4], [2, 4, 3], false, false],
    ["broadcast batch of a", [1, 6, 4], [3, 4, 5], false, false],
    ["large a·bᵀ (XNNPACK path)", [1, 64, 400], [1, 120, 400], false, true],
    ["large aᵀ·b (XNNPACK path)", [1, 400, 64], [1, 400, 120], true, false],
    ["large plain (XNNPACK path)", [1, 64, 400], [1, 400, 120], false, false],
  ];
  for (const [name, aShape, bShape, transposeA, transposeB] of cases) {
    it(`matches the cpu reference: ${name}`, () => {
      const { reference, ours } = onBoth(
        tf.BatchMatMul,
        { a: randomValues(sizeOf(aShape), 7), b: randomValues(sizeOf(bShape), 8) },
        { a: aShape, b: bShape },
        { transposeA, transposeB },
      );
      expect(ours.shape).toEqual(reference.shape);
      expect(maxAbsDiff(ours.values, reference.values)).toBeLessThan(TOL);
    });
  }
});

describe("wasm gradients end to end", () => {
  it("conv → relu → maxpool → dense gradients match the cpu backend", () => {
    const xv = randomValues(2 * 12 * 12 * 3, 9);
    const wv = randomValues(3 * 3 * 3 * 4, 10);
    const dv = randomValues(5 * 5 * 4 * 3, 11);
    const grads = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(xv, [2, 12, 12, 3]);
        const f = (w: tf.Tensor, d: tf.Tensor) =>
          tf
            .conv2d(x, w as tf.Tensor4D, 1, "valid")
            .maxPool(2, 2, "valid")
            .reshape([2, -1])
            .matMul(d)
            .square()
            .sum();
        const [gw, gd] = tf.grads(f)([tf.tensor4d(wv, [3, 3, 3, 4]), tf.tensor2d(dv, [100, 3])]);
        return [gw!.dataSync().slice(), gd!.dataSync().slice()] as Float32Array[];
      });
    tf.setBackend("cpu");
    const reference = grads();
    tf.setBackend("wasm");
    const ours = grads();
    expect(maxAbsDiff(ours[0]!, reference[0]!)).toBeLessThan(1e-3);
    expect(maxAbsDiff(ours[1]!, reference[1]!)).toBeLessThan(1e-3);
  });
});
