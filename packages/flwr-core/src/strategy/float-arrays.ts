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

/**
 * The arrays of each reply's (only) ArrayRecord grouped by name, in the first reply's order:
 * name → one {@link FloatArray} per reply (what Flower stacks with `np.stack(layers)`).
 * @throws AggregationError when a reply lacks an array or its size differs.
 */
export function stackByName(records: readonly ArrayRecord[]): Map<string, FloatArray[]> {
  const out = new Map<string, FloatArray[]>();
  const read = records.map((r) => readFloatArrays(r));
  for (const [name, first] of read[0] ?? []) {
    out.set(
      name,
      read.map((arrays) => {
        const a = arrays.get(name);
        if (a === undefined || a.values.length !== first.values.length) {
          throw new AggregationError(
            `array '${name}' is missing or differs in size between replies`,
          );
        }
        return a;
      }),
    );
  }
  return out;
}

/**
 * Applies `reduce` to each coordinate of stacked arrays (`reduce` gets the replies' values at
 * that coordinate in reply order and may reorder them) and keeps the first reply's dtype.
 */
export function reduceCoordinates(
  stack: readonly FloatArray[],
  reduce: (values: Float64Array) => number,
): FloatArray {
  const first = stack[0]!;
  const n = first.values.length;
  const column = new Float64Array(stack.length);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < stack.length; j++) column[j] = stack[j]!.values[i]!;
    values[i] = reduce(column);
  }
  return { dtype: first.dtype, shape: first.shape, values };
}

/** The median of values (the mean of the two middle ones for an even count), as numpy's. */
export function median(values: Float64Array): number {
  const s = Float64Array.from(values).sort();
  const n = s.length;
  if (n === 0) return Number.NaN;
  if (s.some(Number.isNaN)) return Number.NaN;
  const h = n >> 1;
  return n % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}
