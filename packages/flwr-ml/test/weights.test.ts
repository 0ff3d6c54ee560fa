/**
 * PyTorch interchange: the fixture's state_dict loaded into our Net
 * reproduces PyTorch's logits; getWeights round-trips; bad weights are refused.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/backend.js";
import { createNet, NET_PARAMETERS } from "../src/net.js";
import * as tf from "../src/tf.js";
import { getWeights, setWeights, tfToTorch, torchToTf, WeightsError } from "../src/weights.js";
import { maxAbsDiff, randomValues } from "./helpers/kernel-cases.js";
import { readNpyF32 } from "./helpers/npy.js";

const FIXTURE = join(import.meta.dirname, "fixtures", "torch-net");

beforeAll(async () => {
  await initBackend({ log: null });
});

describe("PyTorch fixture", () => {
  it("reproduces PyTorch's logits to 1e-4 from its state_dict", () => {
    const net = createNet({ seed: 7 });
    const weights = new Map(
      NET_PARAMETERS.map(([name]) => [name, readNpyF32(join(FIXTURE, `${name}.npy`))]),
    );
    setWeights(net, weights);
    const input = readNpyF32(join(FIXTURE, "input.npy"));
    const expected = readNpyF32(join(FIXTURE, "logits.npy"));
    expect(input.shape).toEqual([4, 3, 32, 32]);
    const logits = tf.tidy(() => {
      const nhwc = tf.tensor4d(input.data, [4, 3, 32, 32]).transpose([0, 2, 3, 1]) as tf.Tensor4D;
      return net.predict(nhwc).dataSync();
    });
    expect(expected.shape).toEqual([4, 10]);
    expect(maxAbsDiff(logits, expected.data)).toBeLessThan(1e-4);
    // And back: the weights we report are PyTorch's, bit for bit.
    const back = getWeights(net);
    for (const [name, w] of weights) {
      expect(back.get(name)?.shape).toEqual(w.shape);
      expect(maxAbsDiff(back.get(name)!.data, w.data)).toBe(0);
    }
    net.dispose();
  });
});

describe("layout conversion", () => {
  it("torchToTf inverts tfToTorch for every parameter", () => {
    for (const [name, shape] of NET_PARAMETERS) {
      const size = shape.reduce((a: number, b: number) => a * b, 1);
      const v = randomValues(size, size);
      expect(maxAbsDiff(torchToTf(name, tfToTorch(name, v)), v)).toBe(0);
    }
  });

  it("maps fc1 inputs in NCHW flatten order", () => {
    // A one-hot fc1 row at torch input index c·25 + h·5 + w must read pixel (h, w, c).
    const net = createNet({ seed: 3 });
    const weights = getWeights(net);
    const fc1 = new Float32Array(120 * 400);
    const c = 7;
    const h = 2;
    const w = 3;
    fc1[c * 25 + h * 5 + w] = 1; // output 0 only
    weights.set("fc1.weight", { shape: [120, 400], data: fc1 });
    setWeights(net, weights);
    const row = (net.variable("fc1.weight").dataSync() as Float32Array).filter(
      (_, i) => i % 120 === 0,
    );
    expect(row.indexOf(1)).toBe((h * 5 + w) * 16 + c);
    net.dispose();
  });
});

describe("setWeights validation", () => {
  it("refuses missing, unknown, misshapen and wrong-size parameters, leaving the model unchanged", () => {
    const net = createNet({ seed: 1 });
    const good = getWeights(net);
    const before = getWeights(net).get("conv1.weight")!.data;
    const missing = new Map(good);
    missing.delete("fc3.bias");
    expect(() => setWeights(net, missing)).toThrow(/missing parameter fc3.bias/);
    const unknown = new Map(good).set("bn.weight", { shape: [1], data: new Float32Array(1) });
    expect(() => setWeights(net, unknown)).toThrow(WeightsError);
    const misshapen = new Map(good).set("conv1.weight", {
      shape: [6, 5, 5, 3],
      data: new Float32Array(450),
    });
    expect(() => setWeights(net, misshapen)).toThrow(/shape \[6,5,5,3\], expected \[6,3,5,5\]/);
    const changed = new Map(good).set("conv1.weight", {
      shape: [6, 3, 5, 5],
      data: new Float32Array(450).fill(9),
    });
    changed.set("fc3.bias", { shape: [10], data: new Float32Array(9) });
    expect(() => setWeights(net, changed)).toThrow(/Float32Array of 10 values/);
    expect(getWeights(net).get("conv1.weight")!.data).toEqual(before);
    net.dispose();
  });
});
