/**
 * The `tf` namespace built from tfjs-core, tfjs-layers and the cpu backend (instead of the
 * `@tensorflow/tfjs` union package): chained ops behave as the functional ones, layers and the
 * cpu backend are there, and gradients are registered.
 */
import { describe, expect, it } from "vitest";
import { tf } from "../src/index.js";

describe("tf (tfjs-core + tfjs-layers + cpu)", () => {
  it("has the chained ops of the union package", () => {
    const x = tf.tensor2d([
      [1, -2],
      [3, 4],
    ]);
    expect(x.cast("int32").dtype).toBe("int32");
    expect(x.abs().sum().arraySync()).toBe(10);
    expect(x.transpose().arraySync()).toEqual([
      [1, 3],
      [-2, 4],
    ]);
    expect(x.flatten().shape).toEqual([4]);
    expect(x.as1D().shape).toEqual([4]);
    expect(x.reshape([4, 1]).as2D(1, 4).shape).toEqual([1, 4]);
    expect(x.toFloat().dtype).toBe("float32");
    expect(x.concat(x, 0).shape).toEqual([4, 2]);
    expect(x.concat([x, x], 1).shape).toEqual([2, 6]);
    expect(x.stack(x).shape).toEqual([2, 2, 2]);
    expect(tf.scalar(3).asScalar().arraySync()).toBe(3);
    expect(() => x.asScalar()).toThrow(/only 1 element/);
    expect(x.reshapeAs(tf.zeros([1, 4])).shape).toEqual([1, 4]);
    expect(tf.tensor1d([0, 1, 2], "int32").oneHot(3, 1, 0).arraySync()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    const img = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
    expect(img.resizeBilinear([4, 4]).shape).toEqual([1, 4, 4, 1]);
    expect(img.maxPool(2, 1, "valid").shape).toEqual([1, 1, 1, 1]);
    x.dispose();
    expect(() => x.sum()).toThrow(/disposed/);
  });

  it("has layers, gradients and the cpu backend", async () => {
    await tf.setBackend("cpu");
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    expect(model.predict(tf.ones([1, 3])) as tf.Tensor).toBeInstanceOf(tf.Tensor);
    const g = tf.grad((v: tf.Tensor) => v.square().sum())(tf.tensor1d([1, 2]));
    expect(g.arraySync()).toEqual([2, 4]);
    expect(tf.findBackendFactory("cpu")).toBeDefined();
  });
});
