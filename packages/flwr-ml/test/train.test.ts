/**
 * Training and evaluation: the loss falls on learnable data, accuracy rises,
 * options are validated, and no tensor leaks.
 */

import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/backend.js";
import { syntheticCifar10 } from "../src/cifar10/synthetic.js";
import type { ImageDataset } from "../src/dataset.js";
import { test as evaluate, testAsync } from "../src/evaluate.js";
import { SGD_MOMENTUM_UPDATE } from "../src/kernels/sgd-momentum-update.js";
import { createNet } from "../src/net.js";
import { SgdMomentumOptimizer } from "../src/sgd-momentum.js";
import * as tf from "../src/tf.js";
import { TrainingOptionsError, type TrainProgress, train, trainAsync } from "../src/train.js";

/** Class k: a bright horizontal band at rows 3k..3k+2 plus noise. */
function bands(count: number, seed: number): ImageDataset {
  const pixels = new Uint8Array(count * 3072);
  const labels = new Uint8Array(count);
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 4294967296;
  };
  for (let i = 0; i < count; i++) {
    const k = i % 10;
    labels[i] = k;
    for (let p = 0; p < 1024; p++) {
      const row = Math.floor(p / 32);
      const base = row >= 3 * k && row < 3 * k + 3 ? 200 : 40;
      for (let c = 0; c < 3; c++)
        pixels[i * 3072 + p * 3 + c] = Math.min(255, base + Math.floor(rnd() * 50));
    }
  }
  return { count, shape: [32, 32, 3], pixels, labels, numClasses: 10 };
}

beforeAll(async () => {
  await initBackend({ log: null });
});

