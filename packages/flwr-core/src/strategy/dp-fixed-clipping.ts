/**
 * Central differential privacy with fixed clipping (Flower's
 * `flwr/serverapp/strategy/dp_fixed_clipping.py`; papers: https://arxiv.org/abs/1712.07557,
 * https://arxiv.org/abs/1710.06963): strategy wrappers that clip each node's model update to
 * `clippingNorm` — on the server ({@link DifferentialPrivacyServerSideFixedClipping}) or on the
 * nodes with {@link fixedClippingMod} ({@link DifferentialPrivacyClientSideFixedClipping}) — and
 * add Gaussian noise of deviation `noiseMultiplier × clippingNorm / numSampledClients` to the
 * aggregate. Same options, checks, log lines and results as Flower 1.29 (checked against it on the
 * same replies in `test/strategy-dp-python.test.ts`).
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
import { ArrayRecord } from "../records/array-record.js";
import type { ConfigRecord } from "../records/config-record.js";
import type { MetricRecord } from "../records/metric-record.js";
import { readFloatArrays, writeFloatArrays } from "./float-arrays.js";
import { pyFloatRepr, pyStrRepr } from "./py-format.js";
import { Strategy, type StrategyOptions } from "./strategy.js";

/** The ConfigRecord key carrying the clipping norm to the nodes (Flower's `KEY_CLIPPING_NORM`). */
export const KEY_CLIPPING_NORM = "clipping_norm";
/** The MetricRecord key of a node's norm bit (Flower's `KEY_NORM_BIT`). */
export const KEY_NORM_BIT = "norm_bit";

/** Flower's `CLIENTS_DISCREPANCY_WARNING`. */
export function clientsDiscrepancyWarning(received: number, sampled: number): string {
  return (
    `The number of clients returning parameters (${received}) differs from the number of ` +
    `sampled clients (${sampled}). This could impact the differential privacy guarantees, ` +
    "potentially leading to privacy leakage or inadequate noise calibration."
  );
}

/** Options of the fixed-clipping wrappers (Flower's positional arguments, by name). */
export interface DpFixedClippingOptions extends StrategyOptions {
  /** Noise multiplier of the Gaussian mechanism (≥ 0; 1.0 or more for strong privacy). */
  noiseMultiplier: number;
  /** Clipping norm (> 0). */
  clippingNorm: number;
  /** Nodes sampled each round (> 0): the noise is calibrated for this many. */
  numSampledClients: number;
  /** Noise source (default: the OS's CSPRNG; `seededNormalSource(seed)` for tests). */
  normal?: NormalSource;
}

/** Python's `repr(msg.error)`: `Error(code=0, reason='…')`. */
function errorRepr(message: Message): string {
  const { code, reason } = message.error;
  return `Error(code=${code}, reason=${reason === undefined ? "None" : pyStrRepr(reason)})`;
}

/**
 * Flower's `validate_replies`: logs each error reply and refuses aggregation when there is one;
 * warns when fewer (or more) replies than sampled nodes carry content.
 * @returns true when the replies may be aggregated.
 */
export function validateDpReplies(
  replies: readonly Message[],
  numSampledClients: number,
  log: (level: "INFO" | "WARNING", message: string) => void,
): boolean {
  let errors = 0;
  let withContent = 0;
  for (const reply of replies) {
    if (reply.hasError()) {
      log(
        "INFO",
        `Received error in reply from node ${reply.metadata.srcNodeId}: ${errorRepr(reply)}`,
      );
      errors += 1;
    } else withContent += 1;
  }
  if (errors > 0) {
    log("INFO", "aggregate_train: Some clients reported errors. Skipping aggregation.");
    return false;
  }
  log("INFO", `aggregate_train: Received ${withContent} results and ${errors} failures`);
  if (withContent !== numSampledClients)
    log("WARNING", clientsDiscrepancyWarning(withContent, numSampledClients));
  return true;
}

/** What the server- and client-side fixed-clipping wrappers share (Flower's base class). */
export abstract class DifferentialPrivacyFixedClippingBase extends Strategy {
  /** The wrapped strategy. */
  readonly strategy: Strategy;
  /** Noise multiplier. */
  readonly noiseMultiplier: number;
  /** Clipping norm. */
  readonly clippingNorm: number;
  /** Nodes sampled per round. */
  readonly numSampledClients: number;
  private readonly normal: NormalSource;

  /**
   * @param strategy - the strategy DP is added to.
   * @throws RangeError with Flower's messages for a negative noise multiplier, a clipping norm
   *   that is not positive, or a non-positive number of sampled clients.
   */
  constructor(strategy: Strategy, options: DpFixedClippingOptions) {
    super(options);
    if (options.noiseMultiplier < 0)
      throw new RangeError("The noise multiplier should be a non-negative value.");
    if (options.clippingNorm <= 0)
      throw new RangeError("The clipping norm should be a positive value.");
    if (options.numSampledClients <= 0)
      throw new RangeError("The number of sampled clients should be a positive value.");
    this.strategy = strategy;
    this.noiseMultiplier = options.noiseMultiplier;
    this.clippingNorm = options.clippingNorm;
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

  /** Logs the DP settings, then the wrapped strategy's summary. */
  summary(): void {
    this.info("\t├──> DP settings:");
    this.info(`\t│\t├── Noise multiplier: ${pyFloatRepr(this.noiseMultiplier)}`);
    this.info(`\t│\t└── Clipping norm: ${pyFloatRepr(this.clippingNorm)}`);
    this.strategy.summary();
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

  protected validate(replies: readonly Message[]): boolean {
    return validateDpReplies(replies, this.numSampledClients, (level, message) =>
      this.logger.log(level, message),
    );
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
    const current = readFloatArrays(this.currentArrays ?? new ArrayRecord());
    for (const reply of replies) {
      for (const [name, record] of reply.content.arrayRecords) {
        const arrays = readFloatArrays(record);
        clipModelUpdate(arrays, current, this.clippingNorm);
        reply.content.set(name, writeFloatArrays(arrays));
      }
      this.info(`aggregate_fit: parameters are clipped by value: ${this.clippingNorm.toFixed(4)}.`);
    }
    const [aggregated, metrics] = await this.strategy.aggregateTrain(serverRound, replies);
    return [aggregated ? this.addNoise(aggregated) : aggregated, metrics];
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
    const [aggregated, metrics] = await this.strategy.aggregateTrain(serverRound, replies);
    return [aggregated ? this.addNoise(aggregated) : aggregated, metrics];
  }
}
