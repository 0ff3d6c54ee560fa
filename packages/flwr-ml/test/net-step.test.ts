/**
 * NetStep (the Net's loss and gradients with the backend's kernels called
 * directly) against the same Net written in plain tfjs ops and differentiated
 * by tfjs's autodiff, to 1e-4, on the wasm and cpu backends and for the
 * native step (`@flwr-ts/ml-native`, against the cpu backend's autodiff;
 * skipped with the reason when the addon is not built); no leaked backend
 * tensors; input validation; and the flat SGD-momentum step.
 */
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, it } from "vitest";
import { POOL_RELU_BIAS_GRAD } from "../src/kernels/pool-relu-bias-grad.js";
import { registerTrainingKernels } from "../src/kernels/register.js";
import {
  NativeNetStep,
  type NetStepLike,
  nativeUnavailableReason,
} from "../src/native-net-step.js";
import { createNet } from "../src/net.js";
import { NetStep, netStepSupported } from "../src/net-step.js";
import { PARAM_COUNT, PARAM_SLOTS, readFlatWeights } from "../src/parallel/param-layout.js";
import { sgdMomentumFlatStep } from "../src/sgd-momentum.js";
import * as tf from "../src/tf.js";
import { randomValues } from "./helpers/kernel-cases.js";

const TOL = 1e-4;
const nativeMissing = nativeUnavailableReason();
/** The engines under test: tfjs kernels on wasm and cpu, and the native addon (reference on cpu). */
const ENGINES = ["wasm", "cpu", "native"] as const;
type Engine = (typeof ENGINES)[number];
const backendOf = (engine: Engine) => (engine === "native" ? "cpu" : engine);
const makeStep = (engine: Engine): NetStepLike =>
  engine === "native" ? new NativeNetStep() : new NetStep();
const skipNative = (engine: Engine) => engine === "native" && nativeMissing !== undefined;
const why = (engine: Engine) =>
  skipNative(engine) ? ` (skipped: native addon unavailable: ${nativeMissing})` : "";

async function use(backend: "wasm" | "cpu"): Promise<void> {
  const warn = console.warn;
  console.warn = () => {};
  try {
    await tf.setBackend(backend);
    await tf.ready();
  } finally {
    console.warn = warn;
  }
}

beforeAll(async () => {
  registerTrainingKernels("wasm");
  registerTrainingKernels("cpu");
  await use("wasm");
});

/** Loss and flat gradients of the Net in plain tfjs ops (autodiff), on the current backend. */
function reference(
  weights: Float32Array,
  x: Float32Array,
  labels: Int32Array,
  n: number,
): { loss: number; grads: Float32Array } {
  return tf.tidy(() => {
    const params = PARAM_SLOTS.map((s) =>
      tf.tensor(weights.subarray(s.offset, s.offset + s.size), s.shape),
    );
    const xs = tf.tensor4d(x.subarray(0, n * 3072), [n, 32, 32, 3]);
    const oneHot = tf.oneHot(tf.tensor1d(labels.subarray(0, n), "int32"), 10);
    const f = (...p: tf.Tensor[]) => {
      const [w1, b1, w2, b2, f1, c1, f2, c2, f3, c3] = p as [
        tf.Tensor4D,
        tf.Tensor1D,
        tf.Tensor4D,
        tf.Tensor1D,
        tf.Tensor2D,
        tf.Tensor1D,
        tf.Tensor2D,
        tf.Tensor1D,
        tf.Tensor2D,
        tf.Tensor1D,
      ];
      const convReluPool = (t: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) =>
        tf.maxPool(tf.relu(tf.add(tf.conv2d(t, w, 1, "valid"), b)) as tf.Tensor4D, 2, 2, "valid");
      const y = convReluPool(convReluPool(xs, w1, b1), w2, b2);
      let h = tf.reshape(y, [n, 400]) as tf.Tensor2D;
      h = tf.relu(tf.add(tf.matMul(h, f1), c1)) as tf.Tensor2D;
      h = tf.relu(tf.add(tf.matMul(h, f2), c2)) as tf.Tensor2D;
      const z = tf.add(tf.matMul(h, f3), c3);
      return tf.losses.softmaxCrossEntropy(oneHot, z) as tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(f)(params);
    const flat = new Float32Array(PARAM_COUNT);
    for (const [i, s] of PARAM_SLOTS.entries())
      flat.set(grads[i]?.dataSync() as Float32Array, s.offset);
    return { loss: value.dataSync()[0] as number, grads: flat };
  });
}

function inputs(n: number, seed: number) {
  const net = createNet({ seed });
  const weights = new Float32Array(PARAM_COUNT);
  readFlatWeights(net, weights);
  net.dispose();
  // Pixels in [-1, 1] as normalised images; every class among the labels.
  const x = randomValues(n * 3072, seed + 1);
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % 10);
  return { weights, x, labels };
}

