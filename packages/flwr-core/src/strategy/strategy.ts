/** The message-based strategy base class (Python `flwr.serverapp.strategy.Strategy`). */
import { consoleLogger, type Logger } from "../app/logger.js";
import type { Grid } from "../grid/grid.js";
import type { Message } from "../message/message.js";
import type { ArrayRecord } from "../records/array-record.js";
import { ConfigRecord } from "../records/config-record.js";
import type { MetricRecord } from "../records/metric-record.js";
import { configToStr, recordRepr } from "./py-format.js";
import { Result } from "./result.js";

/** Centralized evaluation on the ServerApp: `(serverRound, arrays) → metrics`. */
export type EvaluateFn = (
  serverRound: number,
  arrays: ArrayRecord,
) => MetricRecord | null | undefined | Promise<MetricRecord | null | undefined>;

/** Arguments of {@link Strategy.start}. */
export interface StartOptions {
  /** The grid to send messages through. */
  grid: Grid;
  /** Initial global arrays (e.g. the model). */
  initialArrays: ArrayRecord;
  /** Number of rounds (default 3). */
  numRounds?: number;
  /** Seconds to wait for the replies of each phase (default 3600). */
  timeout?: number;
  /** Config sent with every train message (gets `server-round`); default empty. */
  trainConfig?: ConfigRecord;
  /** Config sent with every evaluate message (gets `server-round`); default empty. */
  evaluateConfig?: ConfigRecord;
  /** Centralized evaluation, called before round 1 (round 0) and after each round. */
  evaluateFn?: EvaluateFn;
}

/** Options common to strategies. */
export interface StrategyOptions {
  /** Where log lines go (default: Flower-formatted lines on stderr). */
  logger?: Logger;
}

/**
 * Base of message-based strategies: subclasses configure and aggregate the train and
 * evaluate phases; {@link Strategy.start} runs the rounds and logs like Flower.
 */
export abstract class Strategy {
  /** Where log lines go. */
  protected readonly logger: Logger;

  /** @param options - see {@link StrategyOptions}. */
  constructor(options: StrategyOptions = {}) {
    this.logger = options.logger ?? consoleLogger;
  }

  /** Logs an INFO line. */
  protected info(message: string): void {
    this.logger.log("INFO", message);
  }

  /** Messages for the train phase of `serverRound`. */
  abstract configureTrain(
    serverRound: number,
    arrays: ArrayRecord,
    config: ConfigRecord,
    grid: Grid,
  ): Promise<Message[]>;

  /** Aggregates train replies into new arrays and metrics (undefined when nothing to aggregate). */
  abstract aggregateTrain(
    serverRound: number,
    replies: readonly Message[],
  ): Promise<[ArrayRecord | undefined, MetricRecord | undefined]>;

  /** Messages for the evaluate phase of `serverRound`. */
  abstract configureEvaluate(
    serverRound: number,
    arrays: ArrayRecord,
    config: ConfigRecord,
    grid: Grid,
  ): Promise<Message[]>;

  /** Aggregates evaluate replies into metrics (undefined when nothing to aggregate). */
  abstract aggregateEvaluate(
    serverRound: number,
    replies: readonly Message[],
  ): Promise<MetricRecord | undefined>;

  /** Logs the strategy's settings (the tree under `Starting <Strategy> strategy:`). */
  abstract summary(): void;

  /**
   * Runs the federated rounds (Python `Strategy.start`): optional initial centralized
   * evaluation, then per round train → aggregate → evaluate → aggregate → centralized
   * evaluation.
   * @returns the final arrays and per-round metrics.
   */
  async start(options: StartOptions): Promise<Result> {
    const { grid, initialArrays, evaluateFn } = options;
    const numRounds = options.numRounds ?? 3;
    const timeout = options.timeout ?? 3600;
    if (!Number.isInteger(numRounds) || numRounds < 0) {
      throw new RangeError(`numRounds must be a non-negative integer, got ${numRounds}`);
    }
    let size = 0;
    for (const a of initialArrays.values()) size += a.data.length;
    this.info(`Starting ${this.constructor.name} strategy:`);
    this.info(`\t├── Number of rounds: ${numRounds}`);
    this.info(`\t├── ArrayRecord (${(size / 1024 ** 2).toFixed(2)} MB)`);
    const describeConfig = (c: ConfigRecord | undefined) =>
      c !== undefined && c.size > 0 ? configToStr(c) : "(empty!)";
    this.info(`\t├── ConfigRecord (train): ${describeConfig(options.trainConfig)}`);
    this.info(`\t├── ConfigRecord (evaluate): ${describeConfig(options.evaluateConfig)}`);
    this.summary();
    this.info("");

    const trainConfig = options.trainConfig ?? new ConfigRecord();
    const evaluateConfig = options.evaluateConfig ?? new ConfigRecord();
    const result = new Result();
    const t0 = performance.now();

    if (evaluateFn) {
      const res = await evaluateFn(0, initialArrays);
      this.info(`Initial global evaluation results: ${res ? recordRepr(res) : "None"}`);
      if (res) result.evaluateMetricsServerapp.set(0, res);
    }

    let arrays = initialArrays;
    for (let round = 1; round <= numRounds; round++) {
      this.info("");
      this.info(`[ROUND ${round}/${numRounds}]`);

      const trainReplies = await grid.sendAndReceive(
        await this.configureTrain(round, arrays, trainConfig, grid),
        { timeout },
      );
      const [aggArrays, trainMetrics] = await this.aggregateTrain(round, trainReplies);
      if (aggArrays !== undefined) {
        result.arrays = aggArrays;
        arrays = aggArrays;
      }
      if (trainMetrics !== undefined) {
        this.info(`\t└──> Aggregated MetricRecord: ${recordRepr(trainMetrics)}`);
        result.trainMetricsClientapp.set(round, trainMetrics);
      }

      const evaluateReplies = await grid.sendAndReceive(
        await this.configureEvaluate(round, arrays, evaluateConfig, grid),
        { timeout },
      );
      const evalMetrics = await this.aggregateEvaluate(round, evaluateReplies);
      if (evalMetrics !== undefined) {
        this.info(`\t└──> Aggregated MetricRecord: ${recordRepr(evalMetrics)}`);
        result.evaluateMetricsClientapp.set(round, evalMetrics);
      }

      if (evaluateFn) {
        this.info("Global evaluation");
        const res = await evaluateFn(round, arrays);
        this.info(`\t└──> MetricRecord: ${res ? recordRepr(res) : "None"}`);
        if (res) result.evaluateMetricsServerapp.set(round, res);
      }
    }

    this.info("");
    this.info(`Strategy execution finished in ${((performance.now() - t0) / 1000).toFixed(2)}s`);
    this.info("");
    this.info("Final results:");
    this.info("");
    for (const line of result.toString().split("\n").slice(0, -1)) this.info(`\t${line}`);
    this.info("");
    return result;
  }
}
