/** `MetricRecord`: named numeric metrics (Python Flower's `MetricRecord`). */
import { RecordMap } from "./record-map.js";
import { classifyValue, type MetricValue } from "./scalar.js";

/**
 * An ordered map of metric name → integer, float, or a homogeneous list of either.
 *
 * Integers are `bigint`, floats are `number` (see the integer/float rule in `scalar.ts`):
 * `new MetricRecord({ "num-examples": 10n, loss: 0.5 })` reaches a Python ServerApp as
 * `{"num-examples": 10, "loss": 0.5}`. Lists are copied and frozen when set.
 */
export class MetricRecord extends RecordMap<MetricValue> {
  protected check(key: string, value: MetricValue): MetricValue {
    classifyValue(value, false, key);
    return Array.isArray(value) ? Object.freeze([...value]) : value;
  }
}
