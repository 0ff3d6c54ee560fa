/** `RecordDict`: the content of a message (Python Flower's `RecordDict`). */
import { ArrayRecord } from "./array-record.js";
import { ConfigRecord } from "./config-record.js";
import { RecordValueError } from "./errors.js";
import { MetricRecord } from "./metric-record.js";
import { RecordMap } from "./record-map.js";

/** Any record a {@link RecordDict} can hold. */
export type AnyRecord = ArrayRecord | MetricRecord | ConfigRecord;

/**
 * An ordered map of name → {@link ArrayRecord} | {@link MetricRecord} | {@link ConfigRecord}.
 *
 * Example: `new RecordDict({ arrays: new ArrayRecord(...), config: new ConfigRecord({ lr: 0.1 }) })`.
 */
export class RecordDict extends RecordMap<AnyRecord> {
  protected check(key: string, value: AnyRecord): AnyRecord {
    if (
      !(
        value instanceof ArrayRecord ||
        value instanceof MetricRecord ||
        value instanceof ConfigRecord
      )
    ) {
      throw new RecordValueError(
        "RecordDict values must be ArrayRecord, MetricRecord or ConfigRecord instances",
        key,
      );
    }
    return value;
  }

  /** A snapshot of the entries holding an {@link ArrayRecord}, in order. */
  get arrayRecords(): Map<string, ArrayRecord> {
    return this.filter(ArrayRecord);
  }

  /** A snapshot of the entries holding a {@link MetricRecord}, in order. */
  get metricRecords(): Map<string, MetricRecord> {
    return this.filter(MetricRecord);
  }

  /** A snapshot of the entries holding a {@link ConfigRecord}, in order. */
  get configRecords(): Map<string, ConfigRecord> {
    return this.filter(ConfigRecord);
  }

  private filter<T extends AnyRecord>(cls: abstract new (...args: never[]) => T): Map<string, T> {
    const out = new Map<string, T>();
    for (const [k, v] of this) if (v instanceof cls) out.set(k, v);
    return out;
  }
}
