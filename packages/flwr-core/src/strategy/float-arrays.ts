/**
 * Float64 working copies of an ArrayRecord's arrays, for strategies that do arithmetic on the
 * global model between rounds (server-side optimizers, robust aggregators).
 */
import { ArrayRecord } from "../records/array-record.js";
import { type DType, isDType } from "../records/dtype.js";
import { shapeRepr } from "../records/npy.js";
import { fromFloat64, toFloat64 } from "./aggregate.js";
import { AggregationError } from "./errors.js";

/** One array as float64 values with the dtype and shape it is written back with. */
export interface FloatArray {
  /** The dtype of the source array (kept when written back). */
  readonly dtype: DType;
  /** The shape (C order). */
  readonly shape: readonly number[];
  /** The elements in C order. */
  readonly values: Float64Array;
}

/** Name → {@link FloatArray}, in the ArrayRecord's order. */
export type FloatArrays = Map<string, FloatArray>;

/**
 * Reads every array of `record` as float64 (Python `array.numpy()` per key).
 * @throws AggregationError for a dtype that is not a number type.
 */
export function readFloatArrays(record: ArrayRecord): FloatArrays {
  const out: FloatArrays = new Map();
  for (const [name, arr] of record) {
    if (!isDType(arr.dtype)) {
      throw new AggregationError(`array '${name}' has dtype ${arr.dtype}, not a number type`);
    }
    out.set(name, { dtype: arr.dtype, shape: arr.shape, values: toFloat64(arr) });
  }
  return out;
}

/** Writes float64 arrays back into an ArrayRecord, each cast to its recorded dtype. */
export function writeFloatArrays(arrays: FloatArrays): ArrayRecord {
  const out = new ArrayRecord();
  for (const [name, a] of arrays) out.set(name, fromFloat64(a.values, a.dtype, a.shape));
  return out;
}

/**
 * Checks that `b` has exactly the names of `a` and each array the same shape (no
 * broadcasting), as Flower's FedOpt does before computing `delta_t`.
 * @throws AggregationError with Flower's reasons otherwise.
 */
export function checkSameLayout(a: FloatArrays, b: FloatArrays): void {
  const ka = [...a.keys()].sort();
  const kb = [...b.keys()].sort();
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) {
    throw new AggregationError(
      "Keys of the aggregated arrays do not match those of the arrays stored at the strategy. " +
        "`delta_t = aggregated_arrays - current_arrays` cannot be computed.",
    );
  }
  for (const [k, x] of b) {
    if (shapeRepr(x.shape) !== shapeRepr(a.get(k)!.shape)) {
      throw new AggregationError(
        `Shape of aggregated array '${k}' does not match shape of the array under the same key ` +
          "stored in the strategy. Cannot compute `delta_t`.",
      );
    }
  }
}
