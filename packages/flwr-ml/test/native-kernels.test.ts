/**
 * The native addon's kernels one by one against the stock cpu backend: every
 * intermediate of a native training step (conv1 + ReLU, pool1, conv2 + ReLU,
 * pool2, the dense layers, softmax cross-entropy forward; the dense layers',
 * pool/ReLU and conv2-input gradients backward) equals the same quantity
 * computed by tfjs's cpu ops and their autodiff, to 1e-4; the filter and
 * bias gradients are checked in net-step.test.ts. Also: worker threads load
 * and free the addon, and the addon's scratch does not grow with repeated
 * steps. Skipped, with the reason, when the addon is not built.
 */
import { Worker } from "node:worker_threads";
import { beforeAll, describe, expect, it } from "vitest";
import { nativeNetKernels, nativeUnavailableReason } from "../src/native-net-step.js";
import { createNet } from "../src/net.js";
import { PARAM_COUNT, PARAM_SLOTS, readFlatWeights } from "../src/parallel/param-layout.js";
import * as tf from "../src/tf.js";
import { randomValues } from "./helpers/kernel-cases.js";

const TOL = 1e-4;
const missing = nativeUnavailableReason();
const skipped = missing ? ` (skipped: native addon unavailable: ${missing})` : "";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function inputs(n: number, seed: number) {
  const net = createNet({ seed });
  const weights = new Float32Array(PARAM_COUNT);
  readFlatWeights(net, weights);
  net.dispose();
  const x = randomValues(n * 3072, seed + 1);
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 3 + seed) % 10);
  return { weights, x, labels };
}

/** Splits debugStep's output into its named parts. */
function parts(out: Float32Array, n: number) {
  const sizes: [string, number][] = [
    ["y1", n * 4704],
    ["q1", n * 1176],
    ["y2", n * 1600],
    ["feat", n * 400],
    ["h1", n * 120],
    ["h2", n * 84],
    ["z3", n * 10],
    ["d3", n * 10],
    ["dh2", n * 84],
    ["dh1", n * 120],
    ["dfeat", n * 400],
    ["dz2", 1600],
    ["dq1", 1176],
    ["dz1", 4704],
  ];
  const result: Record<string, Float32Array> = {};
  let at = 0;
  for (const [name, size] of sizes) {
    result[name] = out.subarray(at, at + size);
    at += size;
  }
  return { result, total: at };
}

function worst(a: Float32Array, b: Float32Array, mask?: (i: number) => boolean): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (mask && !mask(i)) continue;
    m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  }
  return m;
}

