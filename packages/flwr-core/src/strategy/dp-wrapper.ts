/**
 * What Flower's central-DP strategy wrappers share (fixed and adaptive clipping,
 * `dp-fixed-clipping.ts`, `dp-adaptive-clipping.ts`): the wrapped strategy, evaluation passed
 * through, Flower's reply validation, clipping every reply's arrays against the round's global
 * arrays, and the calibrated Gaussian noise on the aggregate.
 */
import {
  addGaussianNoiseInPlace,
  clipModelUpdate,
  computeStdv,
  type NormalSource,
  secureNormalSource,
} from "../dp/differential-privacy.js";
import type { Grid } from "../grid/grid.js";
import type { Message } from "../message/message.js";
import type { ArrayRecord } from "../records/array-record.js";
import type { ConfigRecord } from "../records/config-record.js";
import type { MetricRecord } from "../records/metric-record.js";
import { validateDpReplies } from "./dp-replies.js";
import { readFloatArrays, writeFloatArrays } from "./float-arrays.js";
import { Strategy, type StrategyOptions } from "./strategy.js";

/** Options every DP wrapper takes. */
export interface DpWrapperOptions extends StrategyOptions {
  /** Nodes sampled each round (> 0): the noise is calibrated for this many. */
  numSampledClients: number;
  /** Noise source (default: the OS's CSPRNG; `seededNormalSource(seed)` for tests). */
  normal?: NormalSource;
}

/** The base of the DP wrappers. */
export abstract class DifferentialPrivacyWrapperBase extends Strategy {
  /** The wrapped strategy. */
  readonly strategy: Strategy;
  /** Nodes sampled per round. */
  readonly numSampledClients: number;
  /** The noise source. */
  protected readonly normal: NormalSource;
  /** Noise multiplier of the model update. */
  abstract readonly noiseMultiplier: number;
  /** The clipping norm in use. */
  abstract clippingNorm: number;

  constructor(strategy: Strategy, options: DpWrapperOptions) {
    super(options);
    this.strategy = strategy;
    this.numSampledClients = options.numSampledClients;
    this.normal = options.normal ?? secureNormalSource();
  }

  /** Adds the calibrated Gaussian noise to the aggregate (a new record, same keys and dtypes). */
  protected addNoise(aggregated: ArrayRecord): ArrayRecord {
    const arrays = readFloatArrays(aggregated);
    const stdv = computeStdv(this.noiseMultiplier, this.clippingNorm, this.numSampledClients);
    addGaussianNoiseInPlace(arrays, stdv, this.normal);
    this.info(`aggregate_fit: central DP noise with ${stdv.toFixed(4)} stdev added`);
    return writeFloatArrays(arrays);
  }

  /**
   * Clips every ArrayRecord of every reply to within the clipping norm of `current`, in place,
   * logging `logLine` once per reply.
   * @returns how many records were clipped.
   */
  protected clipReplies(
    replies: readonly Message[],
    current: ArrayRecord,
    logLine: string,
  ): number {
    const reference = readFloatArrays(current);
    let clipped = 0;
    for (const reply of replies) {
      for (const [name, record] of reply.content.arrayRecords) {
        const arrays = readFloatArrays(record);
        if (clipModelUpdate(arrays, reference, this.clippingNorm)) clipped += 1;
        reply.content.set(name, writeFloatArrays(arrays));
      }
      this.info(logLine);
    }
    return clipped;
  }

  /** The wrapped strategy's aggregate with the noise added to its arrays. */
  protected async aggregateWithNoise(
    serverRound: number,
    replies: readonly Message[],
  ): Promise<[ArrayRecord | undefined, MetricRecord | undefined]> {
    const [aggregated, metrics] = await this.strategy.aggregateTrain(serverRound, replies);
    return [aggregated ? this.addNoise(aggregated) : aggregated, metrics];
  }

  /** The wrapped strategy's evaluation. */
  configureEvaluate(
    serverRound: number,
    arrays: ArrayRecord,
    config: ConfigRecord,
    grid: Grid,
  ): Promise<Message[]> {
    return this.strategy.configureEvaluate(serverRound, arrays, config, grid);
  }

  /** The wrapped strategy's evaluation aggregate. */
  aggregateEvaluate(
    serverRound: number,
    replies: readonly Message[],
  ): Promise<MetricRecord | undefined> {
    return this.strategy.aggregateEvaluate(serverRound, replies);
  }

  /** Flower's `validate_replies` with this strategy's logger. */
  protected validate(replies: readonly Message[]): boolean {
    return validateDpReplies(replies, this.numSampledClients, (level, message) =>
      this.logger.log(level, message),
    );
  }
}