describe("train and test", () => {
  it("learns a learnable task, reports progress, and leaks no tensors", () => {
    const data = bands(320, 1);
    const before = tf.memory().numTensors;
    const net = createNet({ seed: 42 });
    const initial = evaluate(net, data, { progressBar: false });
    const progress: TrainProgress[] = [];
    const loss = train(net, data, {
      epochs: 3,
      learningRate: 0.05,
      batchSize: 32,
      seed: 5,
      progressBar: false,
      onProgress: (p) => progress.push(p),
    });
    const after = evaluate(net, data, { batchSize: 100, progressBar: false });
    expect(Number.isFinite(loss)).toBe(true);
    expect(progress).toHaveLength(30);
    expect(progress.at(-1)).toMatchObject({ epoch: 3, epochs: 3, seen: 320, total: 320 });
    expect(after.loss).toBeLessThan(initial.loss * 0.7);
    expect(after.accuracy).toBeGreaterThan(0.5);
    expect(after.count).toBe(320);
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("learns the synthetic CIFAR stand-in well above chance on held-out images", () => {
    const trainSet = syntheticCifar10({ count: 1000, seed: 1 });
    const heldOut = syntheticCifar10({ count: 300, seed: 2 });
    const net = createNet({ seed: 4 });
    train(net, trainSet, {
      epochs: 2,
      learningRate: 0.05,
      batchSize: 32,
      seed: 1,
      progressBar: false,
    });
    const r = evaluate(net, heldOut, { progressBar: false });
    expect(r.accuracy).toBeGreaterThan(0.25); // chance is 0.1
    net.dispose();
  });

  it("trainAsync/testAsync give the same results as the sync loops and let timers run", async () => {
    const data = bands(96, 4);
    const a = createNet({ seed: 11 });
    const b = createNet({ seed: 11 });
    const options = {
      epochs: 1,
      learningRate: 0.05,
      batchSize: 16,
      seed: 3,
      progressBar: false,
    } as const;
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const lossAsync = await trainAsync(a, data, { ...options, yieldEveryMs: 0 });
    clearInterval(timer);
    const lossSync = train(b, data, options);
    expect(lossAsync).toBeCloseTo(lossSync, 5);
    expect(ticks).toBeGreaterThan(0);
    const [ra, rb] = [
      await testAsync(a, data, { progressBar: false, yieldEveryMs: 0 }),
      evaluate(b, data, { progressBar: false }),
    ];
    expect(ra.accuracy).toBe(rb.accuracy);
    a.dispose();
    b.dispose();
  });

  it("handles a last partial batch and batch size 1", () => {
    const data = bands(13, 2);
    const net = createNet({ seed: 1 });
    const before = tf.memory().numTensors;
    expect(
      Number.isFinite(
        train(net, data, { epochs: 1, learningRate: 0.01, batchSize: 5, progressBar: false }),
      ),
    ).toBe(true);
    expect(
      Number.isFinite(
        train(net, data, { epochs: 1, learningRate: 0.01, batchSize: 1, progressBar: false }),
      ),
    ).toBe(true);
    const r = evaluate(net, data, { batchSize: 4, progressBar: false });
    expect(r.count).toBe(13);
    expect(r.accuracy).toBeGreaterThanOrEqual(0);
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });

  it("applies momentum (v ← m·v + g): the second step differs from plain SGD", () => {
    // Two steps with shuffle off on one batch; the second step's update is
    // lr·(m·g1 + g2), which differs from plain SGD when momentum applies.
    const data = bands(8, 3);
    const a = createNet({ seed: 9 });
    const b = createNet({ seed: 9 });
    train(a, data, {
      epochs: 2,
      learningRate: 0.01,
      momentum: 0.9,
      batchSize: 8,
      shuffle: false,
      progressBar: false,
    });
    train(b, data, {
      epochs: 2,
      learningRate: 0.01,
      momentum: 0,
      batchSize: 8,
      shuffle: false,
      progressBar: false,
    });
    const wa = a.variable("fc3.bias").dataSync();
    const wb = b.variable("fc3.bias").dataSync();
    expect(Array.from(wa)).not.toEqual(Array.from(wb));
    a.dispose();
    b.dispose();
  });

  it("rejects invalid options and data with clear errors", () => {
    const net = createNet({ seed: 1 });
    const data = bands(4, 1);
    expect(() => train(net, data, { epochs: 0, learningRate: 0.1 })).toThrow(TrainingOptionsError);
    expect(() => train(net, data, { epochs: 1, learningRate: -1 })).toThrow(/learningRate/);
    expect(() => train(net, data, { epochs: 1, learningRate: 0.1, batchSize: 2.5 })).toThrow(
      /batchSize/,
    );
    expect(() => train(net, data, { epochs: 1, learningRate: 0.1, momentum: 1 })).toThrow(
      /momentum/,
    );
    expect(() =>
      train(
        net,
        { ...data, labels: new Uint8Array([1, 2, 3, 10]) },
        { epochs: 1, learningRate: 0.1 },
      ),
    ).toThrow(/label 10/);
    expect(() => evaluate(net, { ...data, pixels: new Uint8Array(5) })).toThrow(/pixel values/);
    net.dispose();
  });
});

describe("SgdMomentumOptimizer", () => {
  it("follows PyTorch's update a ← m·a + g; w ← w − lr·a (fused kernel and ops path)", () => {
    const w0 = [1, -2, 3];
    const g = [0.5, 0.25, -1];
    const run = (fused: boolean) => {
      const w = tf.variable(tf.tensor1d(w0));
      const opt = new SgdMomentumOptimizer(0.1, 0.9);
      const spy = fused ? undefined : tf.getKernel(SGD_MOMENTUM_UPDATE, tf.getBackend());
      if (spy) tf.unregisterKernel(SGD_MOMENTUM_UPDATE, tf.getBackend());
      try {
        for (let step = 0; step < 2; step++) opt.applyGradients({ [w.name]: tf.tensor1d(g) });
      } finally {
        if (spy) tf.registerKernel(spy);
      }
      const out = Array.from(w.dataSync());
      opt.dispose();
      w.dispose();
      return out;
    };
    // step 1: a = g, w = w0 − 0.1·g; step 2: a = 0.9·g + g, w −= 0.1·1.9·g → w0 − 0.29·g
    const expected = w0.map((v, i) => v - 0.29 * g[i]!);
    for (const fused of [true, false]) {
      for (const [i, v] of run(fused).entries()) expect(v).toBeCloseTo(expected[i]!, 6);
    }
  });
});
