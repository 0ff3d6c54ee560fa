/**
 * Weighted aggregation of reply records (Python `aggregate_arrayrecords`,
 * `aggregate_metricrecords`, `validate_message_reply_consistency`).
 */
import { NdArray } from "../records/array.js";
import { ArrayRecord } from "../records/array-record.js";
import { type DType, isDType } from "../records/dtype.js";
import { MetricRecord } from "../records/metric-record.js";
import { shapeRepr } from "../records/npy.js";
import type { RecordDict } from "../records/record-dict.js";
import type { MetricValue } from "../records/scalar.js";
import { InconsistentMessageRepliesError } from "./errors.js";

/** Signature of a metric aggregation function (`train_metrics_aggr_fn`). */
export type MetricsAggregationFn = (records: RecordDict[], weightedByKey: string) => MetricRecord;

function firstMetricRecord(record: RecordDict): MetricRecord {
  const m = record.metricRecords.values().next().value;
  if (m === undefined) {
    throw new InconsistentMessageRepliesError("Expected exactly one MetricRecord in replies.");
  }
  return m;
}

/** The weighting factors `w_i / Σw` read from each reply's (only) MetricRecord. */
export function weightFactors(records: readonly RecordDict[], weightedByKey: string): number[] {
  const weights = records.map((r) => {
    const w = firstMetricRecord(r).get(weightedByKey);
    if (typeof w === "bigint") return Number(w);
    if (typeof w === "number") return w;
    throw new InconsistentMessageRepliesError(
      `Key \`${weightedByKey}\` in the MetricRecord of reply messages must be a single value (int or float).`,
    );
  });
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total !== 0) || !Number.isFinite(total)) {
    throw new InconsistentMessageRepliesError(
      `the weights (\`${weightedByKey}\`) of the replies sum to ${total}; they must sum to a finite non-zero value`,
    );
  }
  return weights.map((w) => w / total);
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE-754 half-precision bits of a number (round to nearest even, via float32). */
function numberToHalf(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** The elements of an array as float64 values (a new buffer). */
export function toFloat64(a: NdArray): Float64Array {
  const t = a.toTypedArray();
  const out = new Float64Array(t.length);
  if (a.dtype === "float16") {
    for (let i = 0; i < t.length; i++) out[i] = halfToNumber((t as Uint16Array)[i]!);
  } else if (t instanceof BigInt64Array || t instanceof BigUint64Array) {
    for (let i = 0; i < t.length; i++) out[i] = Number(t[i]!);
  } else {
    for (let i = 0; i < t.length; i++) out[i] = (t as Float64Array)[i]!;
  }
  return out;
}

/** Casts float64 values back to `dtype` (integers and bools rounded to nearest, clamped). */
export function fromFloat64(values: Float64Array, dtype: DType, shape: readonly number[]): NdArray {
  const n = values.length;
  switch (dtype) {
    case "float64":
      return NdArray.fromTypedArray(values, shape, "float64");
    case "float32":
      return NdArray.fromTypedArray(Float32Array.from(values), shape, "float32");
    case "float16": {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = numberToHalf(values[i]!);
      return NdArray.fromTypedArray(out, shape, "float16");
    }
    case "int64":
    case "uint64": {
      const out = dtype === "int64" ? new BigInt64Array(n) : new BigUint64Array(n);
      const [lo, hi] = dtype === "int64" ? [-(2 ** 63), 2 ** 63 - 1024] : [0, 2 ** 64 - 2048];
      for (let i = 0; i < n; i++) {
        const r = Math.min(hi, Math.max(lo, Math.round(values[i]!)));
        out[i] = BigInt(Number.isNaN(r) ? 0 : r);
      }
      return NdArray.fromTypedArray(out, shape, dtype);
    }
    case "bool": {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.round(values[i]!) !== 0 ? 1 : 0;
      return NdArray.fromTypedArray(out, shape, "bool");
    }
    default: {
      const ranges: Record<string, [number, number, new (n: number) => ArrayLike<number>]> = {
        int8: [-128, 127, Int8Array],
        int16: [-32768, 32767, Int16Array],
        int32: [-(2 ** 31), 2 ** 31 - 1, Int32Array],
        uint8: [0, 255, Uint8Array],
        uint16: [0, 65535, Uint16Array],
        uint32: [0, 2 ** 32 - 1, Uint32Array],
      };
      const [lo, hi, Ctor] = ranges[dtype]!;
      const out = new Ctor(n) as unknown as Int32Array;
      for (let i = 0; i < n; i++) {
        const r = Math.round(values[i]!);
        out[i] = Number.isNaN(r) ? 0 : Math.min(hi, Math.max(lo, r));
      }
      return NdArray.fromTypedArray(out as never, shape, dtype as never);
    }
  }
}

/**
 * Weighted average of the ArrayRecords of the replies: for each array name,
 * `Σ (w_i / Σw) × array_i`, with `w_i` the reply's `weightedByKey` metric.
 *
 * Computed in float64 (terms added in reply order, as Flower does) and cast back to each
 * array's dtype: floats round to nearest; **integer and bool arrays are rounded to the
 * nearest integer and clamped to the dtype's range** (Python Flower would return float64
 * arrays there; keeping the dtype keeps the model's structure stable across rounds).
 * @throws InconsistentMessageRepliesError when arrays of one name differ in dtype or shape,
 *   or are not numpy arrays of a supported dtype.
 */
export function aggregateArrayRecords(
  records: readonly RecordDict[],
  weightedByKey: string,
): ArrayRecord {
  const factors = weightFactors(records, weightedByKey);
  const acc = new Map<string, { dtype: DType; shape: readonly number[]; sum: Float64Array }>();
  records.forEach((record, i) => {
    const f = factors[i]!;
    for (const arrays of record.arrayRecords.values()) {
      for (const [name, arr] of arrays) {
        if (!isDType(arr.dtype)) {
          throw new InconsistentMessageRepliesError(
            `array '${name}' has dtype ${arr.dtype}, which cannot be averaged`,
          );
        }
        const values = toFloat64(arr);
        const cur = acc.get(name);
        if (cur === undefined) {
          for (let k = 0; k < values.length; k++) values[k] = values[k]! * f;
          acc.set(name, { dtype: arr.dtype, shape: arr.shape, sum: values });
          continue;
        }
        if (cur.dtype !== arr.dtype || shapeRepr(cur.shape) !== shapeRepr(arr.shape)) {
          throw new InconsistentMessageRepliesError(
            `array '${name}' is ${cur.dtype}${shapeRepr(cur.shape)} in one reply and ` +
              `${arr.dtype}${shapeRepr(arr.shape)} in another; replies must agree in dtype and shape`,
          );
        }
        for (let k = 0; k < values.length; k++) cur.sum[k] = cur.sum[k]! + values[k]! * f;
      }
    }
  });
  const out = new ArrayRecord();
  for (const [name, { dtype, shape, sum }] of acc) out.set(name, fromFloat64(sum, dtype, shape));
  return out;
}

function toNumber(v: bigint | number): number {
  return typeof v === "bigint" ? Number(v) : v;
}

/**
 * Weighted average of the MetricRecords of the replies (Flower's default metric
 * aggregation): each metric except `weightedByKey` becomes `Σ (w_i/Σw) × value_i` (a float;
 * lists element-wise).
 */
export function aggregateMetricRecords(
  records: readonly RecordDict[],
  weightedByKey: string,
): MetricRecord {
  const factors = weightFactors(records, weightedByKey);
  const acc = new Map<string, number | number[]>();
  records.forEach((record, i) => {
    const f = factors[i]!;
    for (const metrics of record.metricRecords.values()) {
      for (const [key, value] of metrics) {
        if (key === weightedByKey) continue;
        const cur = acc.get(key);
        if (Array.isArray(value)) {
          const list = (value as readonly (bigint | number)[]).map((v) => toNumber(v) * f);
          if (cur === undefined) acc.set(key, list);
          else if (!Array.isArray(cur) || cur.length !== list.length) {
            throw new InconsistentMessageRepliesError(
              `metric '${key}' must be lists of the same length in every reply`,
            );
          } else
            acc.set(
              key,
              cur.map((c, k) => c + list[k]!),
            );
        } else {
          const x = toNumber(value as bigint | number) * f;
          if (cur === undefined) acc.set(key, x);
          else if (Array.isArray(cur)) {
            throw new InconsistentMessageRepliesError(
              `metric '${key}' is a list in one reply and a single value in another`,
            );
          } else acc.set(key, cur + x);
        }
      }
    }
  });
  return new MetricRecord([...acc] as [string, MetricValue][]);
}

function keySet(m: Map<string, unknown> | undefined): string {
  return m === undefined ? "" : JSON.stringify([...m.keys()].sort());
}

/**
 * Checks that replies can be aggregated (Python `validate_message_reply_consistency`):
 * exactly one ArrayRecord (when `checkArrayRecord`) and one MetricRecord each, the same keys
 * in all of them, and a scalar `weightedByKey` metric.
 * @throws InconsistentMessageRepliesError with Flower's reason otherwise.
 */
export function validateReplyConsistency(
  replies: readonly RecordDict[],
  weightedByKey: string,
  checkArrayRecord: boolean,
): void {
  if (replies.length === 0) return;
  const first = replies[0]!;
  if (checkArrayRecord) {
    if (replies.some((r) => r.arrayRecords.size !== 1)) {
      throw new InconsistentMessageRepliesError(
        "Expected exactly one ArrayRecord in replies. Skipping aggregation.",
      );
    }
    const key = first.arrayRecords.keys().next().value!;
    const keys = keySet(first.arrayRecords.get(key));
    if (replies.slice(1).some((r) => keySet(r.arrayRecords.get(key)) !== keys)) {
      throw new InconsistentMessageRepliesError(
        "All ArrayRecords must have the same keys for aggregation. This condition wasn't met. Skipping aggregation.",
      );
    }
  }
  if (replies.some((r) => r.metricRecords.size !== 1)) {
    throw new InconsistentMessageRepliesError(
      "Expected exactly one MetricRecord in replies, but found more. Skipping aggregation.",
    );
  }
  const key = first.metricRecords.keys().next().value!;
  const firstMetrics = first.metricRecords.get(key)!;
  const keys = keySet(firstMetrics);
  if (replies.slice(1).some((r) => keySet(r.metricRecords.get(key)) !== keys)) {
    throw new InconsistentMessageRepliesError(
      "All MetricRecords must have the same keys for aggregation. This condition wasn't met. Skipping aggregation.",
    );
  }
  if (!firstMetrics.has(weightedByKey)) {
    throw new InconsistentMessageRepliesError(
      `Missing required key \`${weightedByKey}\` in the MetricRecord of reply messages. ` +
        "Cannot average ArrayRecords and MetricRecords. Skipping aggregation.",
    );
  }
  if (replies.some((r) => Array.isArray(r.metricRecords.get(key)!.get(weightedByKey)))) {
    throw new InconsistentMessageRepliesError(
      `Key \`${weightedByKey}\` in the MetricRecord of reply messages must be a single value ` +
        "(int or float), but a list was found. Skipping aggregation.",
    );
  }
}