function worstPerParam(a: Float32Array, b: Float32Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of PARAM_SLOTS) {
    let m = 0;
    for (let i = s.offset; i < s.offset + s.size; i++)
      m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
    out[s.name] = m;
  }
  return out;
}

function dataIds(): number {
  return tf.backend().numDataIds();
}

describe.each(ENGINES)("NetStep on %s", (engine) => {
  const backend = backendOf(engine);
  it.skipIf(skipNative(engine)).each(engine === "native" ? [1, 5, 16, 32] : [1, 5, 16])(
    `gives the autodiff loss and gradients of the plain-ops Net to 1e-4 (batch %i)${why(engine)}`,
    async (n) => {
      await use(backend);
      expect(netStepSupported()).toBe(true);
      const { weights, x, labels } = inputs(n, 10 + n);
      const expected = reference(weights, x, labels, n);
      const step = makeStep(engine);
      const grads = new Float32Array(PARAM_COUNT).fill(Number.NaN);
      const before = dataIds();
      const loss = step.lossAndGradients(weights, x, labels, n, grads);
      expect(dataIds()).toBe(before);
      expect(Math.abs(loss - expected.loss)).toBeLessThan(TOL);
      for (const [name, d] of Object.entries(worstPerParam(grads, expected.grads)))
        expect(d, name).toBeLessThan(TOL);
      // Something flowed back to every layer (the check is not vacuous).
      for (const s of PARAM_SLOTS) {
        const g = grads.subarray(s.offset, s.offset + s.size);
        expect(
          g.some((v) => v !== 0),
          s.name,
        ).toBe(true);
      }
      await use("wasm");
    },
  );

  it.skipIf(skipNative(engine))(
    `logits equal Net.predict, and nothing leaks${why(engine)}`,
    async () => {
      await use(backend);
      const n = 3;
      const net = createNet({ seed: 5 });
      const weights = new Float32Array(PARAM_COUNT);
      readFlatWeights(net, weights);
      const x = randomValues(n * 3072, 9);
      const expected = tf.tidy(
        () => net.predict(tf.tensor4d(x, [n, 32, 32, 3])).dataSync() as Float32Array,
      );
      const before = dataIds();
      const logits = makeStep(engine).logits(weights, x, n);
      expect(dataIds()).toBe(before);
      expect(logits.length).toBe(n * 10);
      let worst = 0;
      for (let i = 0; i < logits.length; i++)
        worst = Math.max(worst, Math.abs((logits[i] as number) - (expected[i] as number)));
      expect(worst).toBeLessThan(TOL);
      net.dispose();
      await use("wasm");
    },
  );
});

