/** `FedTrimmedAvg`: coordinate-wise trimmed mean (Python `flwr.serverapp.strategy.FedTrimmedAvg`). */
import type { Message } from "../message/message.js";
import type { ArrayRecord } from "../records/array-record.js";
import type { MetricRecord } from "../records/metric-record.js";
import { AggregationError } from "./errors.js";
import { FedAvg, type FedAvgOptions } from "./fedavg.js";
import { reduceCoordinates, stackByName, writeFloatArrays } from "./float-arrays.js";
import { pyFloatRepr } from "./py-format.js";

/** Settings of {@link FedTrimmedAvg}: FedAvg's plus `beta`; defaults are Flower's. */
export interface FedTrimmedAvgOptions extends FedAvgOptions {
  /** Fraction cut off at each end of every coordinate's sorted values (default 0.2). */
  beta?: number;
}

/**
 * `scipy.stats.trim_mean` along the replies, as Flower's `trim_mean`: drops
 * `floor(beta × n)` values at each end and averages the rest.
 * @throws AggregationError when `beta` leaves fewer than zero values (beta > 0.5).
 */
export function trimMean(values: Float64Array, beta: number): number {
  const n = values.length;
  const lower = Math.trunc(beta * n);
  const upper = n - lower;
  if (lower > upper) throw new RangeError("Fraction too big.");
  const s = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = lower; i < upper; i++) sum += s[i]!;
  return sum / (upper - lower);
}

/** Trimmed mean (Yin et al., 2018) of each array element over the replies (unweighted). */
export class FedTrimmedAvg extends FedAvg {
  /** Fraction trimmed at each end. */
  readonly beta: number;

  /** @param options - see {@link FedTrimmedAvgOptions}. */
  constructor(options: FedTrimmedAvgOptions = {}) {
    super(options);
    this.beta = options.beta ?? 0.2;
  }

  /** Logs the FedTrimmedAvg settings, then FedAvg's. */
  override summary(): void {
    this.info("\t├──> FedTrimmedAvg settings:");
    this.info(`\t│\t└── beta: ${pyFloatRepr(this.beta)}`);
    super.summary();
  }

  /** Takes the coordinate-wise trimmed mean of the successful train replies. */
  override async aggregateTrain(
    _serverRound: number,
    replies: readonly Message[],
  ): Promise<[ArrayRecord | undefined, MetricRecord | undefined]> {
    const valid = this.checkAndLogReplies(replies, true);
    if (valid.length === 0) return [undefined, undefined];
    const contents = valid.map((m) => m.content);
    const key = contents[0]!.arrayRecords.keys().next().value!;
    const stacks = stackByName(contents.map((c) => c.arrayRecords.get(key)!));
    let arrays: ArrayRecord;
    try {
      arrays = writeFloatArrays(
        new Map(
          [...stacks].map(([name, stack]) => [
            name,
            reduceCoordinates(stack, (v) => trimMean(v, this.beta)),
          ]),
        ),
      );
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      throw new AggregationError(
        `Trimmed mean could not be computed. Likely cause: beta=${pyFloatRepr(this.beta)} is too large.`,
      );
    }
    return [arrays, this.trainMetricsAggrFn(contents, this.weightedByKey)];
  }
}
