/** `ArrayRecord`: named arrays, e.g. model parameters (Python Flower's `ArrayRecord`). */
import { NdArray } from "./array.js";
import { RecordValueError } from "./errors.js";
import { RecordMap } from "./record-map.js";

/**
 * An ordered map of name → {@link NdArray}.
 *
 * Example: `new ArrayRecord({ w: NdArray.fromTypedArray(new Float32Array([1, 2])) })`.
 */
export class ArrayRecord extends RecordMap<NdArray> {
  protected check(key: string, value: NdArray): NdArray {
    if (!(value instanceof NdArray)) {
      throw new RecordValueError("ArrayRecord values must be NdArray instances", key);
    }
    return value;
  }

  /** Builds a record from named TypedArrays (1-d unless a shape is given per name). */
  static fromTypedArrays(
    arrays: Iterable<
      readonly [string, Parameters<typeof NdArray.fromTypedArray>[0], (readonly number[])?]
    >,
  ): ArrayRecord {
    const rec = new ArrayRecord();
    for (const [name, typed, shape] of arrays) rec.set(name, NdArray.fromTypedArray(typed, shape));
    return rec;
  }
}
