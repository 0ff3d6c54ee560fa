/**
 * Tiny models, one per standard layer type, and their generated data, for
 * the generic-model tests (wasm against cpu, round trips).
 */

import type { FeatureDataset } from "../../src/model/model-dataset.js";
import * as tf from "../../src/tf.js";

/** A layer case: a model builder (call with the backend already set) and its example shape. */
export interface LayerCase {
  name: string;
  shape: number[];
  /** Token ids in 0..vocab−1 instead of normal features. */
  vocab?: number;
  build: () => tf.LayersModel;
}

const seq = (layers: tf.layers.Layer[]) => tf.sequential({ layers });
const head = () => tf.layers.dense({ units: 3, name: "head" });

/** Every standard layer type flwr-ml claims trainable on wasm. */
export const LAYER_CASES: LayerCase[] = [
  {
    name: "dense (relu, tanh, sigmoid)",
    shape: [5],
    build: () =>
      seq([
        tf.layers.dense({ inputShape: [5], units: 6, activation: "relu", name: "d1" }),
        tf.layers.dense({ units: 6, activation: "tanh", name: "d2" }),
        tf.layers.dense({ units: 4, activation: "sigmoid", name: "d3" }),
        head(),
      ]),
  },
  {
    name: "conv2d (stride 2, same padding; valid 3×3)",
    shape: [7, 7, 2],
    build: () =>
      seq([
        tf.layers.conv2d({
          inputShape: [7, 7, 2],
          filters: 3,
          kernelSize: 3,
          strides: 2,
          padding: "same",
          name: "c1",
        }),
        tf.layers.conv2d({ filters: 2, kernelSize: 2, activation: "relu", name: "c2" }),
        tf.layers.flatten(),
        head(),
      ]),
  },
  {
    name: "conv1d + maxPooling1d",
    shape: [9, 2],
    build: () =>
      seq([
        tf.layers.conv1d({ inputShape: [9, 2], filters: 3, kernelSize: 3, name: "c1" }),
        tf.layers.maxPooling1d({ poolSize: 2 }),
        tf.layers.flatten(),
        head(),
      ]),
  },
  {
    name: "depthwiseConv2d",
    shape: [6, 6, 2],
    build: () =>
      seq([
        tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 2, kernelSize: 1, name: "c0" }),
        tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, name: "dw" }),
        tf.layers.flatten(),
        head(),
      ]),
  },
  {
    name: "separableConv2d",
    shape: [6, 6, 2],
    build: () =>
      seq([
        tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 2, kernelSize: 1, name: "c0" }),
        tf.layers.separableConv2d({ kernelSize: 3, filters: 3, name: "sep" }),
        tf.layers.flatten(),
        head(),
      ]),
  },
  {
    name: "maxPooling2d (3×3 stride 1 and 2×2) on negative activations",
    shape: [6, 6, 2],
    build: () =>
      seq([
        tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 2, kernelSize: 1, name: "c0" }),
        tf.layers.maxPooling2d({ poolSize: 3, strides: 1 }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        head(),
      ]),
  },
  {
    name: "averagePooling2d",
    shape: [6, 6, 2],
    build: () =>
      seq([
        tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 2, kernelSize: 1, name: "c0" }),
        tf.layers.averagePooling2d({ poolSize: 2, strides: 1 }),
        tf.layers.flatten(),
        head(),
      ]),
  },
  {
    name: "global average and max pooling",
    shape: [5, 5, 2],
    build: () => {
      const input = tf.input({ shape: [5, 5, 2] });
      const c = tf.layers
        .conv2d({ filters: 3, kernelSize: 2, name: "c0" })
        .apply(input) as tf.SymbolicTensor;
      const a = tf.layers.globalAveragePooling2d({}).apply(c) as tf.SymbolicTensor;
      const m = tf.layers.globalMaxPooling2d({}).apply(c) as tf.SymbolicTensor;
      const both = tf.layers.concatenate().apply([a, m]) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: head().apply(both) as tf.SymbolicTensor });
    },
  },
  {
    name: "batchNormalization (dense and conv)",
    shape: [5, 5, 2],
    build: () =>
      seq([
        tf.layers.conv2d({ inputShape: [5, 5, 2], filters: 3, kernelSize: 2, name: "c0" }),
        tf.layers.batchNormalization({ name: "bn1" }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 4, name: "d1" }),
        tf.layers.batchNormalization({ name: "bn2" }),
        head(),
      ]),
  },
  {
    name: "dropout (seeded)",
    shape: [5],
    build: () =>
      seq([
        tf.layers.dense({ inputShape: [5], units: 8, name: "d1" }),
        tf.layers.dropout({ rate: 0.5, seed: 7 }),
        head(),
      ]),
  },
  {
    name: "embedding",
    shape: [4],
    vocab: 7,
    build: () =>
      seq([
        tf.layers.embedding({ inputDim: 7, outputDim: 3, inputLength: 4, name: "emb" }),
        tf.layers.flatten(),
        head(),
      ]),
  },
  {
    name: "lstm",
    shape: [4, 3],
    build: () => seq([tf.layers.lstm({ inputShape: [4, 3], units: 4, name: "lstm" }), head()]),
  },
  {
    name: "gru",
    shape: [4, 3],
    build: () => seq([tf.layers.gru({ inputShape: [4, 3], units: 4, name: "gru" }), head()]),
  },
  {
    name: "simpleRNN",
    shape: [4, 3],
    build: () => seq([tf.layers.simpleRNN({ inputShape: [4, 3], units: 4, name: "rnn" }), head()]),
  },
  {
    name: "layerNormalization",
    shape: [5],
    build: () =>
      seq([
        tf.layers.dense({ inputShape: [5], units: 6, name: "d1" }),
        tf.layers.layerNormalization({ name: "ln" }),
        head(),
      ]),
  },
];

/** Deterministic standard normal numbers. */
export function normals(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

/** `count` examples of the case's shape, 3 classes. */
export function caseData(c: LayerCase, count: number, seed: number): FeatureDataset {
  const size = c.shape.reduce((a, b) => a * b, 1);
  const features = normals(count * size, seed);
  if (c.vocab !== undefined) {
    for (let i = 0; i < features.length; i++)
      features[i] = Math.abs(Math.floor((features[i] as number) * 3)) % c.vocab;
  }
  const labels = new Int32Array(count);
  const r = normals(count, seed + 1);
  for (let i = 0; i < count; i++) labels[i] = Math.abs(Math.floor((r[i] as number) * 2)) % 3;
  return { count, shape: c.shape, features, labels, numClasses: 3 };
}

/** Sets every weight of `model` from seeded values (variances positive). */
export function seedWeights(model: tf.LayersModel, seed: number): void {
  tf.tidy(() => {
    model.weights.forEach((w, i) => {
      const size = (w.shape as number[]).reduce((a, b) => a * b, 1);
      const v = normals(size, seed + 31 * i).map((x) => 0.4 * x);
      if (w.originalName.endsWith("variance"))
        for (let j = 0; j < size; j++) v[j] = 1 + Math.abs(v[j] as number);
      w.write(tf.tensor(v, w.shape as number[]));
    });
  });
}

/** Max |a − b| relative to max(1, max |b|). */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  }
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  return diff / scale;
}
