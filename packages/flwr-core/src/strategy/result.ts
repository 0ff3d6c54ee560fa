/** `Result`: what a strategy run produced (Python `flwr.serverapp.strategy.Result`). */
import { ArrayRecord } from "../records/array-record.js";
import type { MetricRecord } from "../records/metric-record.js";
import { type PyDict, pprintDict, pyExp } from "./py-format.js";

function formatValue(v: unknown): string {
  if (typeof v === "number") return pyExp(v);
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) {
    return `[${v.map((x) => `'${typeof x === "number" ? pyExp(x) : String(x)}'`).join(", ")}]`;
  }
  return String(v);
}

function stringify(d: ReadonlyMap<number, MetricRecord>): PyDict {
  const out: PyDict = new Map();
  for (const [round, record] of d) {
    const inner: PyDict = new Map();
    for (const [k, v] of record) inner.set(k, formatValue(v));
    out.set(round, inner);
  }
  return out;
}

/** Final arrays and per-round metrics of a strategy run. */
export class Result {
  /** The final global arrays (the last aggregated ones, or empty when none were aggregated). */
  arrays: ArrayRecord = new ArrayRecord();
  /** Aggregated ClientApp train metrics by round. */
  readonly trainMetricsClientapp = new Map<number, MetricRecord>();
  /** Aggregated ClientApp evaluate metrics by round. */
  readonly evaluateMetricsClientapp = new Map<number, MetricRecord>();
  /** ServerApp-side (`evaluateFn`) metrics by round; round 0 is the initial evaluation. */
  readonly evaluateMetricsServerapp = new Map<number, MetricRecord>();

  /** Flower's multi-line summary (`str(result)`). */
  toString(): string {
    let size = 0;
    for (const a of this.arrays.values()) size += a.data.length;
    return (
      `Global Arrays:\n\tArrayRecord (${(size / 1024 ** 2).toFixed(3)} MB)\n\n` +
      `Aggregated ClientApp-side Train Metrics:\n${pprintDict(stringify(this.trainMetricsClientapp))}\n\n` +
      `Aggregated ClientApp-side Evaluate Metrics:\n${pprintDict(stringify(this.evaluateMetricsClientapp))}\n\n` +
      `ServerApp-side Evaluate Metrics:\n${pprintDict(stringify(this.evaluateMetricsServerapp))}\n`
    );
  }
}
