/**
 * {@link Net} ↔ Flower `ArrayRecord` with PyTorch `state_dict` keys and
 * layouts (float32 `.npy` arrays), the form Python Flower's PyTorch apps
 * send: `ArrayRecord(net.state_dict())`.
 */
import { ArrayRecord, NdArray } from "@flwr-ts/core";
import type { Net } from "./net.js";
import { getWeights, setWeights, WeightsError, type WeightTensor } from "./weights.js";

/** The model's parameters as an ArrayRecord, keys in `state_dict` order. */
export function toArrayRecord(model: Net): ArrayRecord {
  const record = new ArrayRecord();
  for (const [name, { shape, data }] of getWeights(model)) {
    record.set(name, NdArray.fromTypedArray(data, shape, "float32"));
  }
  return record;
}

/**
 * Loads an ArrayRecord with the Net's `state_dict` keys (float32 arrays in
 * PyTorch layouts) into `model`; throws {@link WeightsError} naming the
 * offending key when one is missing, unknown, not float32 or misshapen.
 */
export function fromArrayRecord(model: Net, record: ArrayRecord): void {
  const weights = new Map<string, WeightTensor>();
  for (const [name, array] of record) {
    if (array.dtype !== "float32") {
      throw new WeightsError(
        `parameter ${name} is ${array.dtype}, expected float32 (as torch's state_dict)`,
      );
    }
    let data: Float32Array;
    try {
      data = array.toTypedArray("float32");
    } catch (error) {
      throw new WeightsError(
        `parameter ${name} is not a valid float32 .npy array: ${(error as Error).message}`,
      );
    }
    weights.set(name, { shape: [...array.shape], data });
  }
  setWeights(model, weights);
}
