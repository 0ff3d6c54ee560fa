/** `Bulyan`: Multi-Krum selection, then a coordinate-wise trimmed aggregation (Python `Bulyan`). */
import type { Message } from "../message/message.js";
import type { ArrayRecord } from "../records/array-record.js";
import type { MetricRecord } from "../records/metric-record.js";
import type { RecordDict } from "../records/record-dict.js";
import { FedAvg, type FedAvgOptions } from "./fedavg.js";
import { type FloatArray, median, readFloatArrays, writeFloatArrays } from "./float-arrays.js";
import { selectMultikrum } from "./multikrum.js";

/** A Bulyan selection rule: `(contents, numMaliciousNodes, numToSelect) → selected contents`. */
export type SelectionRule = (
  contents: readonly RecordDict[],
  numMaliciousNodes: number,
  numNodesToSelect: number,
) => RecordDict[];

/** Settings of {@link Bulyan}: FedAvg's plus Bulyan's; defaults are Flower's. */
export interface BulyanOptions extends FedAvgOptions {
  /** Number of malicious nodes assumed (default 0). */
  numMaliciousNodes?: number;
  /** Selection rule (default {@link selectMultikrum}). */
  selectionRule?: SelectionRule;
}

/**
 * Per coordinate, the mean of the `beta` values closest to the reference (Python
 * `aggregate_n_closest_weights`). Equally close values are taken in reply order.
 */
export function aggregateNClosest(
  reference: FloatArray,
  stack: readonly FloatArray[],
  beta: number,
): FloatArray {
  const n = reference.values.length;
  const values = new Float64Array(n);
  const idx = stack.map((_, j) => j);
  for (let i = 0; i < n; i++) {
    const ref = reference.values[i]!;
    const diff = stack.map((a) => Math.abs(a.values[i]! - ref));
    const chosen = [...idx].sort((a, b) => diff[a]! - diff[b]! || a - b).slice(0, beta);
    let s = 0;
    for (const j of chosen) s += stack[j]!.values[i]!;
    values[i] = s / chosen.length;
  }
  return { dtype: reference.dtype, shape: reference.shape, values };
}

/**
 * Bulyan (El Mhamdi et al., 2018). With `n` successful replies and `f` malicious nodes
 * (needs `n ≥ 4f + 3`, else it logs Flower's warning and aggregates nothing): select
 * `θ = n − 2f` replies with the selection rule, take their coordinate-wise median, and
 * average per coordinate the `β = θ − 2f` selected values closest to it. Metrics come from
 * the selected replies.
 */
export class Bulyan extends FedAvg {
  /** Number of malicious nodes assumed. */
  readonly numMaliciousNodes: number;
  /** The selection rule. */
  readonly selectionRule: SelectionRule;

  /** @param options - see {@link BulyanOptions}. */
  constructor(options: BulyanOptions = {}) {
    super(options);
    this.numMaliciousNodes = options.numMaliciousNodes ?? 0;
    this.selectionRule = options.selectionRule ?? selectMultikrum;
  }

  /** Logs the Bulyan settings, then FedAvg's. */
  override summary(): void {
    const rule =
      this.selectionRule === selectMultikrum ? "select_multikrum" : this.selectionRule.name;
    this.info("\t├──> Bulyan settings:");
    this.info(`\t│\t├── Number of malicious nodes: ${this.numMaliciousNodes}`);
    this.info(`\t│\t└── Selection rule: ${rule}`);
    super.summary();
  }

  /** Bulyan-aggregates the successful train replies. */
  override async aggregateTrain(
    _serverRound: number,
    replies: readonly Message[],
  ): Promise<[ArrayRecord | undefined, MetricRecord | undefined]> {
    const valid = this.checkAndLogReplies(replies, true);
    const f = this.numMaliciousNodes;
    if (valid.length < 4 * f + 3) {
      this.logger.log(
        "WARNING",
        "Insufficient replies, skipping Bulyan aggregation: Required at least " +
          `${4 * f + 3} (4*num_malicious_nodes + 3), but received ${valid.length}.`,
      );
      return [undefined, undefined];
    }
    const theta = valid.length - 2 * f;
    const beta = theta - 2 * f;
    const selected = this.selectionRule(
      valid.map((m) => m.content),
      f,
      theta,
    );
    const key = selected[0]!.arrayRecords.keys().next().value!;
    // Flower pairs the arrays by position (to_numpy_ndarrays) and keeps the first's keys.
    const perReply = selected.map((c) => [...readFloatArrays(c.arrayRecords.get(key)!).values()]);
    const names = [...selected[0]!.arrayRecords.get(key)!.keys()];
    const out = new Map<string, FloatArray>();
    names.forEach((name, layer) => {
      const stack = perReply.map((arrays) => arrays[layer]!);
      const n = stack[0]!.values.length;
      const column = new Float64Array(stack.length);
      const med = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < stack.length; j++) column[j] = stack[j]!.values[i]!;
        med[i] = median(column);
      }
      const reference = { dtype: stack[0]!.dtype, shape: stack[0]!.shape, values: med };
      out.set(name, aggregateNClosest(reference, stack, beta));
    });
    return [writeFloatArrays(out), this.trainMetricsAggrFn(selected, this.weightedByKey)];
  }
}
