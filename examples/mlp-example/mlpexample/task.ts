/**
 * The model and the data of the MLP example: a Keras-style `tf.sequential`
 * MLP (any `tf.LayersModel` works the same way) trained with @flwr-ts/ml's
 * generic path, on a generated tabular stand-in dataset.
 *
 * The dataset: 16 float features, 4 classes. Each class has a fixed centre
 * (drawn once from seed 2026); an example is its class centre plus Gaussian
 * noise (σ 1.6, so the classes overlap: held-out accuracy tops out near 0.95), and
 * 3% of labels are random. Node `i` draws its examples from seed 1000 + i, and
 * its held-out set from seed 5000 + i: deterministic, different per node.
 */
import type { ArrayRecord } from "@flwr-ts/core";
import {
  type FeatureDataset,
  initBackend,
  modelFromArrayRecord,
  modelToArrayRecord,
  seededRandom,
  tf,
} from "@flwr-ts/ml";

/** Features per example. */
export const NUM_FEATURES = 16;
/** Classes. */
export const NUM_CLASSES = 4;
const NOISE = 1.6;
const LABEL_NOISE = 0.03;

/** Standard normal draws from a uniform generator (Box–Muller). */
function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

const CENTRES: Float32Array = (() => {
  const g = gaussian(seededRandom(2026));
  const c = new Float32Array(NUM_CLASSES * NUM_FEATURES);
  for (let i = 0; i < c.length; i++) c[i] = 1.5 * g();
  return c;
})();

/** `count` generated examples from `seed` (see the module comment). */
export function makeDataset(count: number, seed: number): FeatureDataset {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`count must be ≥ 1, got ${count}`);
  const random = seededRandom(seed);
  const g = gaussian(random);
  const features = new Float32Array(count * NUM_FEATURES);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = Math.floor(random() * NUM_CLASSES);
    for (let f = 0; f < NUM_FEATURES; f++) {
      features[i * NUM_FEATURES + f] = (CENTRES[label * NUM_FEATURES + f] as number) + NOISE * g();
    }
    labels[i] = random() < LABEL_NOISE ? Math.floor(random() * NUM_CLASSES) : label;
  }
  return {
    count,
    shape: [NUM_FEATURES],
    features,
    labels,
    numClasses: NUM_CLASSES,
    synthetic: true,
  };
}

/** A node's train and held-out data. */
export function nodeData(
  partitionId: number,
  count: number,
): { train: FeatureDataset; test: FeatureDataset } {
  return {
    train: makeDataset(count, 1000 + partitionId),
    test: makeDataset(Math.max(1, Math.floor(count / 4)), 5000 + partitionId),
  };
}

/**
 * The MLP: 16 → 32 (ReLU) → dropout 0.1 → 32 (ReLU) → 4 logits. Layers are
 * named, so the ArrayRecord keys (`fc1/kernel`, …) are the same in every process.
 */
export async function newModel(): Promise<tf.LayersModel> {
  await initBackend();
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [NUM_FEATURES], units: 32, activation: "relu", name: "fc1" }),
      tf.layers.dropout({ rate: 0.1, name: "drop" }),
      tf.layers.dense({ units: 32, activation: "relu", name: "fc2" }),
      tf.layers.dense({ units: NUM_CLASSES, name: "fc3" }),
    ],
  });
}

/** The model's weights as an ArrayRecord (Keras names, order and shapes). */
export function modelToArrays(model: tf.LayersModel): ArrayRecord {
  return modelToArrayRecord(model);
}

/** Loads an ArrayRecord made by {@link modelToArrays} (throws WeightsError on a mismatch). */
export function arraysToModel(model: tf.LayersModel, arrays: ArrayRecord): void {
  modelFromArrayRecord(model, arrays);
}