describe("native kernels against the cpu backend", () => {
  it.skipIf(missing !== undefined)(
    `every layer's output and gradient of a 3-image step equals tfjs cpu's to 1e-4${skipped}`,
    () => {
      const kernels = nativeNetKernels();
      if (!kernels) throw new Error("unreachable");
      const n = 3;
      const { weights, x, labels } = inputs(n, 7);
      const grads = new Float32Array(PARAM_COUNT);
      const { total } = parts(new Float32Array(0), n);
      const out = new Float32Array(total);
      const loss = kernels.debugStep(weights, x, labels, n, grads, out);
      const native = parts(out, n).result;

      const p = Object.fromEntries(
        PARAM_SLOTS.map((s) => [
          s.name,
          tf.tensor(weights.subarray(s.offset, s.offset + s.size), s.shape),
        ]),
      ) as Record<string, tf.Tensor>;
      const oneHot = tf.oneHot(tf.tensor1d(labels, "int32"), 10);
      const lossOf = (z: tf.Tensor) => tf.losses.softmaxCrossEntropy(oneHot, z) as tf.Scalar;
      const dense = (h: tf.Tensor, w: string, b: string) =>
        tf.add(tf.matMul(h as tf.Tensor2D, p[w] as tf.Tensor2D), p[b] as tf.Tensor);
      // Tails of the network from each intermediate to the loss.
      const fromA2 = (a2: tf.Tensor) => lossOf(dense(tf.relu(a2), "fc3.weight", "fc3.bias"));
      const fromA1 = (a1: tf.Tensor) => fromA2(dense(tf.relu(a1), "fc2.weight", "fc2.bias"));
      const fromFeat = (f: tf.Tensor) => fromA1(dense(f, "fc1.weight", "fc1.bias"));
      const fromZ2 = (z2: tf.Tensor) =>
        fromFeat(tf.reshape(tf.maxPool(tf.relu(z2) as tf.Tensor4D, 2, 2, "valid"), [n, 400]));
      const conv = (t: tf.Tensor, w: string, b: string) =>
        tf.add(tf.conv2d(t as tf.Tensor4D, p[w] as tf.Tensor4D, 1, "valid"), p[b] as tf.Tensor);
      const fromQ1 = (q1: tf.Tensor) => fromZ2(conv(q1, "conv2.weight", "conv2.bias"));
      const fromZ1 = (z1: tf.Tensor) =>
        fromQ1(tf.maxPool(tf.relu(z1) as tf.Tensor4D, 2, 2, "valid"));

      const xs = tf.tensor4d(x, [n, 32, 32, 3]);
      const z1 = conv(xs, "conv1.weight", "conv1.bias");
      const y1 = tf.relu(z1) as tf.Tensor4D;
      const q1 = tf.maxPool(y1, 2, 2, "valid");
      const z2 = conv(q1, "conv2.weight", "conv2.bias");
      const y2 = tf.relu(z2) as tf.Tensor4D;
      const feat = tf.reshape(tf.maxPool(y2, 2, 2, "valid"), [n, 400]);
      const a1 = dense(feat, "fc1.weight", "fc1.bias");
      const h1 = tf.relu(a1);
      const a2 = dense(h1, "fc2.weight", "fc2.bias");
      const h2 = tf.relu(a2);
      const z3 = dense(h2, "fc3.weight", "fc3.bias");
      const planar = (t: tf.Tensor) => tf.transpose(t, [0, 3, 1, 2]).dataSync() as Float32Array;
      const data = (t: tf.Tensor) => t.dataSync() as Float32Array;
      const last = (t: tf.Tensor, size: number) => planar(t).subarray((n - 1) * size);

      // Forward kernels.
      expect(worst(native.y1 as Float32Array, planar(y1)), "conv1 + ReLU").toBeLessThan(TOL);
      expect(worst(native.q1 as Float32Array, planar(q1)), "pool1").toBeLessThan(TOL);
      expect(worst(native.y2 as Float32Array, planar(y2)), "conv2 + ReLU").toBeLessThan(TOL);
      expect(worst(native.feat as Float32Array, data(feat)), "pool2 (NHWC flatten)").toBeLessThan(
        TOL,
      );
      expect(worst(native.h1 as Float32Array, data(h1)), "fc1 + ReLU").toBeLessThan(TOL);
      expect(worst(native.h2 as Float32Array, data(h2)), "fc2 + ReLU").toBeLessThan(TOL);
      expect(worst(native.z3 as Float32Array, data(z3)), "fc3 (logits)").toBeLessThan(TOL);
      expect(Math.abs(loss - data(lossOf(z3))[0]!), "softmax cross-entropy").toBeLessThan(TOL);

      // Backward kernels: the gradient of the loss with respect to each intermediate.
      const grad = (f: (t: tf.Tensor) => tf.Scalar, at: tf.Tensor) => tf.grad(f)(at);
      expect(worst(native.d3 as Float32Array, data(grad(lossOf, z3))), "dLogits").toBeLessThan(TOL);
      expect(
        worst(native.dh2 as Float32Array, data(grad(fromA2, a2))),
        "fc3 dx · ReLU'",
      ).toBeLessThan(TOL);
      expect(
        worst(native.dh1 as Float32Array, data(grad(fromA1, a1))),
        "fc2 dx · ReLU'",
      ).toBeLessThan(TOL);
      // fc1's input gradient is masked where the pooled feature is 0 (the pool's ReLU masks it anyway).
      const f = data(feat);
      expect(
        worst(
          native.dfeat as Float32Array,
          data(grad(fromFeat, feat)),
          (i) => (f[i] as number) > 0,
        ),
        "fc1 dx",
      ).toBeLessThan(TOL);
      expect(
        worst(native.dz2 as Float32Array, last(grad(fromZ2, z2), 1600)),
        "pool2/ReLU backward",
      ).toBeLessThan(TOL);
      expect(
        worst(native.dq1 as Float32Array, last(grad(fromQ1, q1), 1176)),
        "conv2 input gradient",
      ).toBeLessThan(TOL);
      expect(
        worst(native.dz1 as Float32Array, last(grad(fromZ1, z1), 4704)),
        "pool1/ReLU backward",
      ).toBeLessThan(TOL);
      // Not vacuous: gradients reached conv1.
      expect((native.dz1 as Float32Array).some((v) => v !== 0)).toBe(true);
      tf.disposeVariables();
    },
  );

  it.skipIf(missing !== undefined)(
    `keeps one scratch buffer per thread: repeated steps do not grow it${skipped}`,
    () => {
      const kernels = nativeNetKernels();
      if (!kernels) throw new Error("unreachable");
      const { weights, x, labels } = inputs(16, 3);
      const grads = new Float32Array(PARAM_COUNT);
      kernels.trainStep(weights, x, labels, 16, grads);
      const size = kernels.scratchBytes();
      expect(size).toBeGreaterThan(0);
      for (let i = 0; i < 20; i++) kernels.trainStep(weights, x, labels, 1 + (i % 16), grads);
      expect(kernels.scratchBytes()).toBe(size);
    },
  );

  it.skipIf(missing !== undefined)(
    `loads in worker threads, each with its own scratch (instance data, freed by its finalizer with the thread)${skipped}`,
    async () => {
      // Each worker loads the addon (its own environment and instance data), steps, and exits;
      // the addon's finalizer frees the scratch with the environment.
      const code = `
        const { parentPort } = require("node:worker_threads");
        const { createRequire } = require("node:module");
        const kernels = createRequire(${JSON.stringify(import.meta.url)})("@flwr-ts/ml-native").load();
        const p = new Float32Array(62006).fill(0.01);
        const x = new Float32Array(4 * 3072).fill(0.5);
        const g = new Float32Array(62006);
        const loss = kernels.trainStep(p, x, Int32Array.of(0, 1, 2, 3), 4, g);
        parentPort.postMessage({ loss, scratch: kernels.scratchBytes() });`;
      const results = await Promise.all(
        [0, 1, 2].map(
          () =>
            new Promise<{ loss: number; scratch: number }>((resolve, reject) => {
              const worker = new Worker(code, { eval: true });
              worker.once("message", resolve);
              worker.once("error", reject);
            }),
        ),
      );
      for (const r of results) {
        expect(Number.isFinite(r.loss)).toBe(true);
        expect(r.scratch).toBeGreaterThan(0);
      }
      expect(new Set(results.map((r) => r.loss)).size).toBe(1);
    },
  );
});
