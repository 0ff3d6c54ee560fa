/**
 * Conversions between records and the generated protobuf types of `@flwr-ts/core/proto`
 * (Python Flower's `flwr.common.serde` record functions). Bytes are converted without copying
 * (`Buffer` views on the way out, `Uint8Array` views on the way in).
 */
import type * as pb from "../proto/index.js";
import { NdArray } from "./array.js";
import { ArrayRecord } from "./array-record.js";
import { ConfigRecord } from "./config-record.js";
import { RecordValueError } from "./errors.js";
import { MetricRecord } from "./metric-record.js";
import { type AnyRecord, RecordDict } from "./record-dict.js";
import {
  type ConfigValue,
  classifyScalar,
  classifyValue,
  type MetricValue,
  type Scalar,
} from "./scalar.js";

/** A zero-copy `Buffer` view of bytes (the generated types declare `bytes` fields as `Buffer`). */
export function toBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** A zero-copy plain `Uint8Array` view of bytes (a decoded `Buffer` becomes a `Uint8Array`). */
export function toUint8Array(u8: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(u8) === Uint8Array.prototype
    ? u8
    : new Uint8Array(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** NdArray → proto `Array`. */
export function arrayToProto(a: NdArray): pb.Array {
  return { dtype: a.dtype, shape: [...a.shape], stype: a.stype, data: toBuffer(a.data) };
}

/** Proto `Array` → NdArray. */
export function arrayFromProto(p: pb.Array): NdArray {
  return new NdArray({
    dtype: p.dtype,
    shape: p.shape,
    stype: p.stype,
    data: toUint8Array(p.data),
  });
}

/** ArrayRecord → proto `ArrayRecord`. */
export function arrayRecordToProto(r: ArrayRecord): pb.ArrayRecord {
  return { items: [...r].map(([key, v]) => ({ key, value: arrayToProto(v) })) };
}

/** Proto `ArrayRecord` → ArrayRecord. */
export function arrayRecordFromProto(p: pb.ArrayRecord): ArrayRecord {
  const r = new ArrayRecord();
  for (const item of p.items) {
    if (item.value === undefined)
      throw new RecordValueError("ArrayRecord item has no Array", item.key);
    r.set(item.key, arrayFromProto(item.value));
  }
  return r;
}

type ValueProto = pb.ConfigRecordValue["value"];

function valueToProto(value: ConfigValue, config: boolean, key: string): NonNullable<ValueProto> {
  const kind = classifyValue(value, config, key);
  switch (kind) {
    case "double":
    case "sint64":
    case "uint64":
    case "bool":
    case "string":
      return { $case: kind, value } as NonNullable<ValueProto>;
    case "bytes":
      return { $case: "bytes", value: toBuffer(value as Uint8Array) };
    case "bytesList":
      return { $case: "bytesList", value: { vals: (value as Uint8Array[]).map(toBuffer) } };
    default:
      return { $case: kind, value: { vals: [...(value as unknown[])] } } as NonNullable<ValueProto>;
  }
}

function valueFromProto(v: ValueProto, key: string): ConfigValue {
  if (v === undefined) throw new RecordValueError("record item has no value", key);
  switch (v.$case) {
    case "bytes":
      return toUint8Array(v.value);
    case "bytesList":
      return v.value.vals.map(toUint8Array);
    case "doubleList":
    case "sintList":
    case "uintList":
    case "boolList":
    case "stringList":
      return [...v.value.vals] as ConfigValue;
    default:
      return v.value;
  }
}

/** ConfigRecord → proto `ConfigRecord` (Python's choice of wire kinds, incl. uint64 above 2^63-1). */
export function configRecordToProto(r: ConfigRecord): pb.ConfigRecord {
  return {
    items: [...r].map(([key, v]) => ({ key, value: { value: valueToProto(v, true, key) } })),
  };
}

/** Proto `ConfigRecord` → ConfigRecord (integers → bigint, doubles → number). */
export function configRecordFromProto(p: pb.ConfigRecord): ConfigRecord {
  return new ConfigRecord(
    p.items.map((i) => [i.key, valueFromProto(i.value?.value, i.key)] as const),
  );
}

/** MetricRecord → proto `MetricRecord`. */
export function metricRecordToProto(r: MetricRecord): pb.MetricRecord {
  return {
    items: [...r].map(([key, v]) => ({
      key,
      value: { value: valueToProto(v, false, key) as pb.MetricRecordValue["value"] },
    })),
  };
}

/** Proto `MetricRecord` → MetricRecord. */
export function metricRecordFromProto(p: pb.MetricRecord): MetricRecord {
  return new MetricRecord(
    p.items.map((i) => [i.key, valueFromProto(i.value?.value, i.key) as MetricValue] as const),
  );
}

/** RecordDict → proto `RecordDict`. */
export function recordDictToProto(d: RecordDict): pb.RecordDict {
  return {
    items: [...d].map(([key, r]): pb.RecordDict_Item => {
      if (r instanceof ArrayRecord)
        return { key, value: { $case: "arrayRecord", value: arrayRecordToProto(r) } };
      if (r instanceof MetricRecord)
        return { key, value: { $case: "metricRecord", value: metricRecordToProto(r) } };
      return { key, value: { $case: "configRecord", value: configRecordToProto(r) } };
    }),
  };
}

/** Proto `RecordDict` → RecordDict. */
export function recordDictFromProto(p: pb.RecordDict): RecordDict {
  const d = new RecordDict();
  for (const item of p.items) {
    const v = item.value;
    let rec: AnyRecord;
    if (v?.$case === "arrayRecord") rec = arrayRecordFromProto(v.value);
    else if (v?.$case === "metricRecord") rec = metricRecordFromProto(v.value);
    else if (v?.$case === "configRecord") rec = configRecordFromProto(v.value);
    else throw new RecordValueError("RecordDict item holds no record", item.key);
    d.set(item.key, rec);
  }
  return d;
}

/**
 * Scalar → proto `Scalar`: `number` → double, `bigint` → sint64 (uint64 above 2^63-1, as
 * Python's `scalar_to_proto`), boolean, string, bytes.
 */
export function scalarToProto(value: Scalar, key?: string): pb.Scalar {
  const kind = classifyScalar(value, key);
  if (kind === "bytes") return { scalar: { $case: "bytes", value: toBuffer(value as Uint8Array) } };
  return { scalar: { $case: kind, value } as pb.Scalar["scalar"] };
}

/** Proto `Scalar` → Scalar (integers → bigint). */
export function scalarFromProto(p: pb.Scalar, key?: string): Scalar {
  const s = p.scalar;
  if (s === undefined) throw new RecordValueError("Scalar has no value set", key);
  return s.$case === "bytes" ? toUint8Array(s.value) : s.value;
}
