/**
 * trainModel/testModel on generic LayersModels: an MLP learns a generated,
 * linearly separable task (logits and softmax outputs), the async variants
 * give the same result and yield to the event loop, and bad inputs are refused.
 */

import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/backend.js";
import { readModelFlat, writeModelFlat } from "../src/model/model-array-record.js";
import type { FeatureDataset } from "../src/model/model-dataset.js";
import { modelOutputOf } from "../src/model/model-loss.js";
import {
  testModel,
  testModelAsync,
  trainModel,
  trainModelAsync,
} from "../src/model/model-train.js";
import { closeTrainingWorkers } from "../src/parallel/worker-pool.js";
import * as tf from "../src/tf.js";
import { normals } from "./helpers/layer-cases.js";

beforeAll(async () => {
  await initBackend({ log: null });
});

/** Class = arg-max of three fixed linear scores of 6 features. */
function separable(count: number, seed: number): FeatureDataset {
  const features = normals(count * 6, seed);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const f = features.subarray(i * 6, i * 6 + 6);
    const s = [
      (f[0] as number) + (f[1] as number),
      (f[2] as number) - (f[3] as number),
      (f[4] as number) - (f[0] as number),
    ];
    labels[i] = s.indexOf(Math.max(...s));
  }
  return { count, shape: [6], features, labels, numClasses: 3 };
}

function mlp(softmax: boolean): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [6], units: 16, activation: "relu", name: "h" }),
      tf.layers.dense({
        units: 3,
        name: "out",
        ...(softmax ? { activation: "softmax" as const } : {}),
      }),
    ],
  });
}

describe("trainModel / testModel", () => {
  for (const softmax of [false, true]) {
    it(`an MLP (${softmax ? "softmax output" : "logits"}) learns a separable task`, () => {
      const train = separable(256, 1);
      const heldOut = separable(128, 2);
      const model = mlp(softmax);
      expect(modelOutputOf(model)).toBe(softmax ? "probabilities" : "logits");
      const before = testModel(model, heldOut, { progressBar: false });
      const loss = trainModel(model, train, {
        epochs: 8,
        learningRate: 0.05,
        batchSize: 16,
        seed: 1,
        progressBar: false,
      });
      const after = testModel(model, heldOut, { progressBar: false });
      expect(Number.isFinite(loss)).toBe(true);
      expect(after.loss).toBeLessThan(before.loss * 0.6);
      expect(after.accuracy).toBeGreaterThan(0.85);
      expect(after.count).toBe(128);
      model.dispose();
    });
  }

  it("trainModelAsync equals trainModel and lets timers run", async () => {
    const data = separable(64, 3);
    const a = mlp(false);
    const b = mlp(false);
    writeModelFlat(b, readModelFlat(a));
    const options = {
      epochs: 2,
      learningRate: 0.05,
      batchSize: 8,
      seed: 4,
      workers: 1,
      progressBar: false,
    };
    const la = trainModel(a, data, options);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const lb = await trainModelAsync(b, data, { ...options, yieldEveryMs: 0 });
    clearInterval(timer);
    expect(lb).toBe(la);
    expect(Array.from(readModelFlat(b))).toEqual(Array.from(readModelFlat(a)));
    expect(ticks).toBeGreaterThan(0);
    a.dispose();
    b.dispose();
  });

  it("data-parallel on 2 workers (model rebuilt from its topology) equals in-process to 1e-5", async () => {
    const data = separable(90, 6);
    const a = mlp(true);
    const b = mlp(true);
    writeModelFlat(b, readModelFlat(a));
    const options = { epochs: 2, learningRate: 0.05, batchSize: 16, seed: 2, progressBar: false };
    const la = trainModel(a, data, { ...options, workers: 1 });
    const steps: number[] = [];
    const lb = await trainModelAsync(b, data, {
      ...options,
      workers: 2,
      onProgress: (p) => steps.push(p.seen),
    });
    expect(steps.length).toBe(12);
    expect(Math.abs(lb - la)).toBeLessThan(1e-5);
    const wa = readModelFlat(a);
    const wb = readModelFlat(b);
    let diff = 0;
    for (let i = 0; i < wa.length; i++)
      diff = Math.max(diff, Math.abs((wa[i] as number) - (wb[i] as number)));
    expect(diff).toBeLessThan(1e-5);
    const ea = testModel(a, data, { batchSize: 16, workers: 1, progressBar: false });
    const eb = await testModelAsync(a, data, { batchSize: 16, workers: 2, progressBar: false });
    expect(eb.accuracy).toBe(ea.accuracy);
    expect(Math.abs(eb.loss - ea.loss)).toBeLessThan(1e-5);
    await closeTrainingWorkers();
    a.dispose();
    b.dispose();
  });

  it("refuses bad options, data and models", () => {
    const data = separable(8, 5);
    const model = mlp(false);
    const ok = { epochs: 1, learningRate: 0.1, progressBar: false };
    expect(() => trainModel(model, data, { ...ok, learningRate: 0 })).toThrow(/learningRate/);
    expect(() => trainModel(model, data, { ...ok, workers: 0 })).toThrow(/workers/);
    expect(() => trainModel(model, { ...data, labels: new Int32Array(8).fill(3) }, ok)).toThrow(
      /label 3/,
    );
    expect(() => trainModel(model, { ...data, shape: [5] }, ok)).toThrow(/values|pixel/);
    expect(() => trainModel({} as tf.LayersModel, data, ok)).toThrow(/tf.LayersModel/);
    const regression = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [6], units: 1 }),
        tf.layers.reshape({ targetShape: [1, 1] }),
      ],
    });
    expect(() => trainModel(regression, data, ok)).toThrow(/one score per class/);
    regression.dispose();
    model.dispose();
  });
});
