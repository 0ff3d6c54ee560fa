/**
 * The fused custom-gradient layers against the same computation in plain
 * tfjs ops (conv2d/matMul + add + relu), values and gradients, to 1e-4.
 */

import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/backend.js";
import { SOFTMAX_CROSS_ENTROPY } from "../src/kernels/softmax-cross-entropy.js";
import { conv2dBiasRelu, conv2dBiasReluPool, dense, denseRelu } from "../src/layers.js";
import * as tf from "../src/tf.js";
import { crossEntropy } from "../src/train.js";
import { maxAbsDiff, randomValues } from "./helpers/kernel-cases.js";

beforeAll(async () => {
  await initBackend({ log: null });
});

function compare(
  ours: (...t: tf.Tensor[]) => tf.Tensor,
  reference: (...t: tf.Tensor[]) => tf.Tensor,
  shapes: number[][],
) {
  const inputs = shapes.map((s, i) =>
    tf.tensor(
      randomValues(
        s.reduce((a, b) => a * b, 1),
        100 + i,
      ),
      s,
    ),
  );
  const r = tf.tidy(() => tf.randomNormal(ours(...inputs).shape, 0, 1, "float32", 3));
  const run = (f: (...t: tf.Tensor[]) => tf.Tensor) =>
    tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((...t: tf.Tensor[]) => tf.sum(tf.mul(f(...t), r)))(
        inputs,
      );
      return [
        value.dataSync()[0] as number,
        ...grads.map((g) => g.dataSync() as Float32Array),
      ] as const;
    });
  const [v1, ...g1] = run(ours);
  const [v2, ...g2] = run(reference);
  expect(Math.abs(v1 - v2) / Math.max(1, Math.abs(v2))).toBeLessThan(1e-4);
  for (const [i, g] of g1.entries()) expect(maxAbsDiff(g, g2[i]!)).toBeLessThan(1e-4);
  tf.dispose([...inputs, r]);
}

describe("fused layers", () => {
  it("conv2dBiasRelu (Net conv1 and conv2 shapes, batch 1 and 3)", () => {
    compare(
      (x, w, b) => conv2dBiasRelu(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D),
      (x, w, b) => tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "valid"), b!)),
      [[3, 32, 32, 3], [5, 5, 3, 6], [6]],
    );
    compare(
      (x, w, b) => conv2dBiasRelu(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D),
      (x, w, b) => tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "valid"), b!)),
      [[1, 14, 14, 6], [5, 5, 6, 16], [16]],
    );
  });

  it("conv2dBiasRelu without an input gradient (first layer)", () => {
    const x = tf.tensor4d(randomValues(2 * 9 * 9 * 3, 55), [2, 9, 9, 3]);
    compare(
      (w, b) => conv2dBiasRelu(x, w as tf.Tensor4D, b as tf.Tensor1D, false),
      (w, b) => tf.relu(tf.add(tf.conv2d(x, w as tf.Tensor4D, 1, "valid"), b!)),
      [[3, 3, 3, 4], [4]],
    );
    x.dispose();
  });

  it("a first layer's input may be created inside the differentiated function", () => {
    const values = randomValues(2 * 10 * 10 * 3, 56);
    const w = tf.variable(tf.tensor4d(randomValues(3 * 3 * 3 * 4, 57), [3, 3, 3, 4]));
    const b = tf.variable(tf.tensor1d(randomValues(4, 58)));
    const before = tf.memory().numTensors;
    for (const layer of [conv2dBiasRelu, conv2dBiasReluPool]) {
      const grads = (inside: boolean) =>
        tf.tidy(() => {
          const outside = tf.tensor4d(values, [2, 10, 10, 3]);
          const { grads: g } = tf.variableGrads(() => {
            const x = inside ? tf.tensor4d(values, [2, 10, 10, 3]) : outside;
            return tf.sum(tf.square(layer(x, w, b, false)));
          }, [w, b]);
          return [w, b].map((v) => g[v.name]?.dataSync() as Float32Array);
        });
      const [gw, gb] = grads(true);
      const [rw, rb] = grads(false);
      expect(maxAbsDiff(gw!, rw!)).toBeLessThan(1e-6);
      expect(maxAbsDiff(gb!, rb!)).toBeLessThan(1e-6);
      expect(gw!.some((v) => v !== 0)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, b]);
  });

  it("conv2dBiasReluPool (fused pool/ReLU/bias backward): Net shapes, odd sizes, no input gradient", () => {
    const reference =
      (x: tf.Tensor) =>
      (w: tf.Tensor, b: tf.Tensor): tf.Tensor =>
        tf.maxPool(
          tf.relu(
            tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "valid"), b),
          ) as tf.Tensor4D,
          2,
          2,
          "valid",
        );
    for (const shapes of [
      [[3, 32, 32, 3], [5, 5, 3, 6], [6]],
      [[2, 14, 14, 6], [5, 5, 6, 16], [16]],
      [[2, 11, 12, 3], [3, 3, 3, 5], [5]], // 9×10 output: an odd row left out by the pool
    ]) {
      compare(
        (x, w, b) => conv2dBiasReluPool(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D),
        (x, w, b) => reference(x!)(w!, b!),
        shapes,
      );
    }
    const x = tf.tensor4d(randomValues(2 * 9 * 9 * 3, 56), [2, 9, 9, 3]);
    compare(
      (w, b) => conv2dBiasReluPool(x, w as tf.Tensor4D, b as tf.Tensor1D, false),
      (w, b) => reference(x)(w!, b!),
      [[3, 3, 3, 4], [4]],
    );
    x.dispose();
  });

  it("denseRelu and dense", () => {
    compare(
      (x, w, b) => denseRelu(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
      (x, w, b) => tf.relu(tf.add(tf.matMul(x!, w!), b!)),
      [[7, 400], [400, 120], [120]],
    );
    compare(
      (x, w, b) => dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
      (x, w, b) => tf.add(tf.matMul(x!, w!), b!),
      [[1, 84], [84, 10], [10]],
    );
  });
});

describe("fused softmax cross-entropy", () => {
  it("matches tfjs's softmaxCrossEntropy in value and gradient (large and negative logits)", () => {
    const logitsValues = randomValues(7 * 10, 77).map((v, i) => (i % 13 === 0 ? v * 40 : v * 3));
    const labels = tf.tensor1d([0, 9, 3, 3, 5, 1, 7], "int32");
    const logits = tf.tensor2d(logitsValues, [7, 10]);
    const run = () =>
      tf.tidy(() => {
        const { value, grads } = tf.valueAndGrads((z: tf.Tensor) =>
          crossEntropy(z as tf.Tensor2D, labels),
        )([logits]);
        return [value.dataSync()[0] as number, grads[0]!.dataSync() as Float32Array] as const;
      });
    const fused = run();
    const kernel = tf.getKernel(SOFTMAX_CROSS_ENTROPY, tf.getBackend())!;
    tf.unregisterKernel(SOFTMAX_CROSS_ENTROPY, tf.getBackend());
    let reference: ReturnType<typeof run>;
    try {
      reference = run();
    } finally {
      tf.registerKernel(kernel);
    }
    expect(Math.abs(fused[0] - reference[0])).toBeLessThan(1e-4);
    expect(maxAbsDiff(fused[1], reference[1])).toBeLessThan(1e-4);
    expect(() =>
      tf.tidy(() => crossEntropy(logits, tf.tensor1d([0, 1, 2, 3, 4, 5, 10], "int32"))),
    ).toThrow(/label 10 outside 0..9/);
    tf.dispose([labels, logits]);
  });
});
