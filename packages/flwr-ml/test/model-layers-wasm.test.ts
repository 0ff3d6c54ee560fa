/**
 * Every standard layer type trains on the wasm backend (with flwr-ml's
 * kernels) as on the stock cpu backend: a tiny model per layer type, same
 * initial weights and data, three SGD-momentum steps through `trainModel`;
 * the step losses, the evaluation and every final weight (batch-norm
 * statistics included) agree to 1e-4 relative.
 */
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, it } from "vitest";
import { registerTrainingKernels } from "../src/kernels/register.js";
import { readModelFlat } from "../src/model/model-array-record.js";
import { testModel, trainModel } from "../src/model/model-train.js";
import * as tf from "../src/tf.js";
import {
  caseData,
  LAYER_CASES,
  type LayerCase,
  relDiff,
  seedWeights,
} from "./helpers/layer-cases.js";

const TOL = 1e-4;

async function use(backend: "wasm" | "cpu"): Promise<void> {
  const warn = console.warn;
  console.warn = () => {};
  await tf.setBackend(backend);
  console.warn = warn;
  await tf.ready();
}

function trainOn(c: LayerCase) {
  const data = caseData(c, 12, 5);
  const model = c.build();
  seedWeights(model, 11);
  const before = readModelFlat(model);
  const losses: number[] = [];
  trainModel(model, data, {
    epochs: 1,
    learningRate: 0.1,
    momentum: 0.9,
    batchSize: 4,
    seed: 3,
    workers: 1,
    progressBar: false,
    onProgress: (p) => losses.push(p.loss),
  });
  const evaluation = testModel(model, data, { batchSize: 5, workers: 1, progressBar: false });
  const after = readModelFlat(model);
  model.dispose();
  return { losses, evaluation, before, after };
}

beforeAll(async () => {
  registerTrainingKernels("wasm");
  await use("wasm");
});

describe("generic models: wasm training matches the cpu backend", () => {
  it("registers the gradient kernels wasm lacks", () => {
    for (const name of [
      "DepthwiseConv2dNativeBackpropFilter",
      "DepthwiseConv2dNativeBackpropInput",
      "UnsortedSegmentSum",
    ]) {
      expect(tf.getKernel(name, "wasm"), name).toBeDefined();
    }
  });

  for (const c of LAYER_CASES) {
    it(c.name, async () => {
      await use("cpu");
      const reference = trainOn(c);
      await use("wasm");
      const ours = trainOn(c);
      expect(ours.losses.length).toBe(3);
      expect(relDiff(ours.losses, reference.losses)).toBeLessThan(TOL);
      expect(relDiff([ours.evaluation.loss], [reference.evaluation.loss])).toBeLessThan(TOL);
      expect(ours.evaluation.accuracy).toBe(reference.evaluation.accuracy);
      // Training moved the weights (else the comparison proves nothing) …
      expect(relDiff(ours.after, ours.before)).toBeGreaterThan(1e-3);
      // … and both backends moved them the same way.
      expect(relDiff(ours.after, reference.after)).toBeLessThan(TOL);
    });
  }
});
