/**
 * Central differential privacy with fixed clipping (Flower's
 * `flwr/serverapp/strategy/dp_fixed_clipping.py`; papers: https://arxiv.org/abs/1712.07557,
 * https://arxiv.org/abs/1710.06963): strategy wrappers that clip each node's model update to
 * `clippingNorm` — on the server ({@link DifferentialPrivacyServerSideFixedClipping}) or on the
 * nodes with `fixedClippingMod` ({@link DifferentialPrivacyClientSideFixedClipping}) — and
 * add Gaussian noise of deviation `noiseMultiplier × clippingNorm / numSampledClients` to the
 * aggregate. Same options, checks, log lines and results as Flower 1.29 (checked against it on the
 * same replies in `test/strategy-dp-python.test.ts`).
 */
import type { Grid } from "../grid/grid.js";
import type { Message } from "../message/message.js";
import { ArrayRecord } from "../records/array-record.js";
import type { ConfigRecord } from "../records/config-record.js";
import type { MetricRecord } from "../records/metric-record.js";
import { KEY_CLIPPING_NORM } from "./dp-replies.js";
import { DifferentialPrivacyWrapperBase, type DpWrapperOptions } from "./dp-wrapper.js";
import { pyFloatRepr } from "./py-format.js";
import type { Strategy } from "./strategy.js";

/** Options of the fixed-clipping wrappers (Flower's positional arguments, by name). */
export interface DpFixedClippingOptions extends DpWrapperOptions {
  /** Noise multiplier of the Gaussian mechanism (≥ 0; 1.0 or more for strong privacy). */
  noiseMultiplier: number;
  /** Clipping norm (> 0). */
  clippingNorm: number;
}

/** What the server- and client-side fixed-clipping wrappers share (Flower's base class). */
export abstract class DifferentialPrivacyFixedClippingBase extends DifferentialPrivacyWrapperBase {
  /** Noise multiplier. */
  readonly noiseMultiplier: number;
  /** Clipping norm. */
  readonly clippingNorm: number;

  /**
   * @param strategy - the strategy DP is added to.
   * @throws RangeError with Flower's messages for a negative noise multiplier, a clipping norm
   *   that is not positive, or a non-positive number of sampled clients.
   */
  constructor(strategy: Strategy, options: DpFixedClippingOptions) {
    super(strategy, options);
    if (options.noiseMultiplier < 0)
      throw new RangeError("The noise multiplier should be a non-negative value.");
    if (options.clippingNorm <= 0)
      throw new RangeError("The clipping norm should be a positive value.");
    if (options.numSampledClients <= 0)
      throw new RangeError("The number of sampled clients should be a positive value.");
    this.noiseMultiplier = options.noiseMultiplier;
    this.clippingNorm = options.clippingNorm;
  }

  /** Logs the DP settings, then the wrapped strategy's summary. */
  summary(): void {
    this.info("\t├──> DP settings:");
    this.info(`\t│\t├── Noise multiplier: ${pyFloatRepr(this.noiseMultiplier)}`);
    this.info(`\t│\t└── Clipping norm: ${pyFloatRepr(this.clippingNorm)}`);
    this.strategy.summary();
  }
}

/**
 * Central DP with server-side fixed clipping: each reply's arrays are clipped to within
 * `clippingNorm` of the round's global arrays before the wrapped strategy aggregates them.
 */
export class DifferentialPrivacyServerSideFixedClipping extends DifferentialPrivacyFixedClippingBase {
  private currentArrays: ArrayRecord | undefined;

  /** Flower's `repr`. */
  override toString(): string {
    return "Differential Privacy Strategy Wrapper (Server-Side Fixed Clipping)";
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

  /** Clips every reply's arrays, aggregates with the wrapped strategy, adds the noise. */
  async aggregateTrain(
    serverRound: number,
    replies: readonly Message[],
  ): Promise<[ArrayRecord | undefined, MetricRecord | undefined]> {
    if (!this.validate(replies)) return [undefined, undefined];
    this.clipReplies(
      replies,
      this.currentArrays ?? new ArrayRecord(),
      `aggregate_fit: parameters are clipped by value: ${this.clippingNorm.toFixed(4)}.`,
    );
    return this.aggregateWithNoise(serverRound, replies);
  }
}

/**
 * Central DP with client-side fixed clipping: the clipping norm goes to the nodes in the train
 * config (`clipping_norm`), whose ClientApps clip with {@link fixedClippingMod}; the aggregate
 * gets the noise.
 */
export class DifferentialPrivacyClientSideFixedClipping extends DifferentialPrivacyFixedClippingBase {
  /** Flower's `repr`. */
  override toString(): string {
    return "Differential Privacy Strategy Wrapper (Client-Side Fixed Clipping)";
  }

  /** Puts the clipping norm into the train config, then the wrapped strategy's configure_train. */
  configureTrain(
    serverRound: number,
    arrays: ArrayRecord,
    config: ConfigRecord,
    grid: Grid,
  ): Promise<Message[]> {
    config.set(KEY_CLIPPING_NORM, this.clippingNorm);
    return this.strategy.configureTrain(serverRound, arrays, config, grid);
  }

  /** Aggregates with the wrapped strategy and adds the noise. */
  async aggregateTrain(
    serverRound: number,
    replies: readonly Message[],
  ): Promise<[ArrayRecord | undefined, MetricRecord | undefined]> {
    if (!this.validate(replies)) return [undefined, undefined];
    return this.aggregateWithNoise(serverRound, replies);
  }
}
