/**
 * Training parity with PyTorch: from the torch-net fixture's state_dict, three
 * SGD-momentum steps (lr 0.1, momentum 0.9, batch 32, mean cross-entropy, no
 * shuffling) on the same uint8 images must give PyTorch's losses and weights.
 * The fixture is made by `fixtures/torch-sgd/make_fixture.py`. Run with the
 * native training step (`@flwr-ts/ml-native`; skipped, with the reason in
 * the test name, when the addon is not built) and with the tfjs kernels
 * (`FLWR_ML_NATIVE=0`), in-process and on 2 workers.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/backend.js";
import type { ImageDataset } from "../src/dataset.js";
import { nativeUnavailableReason, netTrainingEngine } from "../src/native-net-step.js";
import { createNet, NET_PARAMETERS } from "../src/net.js";
import { closeTrainingWorkers } from "../src/parallel/worker-pool.js";
import { train } from "../src/train.js";
import { getWeights, setWeights } from "../src/weights.js";
import { readNpyF32 } from "./helpers/npy.js";

const NET = join(import.meta.dirname, "fixtures", "torch-net");
const SGD = join(import.meta.dirname, "fixtures", "torch-sgd");

function fixtureData(): ImageDataset {
  const pixels = new Uint8Array(readFileSync(join(SGD, "pixels.u8")));
  const labels = new Uint8Array(readFileSync(join(SGD, "labels.u8")));
  return { count: labels.length, shape: [32, 32, 3], pixels, labels, numClasses: 10 };
}

/** Largest |a - b| relative to max(1, |b|). */
function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number)) / Math.max(1, Math.abs(b[i] as number));
    if (d > worst) worst = d;
  }
  return worst;
}

const savedNative = process.env.FLWR_ML_NATIVE;
const nativeMissing = nativeUnavailableReason();

beforeAll(async () => {
  await initBackend({ log: null });
});

afterAll(async () => {
  if (savedNative === undefined) delete process.env.FLWR_ML_NATIVE;
  else process.env.FLWR_ML_NATIVE = savedNative;
  await closeTrainingWorkers();
});

/** Selects the engine (workers take the environment when they start, so the pool restarts). */
async function useEngine(engine: "native" | "tfjs"): Promise<void> {
  const value = engine === "native" ? "1" : "0";
  if (process.env.FLWR_ML_NATIVE === value) return;
  process.env.FLWR_ML_NATIVE = value;
  await closeTrainingWorkers();
}

const cases = [
  { engine: "native", workers: 1 },
  { engine: "native", workers: 2 },
  { engine: "tfjs", workers: 1 },
  { engine: "tfjs", workers: 2 },
] as const;

describe.each(cases)(
  "PyTorch SGD parity, $engine step, $workers worker(s)",
  ({ engine, workers }) => {
    const skip = engine === "native" && nativeMissing !== undefined;
    it.skipIf(skip)(
      `reproduces PyTorch's losses and weights after three steps${
        skip ? ` (skipped: native addon unavailable: ${nativeMissing})` : ""
      }`,
      async () => {
        await useEngine(engine);
        expect(netTrainingEngine().engine).toBe(engine);
        const net = createNet({ seed: 1 });
        setWeights(
          net,
          new Map(NET_PARAMETERS.map(([name]) => [name, readNpyF32(join(NET, `${name}.npy`))])),
        );
        const meanLoss = train(net, fixtureData(), {
          epochs: 1,
          learningRate: 0.1,
          momentum: 0.9,
          batchSize: 32,
          shuffle: false,
          workers,
          progressBar: false,
        });
        const expectedLosses = readNpyF32(join(SGD, "losses.npy")).data;
        const expectedMean = expectedLosses.reduce((a, b) => a + b, 0) / expectedLosses.length;
        expect(Math.abs(meanLoss - expectedMean)).toBeLessThan(1e-4);
        const after = getWeights(net);
        for (const [name] of NET_PARAMETERS) {
          const expected = readNpyF32(join(SGD, `${name}.npy`));
          const ours = after.get(name)!;
          expect(ours.shape, name).toEqual(expected.shape);
          expect(maxRelDiff(ours.data as Float32Array, expected.data), name).toBeLessThan(1e-4);
        }
        net.dispose();
      },
    );
  },
);
