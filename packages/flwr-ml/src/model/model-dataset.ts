/**
 * Datasets for generic models: images (as {@link ImageDataset}, bytes
 * normalised as the seed does) or any fixed-shape float features.
 */
import { DatasetError, type ImageDataset } from "../dataset.js";

/** Examples of any fixed shape as float32 features, with integer class labels. */
export interface FeatureDataset {
  /** Number of examples. */
  count: number;
  /** Shape of one example, e.g. `[20]` for tabular rows, `[steps, features]` for sequences. */
  shape: readonly number[];
  /** `count · prod(shape)` values, example after example, row-major (token ids as floats for embeddings). */
  features: Float32Array;
  /** Class index of each example. */
  labels: Uint8Array | Int32Array;
  /** Number of classes. */
  numClasses: number;
  /** True for generated stand-in data. */
  synthetic?: boolean;
}

/** What the generic `trainModel`/`testModel` accept. */
export type ModelDataset = ImageDataset | FeatureDataset;

/** The dataset as a flat-shaped {@link ImageDataset} (what the batch builders and workers use) and one example's shape. */
export function flatDataset(data: ModelDataset): { flat: ImageDataset; exampleShape: number[] } {
  if ("features" in data) {
    if (!Array.isArray(data.shape) || data.shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new DatasetError(`example shape [${String(data.shape)}] must be positive integers`);
    }
    if (!(data.features instanceof Float32Array)) {
      throw new DatasetError("features must be a Float32Array");
    }
    const size = data.shape.reduce((a, b) => a * b, 1);
    return {
      flat: {
        count: data.count,
        shape: [size, 1, 1],
        pixels: data.features,
        labels: data.labels,
        numClasses: data.numClasses,
      },
      exampleShape: [...data.shape],
    };
  }
  return { flat: data, exampleShape: [...data.shape] };
}
