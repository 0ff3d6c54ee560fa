/**
 * Central differential privacy with adaptive clipping (Flower's
 * `flwr/serverapp/strategy/dp_adaptive_clipping.py`; Andrew et al.,
 * https://arxiv.org/abs/1905.03871): like fixed clipping, but the clipping norm follows a target
 * quantile of the nodes' update norms — after each round it is multiplied by
 * `exp(-clipNormLr × (clippedFraction − targetClippedQuantile))`, where the clipped fraction is
 * counted with Gaussian noise of deviation `clippedCountStddev`. Clipping happens on the server
 * ({@link DifferentialPrivacyServerSideAdaptiveClipping}) or on the nodes with
 * `adaptiveClippingMod`, which reports each node's norm bit
 * ({@link DifferentialPrivacyClientSideAdaptiveClipping}). Same options, defaults, checks, log
 * lines and results as Flower 1.29 (`test/strategy-dp-python.test.ts`).
 */
import { computeAdaptiveNoiseParams } from "../dp/differential-privacy.js";
import type { Grid } from "../grid/grid.js";
import type { Message } from "../message/message.js";
import { ArrayRecord } from "../records/array-record.js";
import type { ConfigRecord } from "../records/config-record.js";
import type { MetricRecord } from "../records/metric-record.js";
import { KEY_CLIPPING_NORM, KEY_NORM_BIT } from "./dp-replies.js";
import { DifferentialPrivacyWrapperBase, type DpWrapperOptions } from "./dp-wrapper.js";
import { AggregationError } from "./errors.js";
import { pyFloatRepr } from "./py-format.js";
import type { Strategy } from "./strategy.js";

/** Options of the adaptive-clipping wrappers (Flower's arguments and defaults, by name). */
export interface DpAdaptiveClippingOptions extends DpWrapperOptions {
  /** Noise multiplier of the Gaussian mechanism (≥ 0). */
  noiseMultiplier: number;
  /** Initial clipping norm (> 0; default 0.1, as Andrew et al. recommend). */
  initialClippingNorm?: number;
  /** Quantile of updates to clip, in [0, 1] (default 0.5). */
  targetClippedQuantile?: number;
  /** Learning rate of the norm's adaptation (> 0; default 0.2). */
  clipNormLr?: number;
  /** Deviation of the clipped-count noise (≥ 0; default `numSampledClients / 20` with noise). */
  clippedCountStddev?: number;
}

/** What both adaptive wrappers share (Flower's `DifferentialPrivacyAdaptiveBase`). */
export abstract class DifferentialPrivacyAdaptiveBase extends DifferentialPrivacyWrapperBase {
  /** The current clipping norm (adapted after every training round). */
  clippingNorm: number;
  /** Target clipped quantile. */
  readonly targetClippedQuantile: number;
  /** Learning rate of the norm. */
  readonly clipNormLr: number;
  /** The clipped-count noise deviation in use. */
  readonly clippedCountStddev: number;
  /** The model-update noise multiplier after the count's share of the privacy budget. */
  readonly noiseMultiplier: number;

  /** @throws RangeError with Flower's messages for out-of-range options. */
  constructor(strategy: Strategy, options: DpAdaptiveClippingOptions) {
    super(strategy, options);
    const initial = options.initialClippingNorm ?? 0.1;
    const quantile = options.targetClippedQuantile ?? 0.5;
    const lr = options.clipNormLr ?? 0.2;
    if (options.noiseMultiplier < 0)
      throw new RangeError("The noise multiplier should be a non-negative value.");
    if (options.numSampledClients <= 0)
      throw new RangeError("The number of sampled clients should be a positive value.");
    if (initial <= 0) throw new RangeError("The initial clipping norm should be a positive value.");
    if (!(quantile >= 0 && quantile <= 1))
      throw new RangeError("The target clipped quantile must be in [0, 1].");
    if (lr <= 0) throw new RangeError("The learning rate must be positive.");
    if (options.clippedCountStddev !== undefined && options.clippedCountStddev < 0)
      throw new RangeError("The `clipped_count_stddev` must be non-negative.");
    this.clippingNorm = initial;
    this.targetClippedQuantile = quantile;
    this.clipNormLr = lr;
    const params = computeAdaptiveNoiseParams(
      options.noiseMultiplier,
      options.numSampledClients,
      options.clippedCountStddev,
      pyFloatRepr,
    );
    if (params.warning) this.logger.log("WARNING", params.warning);
    this.clippedCountStddev = params.clippedCountStddev;
    this.noiseMultiplier = params.noiseMultiplier;
  }

