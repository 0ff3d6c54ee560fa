/**
 * Any tfjs `LayersModel` ↔ Flower `ArrayRecord` (float32 `.npy` arrays), with
 * Keras names and layouts by default or PyTorch `state_dict` names and
 * layouts (see {@link ModelWeightsOptions}). Trainable and non-trainable
 * weights (batch-norm statistics) alike: Flower sends the full state.
 */
import { ArrayRecord, NdArray } from "@flwr-ts/core";
import * as tf from "../tf.js";
import { WeightsError, type WeightTensor } from "../weights.js";
import {
  type LayerVariable,
  type ModelWeightsOptions,
  type RecordEntry,
  weightGroups,
} from "./weight-mapping.js";

export type { ModelWeightsOptions, WeightNaming } from "./weight-mapping.js";

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function checkModel(model: tf.LayersModel): void {
  if (!(model instanceof tf.LayersModel)) {
    throw new WeightsError(
      "expected a tf.LayersModel (tf.sequential, tf.model or tf.loadLayersModel)",
    );
  }
}

/**
 * The model's weights as record entries in record order: key, record shape
 * and float32 values (PyTorch's `num_batches_tracked` counters are left out).
 */
export function getModelWeights(
  model: tf.LayersModel,
  options: ModelWeightsOptions = {},
): Map<string, WeightTensor> {
  checkModel(model);
  const out = new Map<string, WeightTensor>();
  for (const group of weightGroups(model, options)) {
    const values = group.variables.map((v) => v.read().dataSync() as Float32Array);
    const converted = group.toRecord(values);
    let i = 0;
    for (const e of group.entries) {
      if (e.dtype !== "float32") continue;
      out.set(e.key, { shape: [...e.shape], data: converted[i++] as Float32Array });
    }
  }
  return out;
}

/** The record's keys, in order, with their shapes and dtypes (what {@link modelFromArrayRecord} expects). */
export function modelRecordLayout(
  model: tf.LayersModel,
  options: ModelWeightsOptions = {},
): RecordEntry[] {
  checkModel(model);
  return weightGroups(model, options).flatMap((g) => g.entries.map((e) => ({ ...e })));
}

/**
 * The model's weights (trainable and not) as an ArrayRecord of float32
 * arrays: Keras names, `model.weights` order and tfjs shapes by default;
 * PyTorch `state_dict` names, order and layouts with `naming: "pytorch"`
 * (batch-norm layers then also carry an int64 `num_batches_tracked` of 0, as
 * `torch.nn.BatchNorm` has).
 * @throws WeightsError for a layer without a PyTorch mapping, duplicate keys or non-float32 weights.
 */
export function modelToArrayRecord(
  model: tf.LayersModel,
  options: ModelWeightsOptions = {},
): ArrayRecord {
  checkModel(model);
  const record = new ArrayRecord();
  for (const group of weightGroups(model, options)) {
    const values = group.variables.map((v) => v.read().dataSync() as Float32Array);
    const converted = group.toRecord(values);
    let i = 0;
    for (const e of group.entries) {
      if (e.dtype === "int64") {
        record.set(e.key, NdArray.fromTypedArray(new BigInt64Array(1), e.shape, "int64"));
      } else {
        record.set(
          e.key,
          NdArray.fromTypedArray(converted[i++] as Float32Array, e.shape, "float32"),
        );
      }
    }
  }
  return record;
}

/**
 * Loads an ArrayRecord made by {@link modelToArrayRecord} (or by PyTorch's
 * `ArrayRecord(net.state_dict())` with `naming: "pytorch"`) into `model`.
 * Every key must be present with its exact shape as float32 (an optional
 * `num_batches_tracked` may be any integer type and is ignored); unknown keys
 * are refused. The model is changed only when every array is valid.
 * @throws WeightsError naming the offending key.
 */
export function modelFromArrayRecord(
  model: tf.LayersModel,
  record: ArrayRecord,
  options: ModelWeightsOptions = {},
): void {
  checkModel(model);
  if (!(record instanceof ArrayRecord)) throw new WeightsError("expected an ArrayRecord");
  const groups = weightGroups(model, options);
  const expected = new Map(groups.flatMap((g) => g.entries.map((e) => [e.key, e] as const)));
  const unknown = [...record.keys()].filter((k) => !expected.has(k));
  if (unknown.length > 0) {
    throw new WeightsError(
      `unknown array(s) ${unknown.join(", ")}: the model expects ${[...expected.keys()].join(", ")}`,
    );
  }
  const writes: [LayerVariable, Float32Array][] = [];
  for (const group of groups) {
    const values: Float32Array[] = [];
    for (const e of group.entries) {
      const array = record.get(e.key);
      if (!array) {
        if (e.optional) continue;
        throw new WeightsError(`missing array ${e.key} (shape [${e.shape}])`);
      }
      if (e.dtype === "int64") {
        if (!/^u?int(8|16|32|64)$/.test(array.dtype)) {
          throw new WeightsError(`array ${e.key} is ${array.dtype}, expected an integer counter`);
        }
        continue;
      }
      if (array.dtype !== "float32") {
        throw new WeightsError(`array ${e.key} is ${array.dtype}, expected float32`);
      }
      if (!sameShape(array.shape, e.shape)) {
        throw new WeightsError(`array ${e.key} has shape [${array.shape}], expected [${e.shape}]`);
      }
      try {
        values.push(array.toTypedArray("float32"));
      } catch (error) {
        throw new WeightsError(
          `array ${e.key} is not a valid float32 .npy array: ${(error as Error).message}`,
        );
      }
    }
    const converted = group.fromRecord(values);
    group.variables.forEach((v, i) => {
      writes.push([v, converted[i] as Float32Array]);
    });
  }
  setVariables(writes);
}

/** Assigns values to layer variables (shapes are the variables' own). */
export function setVariables(writes: [LayerVariable, Float32Array][]): void {
  tf.tidy(() => {
    for (const [v, values] of writes) v.write(tf.tensor(values, v.shape as number[], "float32"));
  });
}

/** The model's weights (all of them, `model.weights` order) as one flat float32 vector. */
export function readModelFlat(model: tf.LayersModel, out?: Float32Array): Float32Array {
  const size = model.weights.reduce(
    (n, v) => n + v.shape.reduce((a: number, b) => a * (b ?? 0), 1),
    0,
  );
  const flat = out ?? new Float32Array(size);
  if (flat.length !== size)
    throw new WeightsError(`flat weights: ${flat.length} values for ${size}`);
  let offset = 0;
  for (const v of model.weights) {
    const values = v.read().dataSync() as Float32Array;
    flat.set(values, offset);
    offset += values.length;
  }
  return flat;
}

/** Sets all the model's weights from a flat vector made by {@link readModelFlat}. */
export function writeModelFlat(model: tf.LayersModel, flat: Float32Array): void {
  const writes: [LayerVariable, Float32Array][] = [];
  let offset = 0;
  for (const v of model.weights) {
    const size = (v.shape as number[]).reduce((a, b) => a * b, 1);
    writes.push([v, flat.subarray(offset, offset + size)]);
    offset += size;
  }
  if (offset !== flat.length)
    throw new WeightsError(`flat weights: ${flat.length} values for ${offset}`);
  setVariables(writes);
}
