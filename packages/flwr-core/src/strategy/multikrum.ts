/**
 * `MultiKrum`: average of the replies closest to their neighbours (Python
 * `flwr.serverapp.strategy.MultiKrum`, with `compute_distances` and `select_multikrum`).
 */
import type { Message } from "../message/message.js";
import type { ArrayRecord } from "../records/array-record.js";
import type { MetricRecord } from "../records/metric-record.js";
import type { RecordDict } from "../records/record-dict.js";
import { aggregateArrayRecords } from "./aggregate.js";
import { FedAvg, type FedAvgOptions } from "./fedavg.js";
import { readFloatArrays } from "./float-arrays.js";

/** Settings of {@link MultiKrum}: FedAvg's plus Krum's; defaults are Flower's. */
export interface MultiKrumOptions extends FedAvgOptions {
  /** Number of malicious nodes assumed (default 0). */
  numMaliciousNodes?: number;
  /** Number of replies averaged (default 1, which is Krum). */
  numNodesToSelect?: number;
}

/**
 * Squared L2 distances between the replies' arrays, each reply flattened into one float64
 * vector (all arrays in record order), computed as Flower does: `‖a‖² + ‖b‖² − 2 a·b`.
 */
export function computeDistances(records: readonly ArrayRecord[]): Float64Array[] {
  const flat = records.map((r) => {
    const parts = [...readFloatArrays(r).values()].map((a) => a.values);
    const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  });
  const dot = (a: Float64Array, b: Float64Array) => {
    if (a.length !== b.length) throw new RangeError("replies differ in their number of values");
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
    return s;
  };
  const norms = flat.map((a) => dot(a, a));
  return flat.map((a, i) =>
    Float64Array.from(flat, (b, j) => norms[i]! + norms[j]! - 2 * dot(a, b)),
  );
}

/** Indices of `values` sorted ascending; equal values keep index order. */
function argsort(values: ArrayLike<number>): number[] {
  return Array.from({ length: values.length }, (_, i) => i).sort(
    (a, b) => values[a]! - values[b]! || a - b,
  );
}

/**
 * Krum / Multi-Krum selection (Python `select_multikrum`): scores each reply by the sum of
 * squared distances to its `max(1, n − f − 2)` closest others and returns the
 * `numNodesToSelect` best-scored contents, best first.
 *
 * Ties are broken by reply order (numpy's `argsort` leaves their order unspecified), so tied
 * replies give Flower's result when they are identical.
 */
export function selectMultikrum(
  contents: readonly RecordDict[],
  numMaliciousNodes: number,
  numNodesToSelect: number,
): RecordDict[] {
  const key = contents[0]!.arrayRecords.keys().next().value!;
  const distances = computeDistances(contents.map((c) => c.arrayRecords.get(key)!));
  const numClosest = Math.max(1, contents.length - numMaliciousNodes - 2);
  const scores = distances.map((row) => {
    let s = 0;
    for (const j of argsort(row).slice(1, numClosest + 1)) s += row[j]!;
    return s;
  });
  return argsort(scores)
    .slice(0, Math.max(0, numNodesToSelect))
    .map((i) => contents[i]!);
}

/**
 * Multi-Krum (Blanchard et al., 2017): averages (weighted like FedAvg) the
 * `numNodesToSelect` replies with the lowest Krum scores; metrics come from those replies.
 */
export class MultiKrum extends FedAvg {
  /** Number of malicious nodes assumed. */
  readonly numMaliciousNodes: number;
  /** Number of replies averaged. */
  readonly numNodesToSelect: number;

  /** @param options - see {@link MultiKrumOptions}. */
  constructor(options: MultiKrumOptions = {}) {
    super(options);
    this.numMaliciousNodes = options.numMaliciousNodes ?? 0;
    this.numNodesToSelect = options.numNodesToSelect ?? 1;
  }

  /** Logs the MultiKrum settings, then FedAvg's. */
  override summary(): void {
    this.info("\t├──> MultiKrum settings:");
    this.info(`\t│\t├── Number of malicious nodes: ${this.numMaliciousNodes}`);
    this.info(`\t│\t└── Number of nodes to select: ${this.numNodesToSelect}`);
    super.summary();
  }

  /** Averages the Multi-Krum selection of the successful train replies. */
  override async aggregateTrain(
    _serverRound: number,
    replies: readonly Message[],
  ): Promise<[ArrayRecord | undefined, MetricRecord | undefined]> {
    const valid = this.checkAndLogReplies(replies, true);
    if (valid.length === 0) return [undefined, undefined];
    const selected = selectMultikrum(
      valid.map((m) => m.content),
      this.numMaliciousNodes,
      this.numNodesToSelect,
    );
    return [
      aggregateArrayRecords(selected, this.weightedByKey),
      this.trainMetricsAggrFn(selected, this.weightedByKey),
    ];
  }
}