  /** Adapts the norm to `clippedCount` of `total` updates clipped (the count noised). */
  protected adaptNorm(clippedCount: number, total: number): void {
    const fraction = (clippedCount + this.clippedCountStddev * this.normal()) / total;
    this.clippingNorm *= Math.exp(-this.clipNormLr * (fraction - this.targetClippedQuantile));
  }

  /** Logs the DP settings, then the wrapped strategy's summary. */
  summary(): void {
    this.info("\t├──> DP settings:");
    this.info(`\t│\t├── Noise multiplier: ${pyFloatRepr(this.noiseMultiplier)}`);
    this.info(`\t│\t├── Clipping norm: ${pyFloatRepr(this.clippingNorm)}`);
    this.info(`\t│\t├── Target clipped quantile: ${pyFloatRepr(this.targetClippedQuantile)}`);
    this.info(`\t│\t└── Clip norm learning rate: ${pyFloatRepr(this.clipNormLr)}`);
    this.strategy.summary();
  }
}

/** Central DP with server-side adaptive clipping. */
export class DifferentialPrivacyServerSideAdaptiveClipping extends DifferentialPrivacyAdaptiveBase {
  private currentArrays: ArrayRecord = new ArrayRecord();

  /** Flower's `repr`. */
  override toString(): string {
    return "Differential Privacy Strategy Wrapper (Server-Side Adaptive Clipping)";
  }

  /** Remembers the round's global arrays, then the wrapped strategy's configure_train. */
  configureTrain(
    serverRound: number,
    arrays: ArrayRecord,
    config: ConfigRecord,
    grid: Grid,
  ): Promise<Message[]> {
    this.currentArrays = arrays;
    return this.strategy.configureTrain(serverRound, arrays, config, grid);
  }

  /** Clips every reply to the current norm, adapts the norm, aggregates, adds the noise. */
  async aggregateTrain(
    serverRound: number,
    replies: readonly Message[],
  ): Promise<[ArrayRecord | undefined, MetricRecord | undefined]> {
    if (!this.validate(replies)) return [undefined, undefined];
    const clipped = this.clipReplies(
      replies,
      this.currentArrays,
      `aggregate_train: arrays in \`ArrayRecord\` are clipped by value: ${this.clippingNorm.toFixed(4)}.`,
    );
    this.adaptNorm(clipped, replies.length);
    return this.aggregateWithNoise(serverRound, replies);
  }
}

/**
 * Central DP with client-side adaptive clipping: the norm goes to the nodes in the train config,
 * their `adaptiveClippingMod` clips and reports `norm_bit`, from which the norm adapts.
 */
export class DifferentialPrivacyClientSideAdaptiveClipping extends DifferentialPrivacyAdaptiveBase {
  /** Flower's `repr`. */
  override toString(): string {
    return "Differential Privacy Strategy Wrapper (Client-Side Adaptive Clipping)";
  }

  /** Puts the current norm into the train config, then the wrapped strategy's configure_train. */
  configureTrain(
    serverRound: number,
    arrays: ArrayRecord,
    config: ConfigRecord,
    grid: Grid,
  ): Promise<Message[]> {
    config.set(KEY_CLIPPING_NORM, this.clippingNorm);
    return this.strategy.configureTrain(serverRound, arrays, config, grid);
  }

  /**
   * Aggregates with the wrapped strategy, adapts the norm from the replies' norm bits, adds the
   * noise.
   * @throws AggregationError (Flower's) when a reply's MetricRecord has no `norm_bit`.
   */
  async aggregateTrain(
    serverRound: number,
    replies: readonly Message[],
  ): Promise<[ArrayRecord | undefined, MetricRecord | undefined]> {
    if (!this.validate(replies)) return [undefined, undefined];
    for (const reply of replies)
      for (const record of reply.content.metricRecords.values())
        if (!record.has(KEY_NORM_BIT))
          throw new AggregationError(
            `KEY_NORM_BIT ('${KEY_NORM_BIT}') not found in MetricRecord or metrics for reply.`,
          );
    const [aggregated, metrics] = await this.strategy.aggregateTrain(serverRound, replies);
    let clipped = 0;
    for (const reply of replies) {
      for (const record of reply.content.metricRecords.values()) {
        const bit = record.get(KEY_NORM_BIT);
        if (bit === undefined) continue;
        if (Number(bit) !== 0) clipped += 1;
        break;
      }
    }
    this.adaptNorm(clipped, replies.length);
    return [aggregated ? this.addNoise(aggregated) : aggregated, metrics];
  }
}