describe("NetStep resident weights", () => {
  it.for(ENGINES)(
    "momentumStep matches the flat SGD-momentum step over several steps, and frees everything on %s",
    async (engine, ctx) => {
      ctx.skip(skipNative(engine), `native addon unavailable: ${nativeMissing}`);
      await use(backendOf(engine));
      const before = dataIds();
      const { weights, x, labels } = inputs(4, 21);
      const step = makeStep(engine);
      step.loadWeights(weights);
      const expected = weights.slice();
      const momentum = new Float32Array(PARAM_COUNT);
      const g0 = new Float32Array(PARAM_COUNT);
      const g1 = new Float32Array(PARAM_COUNT);
      for (let t = 0; t < 3; t++) {
        // Two chunks of the batch, as two workers compute them.
        step.lossAndGradients(null, x, labels, 2, g0);
        const g1Loss = step.lossAndGradients(null, x.subarray(2 * 3072), labels.subarray(2), 2, g1);
        expect(Number.isFinite(g1Loss)).toBe(true);
        // The resident weights are the ones the flat reference has reached.
        const direct = new Float32Array(PARAM_COUNT);
        step.lossAndGradients(expected, x, labels, 2, direct);
        let worstGrad = 0;
        for (let i = 0; i < PARAM_COUNT; i++)
          worstGrad = Math.max(worstGrad, Math.abs((direct[i] as number) - (g0[i] as number)));
        expect(worstGrad).toBeLessThan(1e-5);
        step.momentumStep([g0, g1], [0.5, 0.5], 0.1, 0.9);
        sgdMomentumFlatStep(expected, momentum, [g0, g1], [0.5, 0.5], 0.1, 0.9);
      }
      const ours = new Float32Array(PARAM_COUNT);
      step.readWeights(ours);
      let worst = 0;
      for (let i = 0; i < PARAM_COUNT; i++)
        worst = Math.max(worst, Math.abs((ours[i] as number) - (expected[i] as number)));
      expect(worst).toBeLessThan(1e-5);
      expect(ours.some((v, i) => v !== weights[i])).toBe(true);
      step.dispose();
      expect(dataIds()).toBe(before);
      await use("wasm");
    },
  );

  it.for(ENGINES)("refuses resident use before loadWeights and bad sizes (%s)", (engine, ctx) => {
    ctx.skip(skipNative(engine), `native addon unavailable: ${nativeMissing}`);
    const step = makeStep(engine);
    const { x, labels } = inputs(1, 2);
    const grads = new Float32Array(PARAM_COUNT);
    expect(() => step.lossAndGradients(null, x, labels, 1, grads)).toThrow(/loadWeights/);
    expect(() => step.momentumStep([grads], [1], 0.1, 0.9)).toThrow(/loadWeights/);
    expect(() => step.loadWeights(new Float32Array(3))).toThrow(RangeError);
    step.loadWeights(new Float32Array(PARAM_COUNT));
    expect(() => step.momentumStep([grads], [1, 2], 0.1, 0.9)).toThrow(/one scale per part/);
    expect(() => step.readWeights(new Float32Array(2))).toThrow(RangeError);
    step.dispose();
  });
});

describe("NetStep input validation", () => {
  it.for(ENGINES)(
    "rejects bad sizes and labels with RangeErrors and frees what it allocated (%s)",
    (engine, ctx) => {
      ctx.skip(skipNative(engine), `native addon unavailable: ${nativeMissing}`);
      const { weights, x, labels } = inputs(2, 3);
      const step = makeStep(engine);
      const grads = new Float32Array(PARAM_COUNT);
      const before = dataIds();
      expect(() => step.lossAndGradients(weights.subarray(1), x, labels, 2, grads)).toThrow(
        /weights must have 62006 values/,
      );
      expect(() => step.lossAndGradients(weights, x.subarray(0, 3072), labels, 2, grads)).toThrow(
        /x must hold 2 NHWC images/,
      );
      expect(() => step.lossAndGradients(weights, x, labels, 2, grads.subarray(5))).toThrow(
        /grads must have room/,
      );
      expect(() => step.lossAndGradients(weights, x, labels, 3, grads)).toThrow(/3 labels needed/);
      expect(() => step.lossAndGradients(weights, x, Int32Array.of(0, 10), 2, grads)).toThrow(
        /label 10 outside 0..9/,
      );
      expect(dataIds()).toBe(before);
    },
  );

  it("is not supported on a backend without flwr-ml's kernels", () => {
    expect(netStepSupported("webgl")).toBe(false);
    expect(() => new NetStep("webgl")).toThrow(/wasm or cpu backend/);
  });
});

