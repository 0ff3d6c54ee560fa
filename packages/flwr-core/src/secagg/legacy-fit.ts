/**
 * Flower's legacy fit messages (`flwr.common.recorddict_compat`), which SecAgg+ in Flower 1.29
 * speaks: the instruction carries `fitins.parameters` (an ArrayRecord "0", "1", … of `.npy`
 * blobs with empty dtype and shape, or a single "_empty") and `fitins.config`; the reply carries
 * `fitres.parameters`, `fitres.num_examples` (MetricRecord `num_examples`), `fitres.metrics` and
 * `fitres.status` (`code`, `message`). A ClientApp behind `secAggPlusMod` replies in this form.
 */
import { NdArray, STYPE_NUMPY } from "../records/array.js";
import { ArrayRecord } from "../records/array-record.js";
import { ConfigRecord } from "../records/config-record.js";
import { MetricRecord } from "../records/metric-record.js";
import { RecordDict } from "../records/record-dict.js";
import type { ConfigValue } from "../records/scalar.js";

const EMPTY_TENSOR_KEY = "_empty";

/** A legacy fit instruction's content. */
export interface LegacyFitIns {
  /** The model parameters, in order (`.npy` arrays). */
  parameters: NdArray[];
  /** The fit config. */
  config: Record<string, ConfigValue>;
}

/** A legacy fit reply's content. */
export interface LegacyFitRes {
  /** The updated parameters, in order (`.npy` arrays). */
  parameters: NdArray[];
  /** Number of training examples (the aggregation weight). */
  numExamples: number;
  /** Fit metrics. */
  metrics?: Record<string, ConfigValue>;
}

/** A malformed legacy fit message. */
export class LegacyFitError extends Error {
  override name = "LegacyFitError";
}

function parametersRecord(parameters: readonly NdArray[]): ArrayRecord {
  const rec = new ArrayRecord();
  parameters.forEach((a, i) => {
    rec.set(String(i), new NdArray({ dtype: "", shape: [], stype: STYPE_NUMPY, data: a.data }));
  });
  if (parameters.length === 0) {
    rec.set(
      EMPTY_TENSOR_KEY,
      new NdArray({ dtype: "", shape: [], stype: STYPE_NUMPY, data: new Uint8Array() }),
    );
  }
  return rec;
}

function readParameters(content: RecordDict, name: string): NdArray[] {
  const rec = content.arrayRecords.get(name);
  if (rec === undefined) throw new LegacyFitError(`the message has no ArrayRecord '${name}'`);
  const out: NdArray[] = [];
  for (const [key, a] of rec) {
    if (key === EMPTY_TENSOR_KEY) continue;
    try {
      out.push(NdArray.fromNpy(a.data));
    } catch (e) {
      throw new LegacyFitError(
        `'${name}' entry '${key}' is not a .npy array: ${(e as Error).message}`,
      );
    }
  }
  return out;
}

/** Builds a legacy fit instruction's content (`fitins_to_recorddict`). */
export function legacyFitInsRecordDict(ins: LegacyFitIns): RecordDict {
  const rd = new RecordDict();
  rd.set("fitins.parameters", parametersRecord(ins.parameters));
  rd.set("fitins.config", new ConfigRecord(ins.config));
  return rd;
}

/** Reads a legacy fit instruction (`recorddict_to_fitins`). @throws LegacyFitError. */
export function readLegacyFitIns(content: RecordDict): LegacyFitIns {
  const config = content.configRecords.get("fitins.config");
  if (config === undefined)
    throw new LegacyFitError("the message has no ConfigRecord 'fitins.config'");
  return {
    parameters: readParameters(content, "fitins.parameters"),
    config: Object.fromEntries(config),
  };
}

/** Builds a legacy fit reply's content (`fitres_to_recorddict`, status OK "Success"). */
export function legacyFitResRecordDict(res: LegacyFitRes): RecordDict {
  if (!Number.isSafeInteger(res.numExamples) || res.numExamples < 0) {
    throw new RangeError(`numExamples must be a non-negative integer, got ${res.numExamples}`);
  }
  const rd = new RecordDict();
  rd.set("fitres.metrics", new ConfigRecord(res.metrics ?? {}));
  rd.set("fitres.num_examples", new MetricRecord({ num_examples: BigInt(res.numExamples) }));
  rd.set("fitres.parameters", parametersRecord(res.parameters));
  rd.set("fitres.status", new ConfigRecord({ code: 0n, message: "Success" }));
  return rd;
}

/** Reads a legacy fit reply (`recorddict_to_fitres`). @throws LegacyFitError. */
export function readLegacyFitRes(content: RecordDict): LegacyFitRes {
  const n = content.metricRecords.get("fitres.num_examples")?.get("num_examples");
  if (typeof n !== "bigint" || n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new LegacyFitError("the reply has no integer 'fitres.num_examples'.num_examples");
  }
  const metrics = content.configRecords.get("fitres.metrics");
  return {
    parameters: readParameters(content, "fitres.parameters"),
    numExamples: Number(n),
    metrics: metrics === undefined ? {} : Object.fromEntries(metrics),
  };
}

/** The elements of a numeric `.npy` array as float64 (float16 and bool are not supported). */
export function arrayToFloat64(a: NdArray): Float64Array {
  if (a.dtype === "float16" || a.dtype === "bool") {
    throw new LegacyFitError(`SecAgg+ needs numeric arrays, got ${a.dtype}`);
  }
  const t = a.toTypedArray();
  if (t instanceof BigInt64Array || t instanceof BigUint64Array) {
    return Float64Array.from(t as ArrayLike<bigint>, (v) => Number(v));
  }
  return Float64Array.from(t as ArrayLike<number>);
}