describe("FlwrPoolReluBiasGrad with dzLayout HWNC", () => {
  it.each(["wasm", "cpu"] as const)(
    "is the NHWC result transposed to [h, w, n, c] on %s (odd sizes, negative and zero inputs)",
    async (backend) => {
      await use(backend);
      const [n, h, w, c] = [3, 7, 9, 5];
      // ReLU-like outputs with zeros and some negative values (the kernel must mask them).
      const yValues = randomValues(n * h * w * c, 31).map((v) => (v < -0.5 ? v : Math.max(0, v)));
      const dyValues = randomValues(n * 3 * 4 * c, 32);
      const before = tf.memory().numTensors;
      const [nhwc, hwnc, dbA, dbB] = tf.tidy(() => {
        const y = tf.tensor4d(yValues, [n, h, w, c]);
        const dy = tf.tensor4d(dyValues, [n, 3, 4, c]);
        const [dzA, dbA] = tf.engine().runKernel(POOL_RELU_BIAS_GRAD, { y, dy }, {}) as tf.Tensor[];
        const [dzB, dbB] = tf
          .engine()
          .runKernel(POOL_RELU_BIAS_GRAD, { y, dy }, { dzLayout: "HWNC" }) as tf.Tensor[];
        return [
          tf.transpose(dzA as tf.Tensor, [1, 2, 0, 3]).dataSync() as Float32Array,
          (dzB as tf.Tensor).dataSync() as Float32Array,
          (dbA as tf.Tensor).dataSync() as Float32Array,
          (dbB as tf.Tensor).dataSync() as Float32Array,
        ];
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(hwnc.length).toBe(n * h * w * c);
      expect(Array.from(hwnc)).toEqual(Array.from(nhwc));
      expect(Array.from(dbB)).toEqual(Array.from(dbA));
      expect(hwnc.some((v) => v !== 0)).toBe(true);
      expect(() =>
        tf.tidy(() =>
          tf
            .engine()
            .runKernel(
              POOL_RELU_BIAS_GRAD,
              { y: tf.zeros([1, 2, 2, 1]), dy: tf.zeros([1, 1, 1, 1]) },
              { dzLayout: "NCHW" },
            ),
        ),
      ).toThrow(/dzLayout NCHW/);
      await use("wasm");
    },
  );
});

describe("sgdMomentumFlatStep", () => {
  it("applies a ← m·a + Σ sⱼ·gⱼ; w ← w − lr·a for one, two and three parts", () => {
    for (const parts of [1, 2, 3]) {
      const w = Float32Array.of(1, -2, 0.5);
      const a = Float32Array.of(0.1, 0, -0.3);
      const gs = Array.from({ length: parts }, (_, j) => Float32Array.of(j + 1, -(j + 1), 2 * j));
      const scales = gs.map((_, j) => 0.5 / (j + 1));
      const expectedA = [0, 1, 2].map(
        (i) =>
          0.9 * (a[i] as number) +
          gs.reduce((s, g, j) => s + (scales[j] as number) * (g[i] as number), 0),
      );
      const expectedW = [0, 1, 2].map((i) => (w[i] as number) - 0.1 * (expectedA[i] as number));
      sgdMomentumFlatStep(w, a, gs, scales, 0.1, 0.9);
      for (let i = 0; i < 3; i++) {
        expect(a[i]).toBeCloseTo(expectedA[i] as number, 6);
        expect(w[i]).toBeCloseTo(expectedW[i] as number, 6);
      }
    }
  });

  it("rejects vectors of different sizes", () => {
    expect(() =>
      sgdMomentumFlatStep(new Float32Array(3), new Float32Array(2), [], [], 0.1, 0.9),
    ).toThrow(RangeError);
  });
});
