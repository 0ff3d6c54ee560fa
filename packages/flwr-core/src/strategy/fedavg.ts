/** `FedAvg`: Federated Averaging (Python `flwr.serverapp.strategy.FedAvg`). */
import type { Grid } from "../grid/grid.js";
import { Message } from "../message/message.js";
import { MessageType } from "../message/message-type.js";
import type { ArrayRecord } from "../records/array-record.js";
import type { ConfigRecord } from "../records/config-record.js";
import type { MetricRecord } from "../records/metric-record.js";
import { RecordDict } from "../records/record-dict.js";
import {
  aggregateArrayRecords,
  aggregateMetricRecords,
  type MetricsAggregationFn,
  validateReplyConsistency,
} from "./aggregate.js";
import { sampleNodes } from "./sample-nodes.js";
import { Strategy, type StrategyOptions } from "./strategy.js";

/** Settings of {@link FedAvg}; the defaults are Flower's. */
export interface FedAvgOptions extends StrategyOptions {
  /** Fraction of connected nodes sampled for training (default 1.0; 0 skips training). */
  fractionTrain?: number;
  /** Fraction of connected nodes sampled for evaluation (default 1.0; 0 skips evaluation). */
  fractionEvaluate?: number;
  /** Minimum nodes sampled for training (default 2). */
  minTrainNodes?: number;
  /** Minimum nodes sampled for evaluation (default 2). */
  minEvaluateNodes?: number;
  /** Minimum nodes connected before sampling (default 2). */
  minAvailableNodes?: number;
  /** MetricRecord key weighting the averages (default `"num-examples"`). */
  weightedByKey?: string;
  /** RecordDict key of the ArrayRecord in messages (default `"arrays"`). */
  arrayrecordKey?: string;
  /** RecordDict key of the ConfigRecord in messages (default `"config"`). */
  configrecordKey?: string;
  /** Train metrics aggregation (default: weighted average). */
  trainMetricsAggrFn?: MetricsAggregationFn;
  /** Evaluate metrics aggregation (default: weighted average). */
  evaluateMetricsAggrFn?: MetricsAggregationFn;
  /** Milliseconds between node-count polls while waiting for nodes (default 250). */
  nodePollIntervalMs?: number;
  /** Random source for sampling (default `Math.random`). */
  random?: () => number;
}

function checkFraction(name: string, v: number): number {
  if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
    throw new RangeError(`${name} must be a number between 0 and 1, got ${String(v)}`);
  }
  return v;
}

function checkCount(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${String(v)}`);
  }
  return v;
}

/**
 * Federated Averaging (McMahan et al., 2017), message-based as in Flower 1.29.
 *
 * Each round: sample `max(floor(n × fraction), minNodes)` of the `n` connected nodes (after
 * waiting for `max(minAvailableNodes, sample)` nodes), send them one shared RecordDict
 * `{arrays, config}` (with `config["server-round"] = round`) as `train` messages, average the
 * returned arrays and metrics weighted by `num-examples`, then do the same with `evaluate`.
 * Error replies are logged and counted as failures; inconsistent replies throw
 * {@link InconsistentMessageRepliesError}.
 */
export class FedAvg extends Strategy {
  /** Fraction of nodes sampled for training. */
  readonly fractionTrain: number;
  /** Fraction of nodes sampled for evaluation. */
  readonly fractionEvaluate: number;
  /** Minimum nodes sampled for training. */
  readonly minTrainNodes: number;
  /** Minimum nodes sampled for evaluation. */
  readonly minEvaluateNodes: number;
  /** Minimum connected nodes before sampling. */
  readonly minAvailableNodes: number;
  /** Weight key. */
  readonly weightedByKey: string;
  /** ArrayRecord key in messages. */
  readonly arrayrecordKey: string;
  /** ConfigRecord key in messages. */
  readonly configrecordKey: string;
  /** Train metrics aggregation. */
  protected readonly trainMetricsAggrFn: MetricsAggregationFn;
  /** Evaluate metrics aggregation. */
  protected readonly evaluateMetricsAggrFn: MetricsAggregationFn;
  private readonly nodePollIntervalMs: number | undefined;
  private readonly random: (() => number) | undefined;

  /** @param options - see {@link FedAvgOptions}. */
  constructor(options: FedAvgOptions = {}) {
    super(options);
    this.fractionTrain = checkFraction("fractionTrain", options.fractionTrain ?? 1.0);
    this.fractionEvaluate = checkFraction("fractionEvaluate", options.fractionEvaluate ?? 1.0);
    this.minTrainNodes = checkCount("minTrainNodes", options.minTrainNodes ?? 2);
    this.minEvaluateNodes = checkCount("minEvaluateNodes", options.minEvaluateNodes ?? 2);
    this.minAvailableNodes = checkCount("minAvailableNodes", options.minAvailableNodes ?? 2);
    this.weightedByKey = options.weightedByKey ?? "num-examples";
    this.arrayrecordKey = options.arrayrecordKey ?? "arrays";
    this.configrecordKey = options.configrecordKey ?? "config";
    this.trainMetricsAggrFn = options.trainMetricsAggrFn ?? aggregateMetricRecords;
    this.evaluateMetricsAggrFn = options.evaluateMetricsAggrFn ?? aggregateMetricRecords;
    this.nodePollIntervalMs = options.nodePollIntervalMs;
    this.random = options.random;
    if (this.fractionEvaluate === 0) {
      this.minEvaluateNodes = 0;
      this.logger.log(
        "WARNING",
        "fraction_evaluate is set to 0.0. Federated evaluation will be skipped.",
      );
    }
    if (this.fractionTrain === 0) {
      this.minTrainNodes = 0;
      this.logger.log(
        "WARNING",
        "fraction_train is set to 0.0. Federated training will be skipped.",
      );
    }
  }

  /** Logs the settings tree. */
  summary(): void {
    this.info("\t├──> Sampling:");
    this.info(
      `\t│\t├──Fraction: train (${this.fractionTrain.toFixed(2)}) | evaluate ( ${this.fractionEvaluate.toFixed(2)})`,
    );
    this.info(
      `\t│\t├──Minimum nodes: train (${this.minTrainNodes}) | evaluate (${this.minEvaluateNodes})`,
    );
    this.info(`\t│\t└──Minimum available nodes: ${this.minAvailableNodes}`);
    this.info("\t└──> Keys in records:");
    this.info(`\t\t├── Weighted by: '${this.weightedByKey}'`);
    this.info(`\t\t├── ArrayRecord key: '${this.arrayrecordKey}'`);
    this.info(`\t\t└── ConfigRecord key: '${this.configrecordKey}'`);
  }

  private async configure(
    phase: "train" | "evaluate",
    serverRound: number,
    arrays: ArrayRecord,
    config: ConfigRecord,
    grid: Grid,
  ): Promise<Message[]> {
    const fraction = phase === "train" ? this.fractionTrain : this.fractionEvaluate;
    if (fraction === 0) return [];
    const minNodes = phase === "train" ? this.minTrainNodes : this.minEvaluateNodes;
    const current = await grid.getNodeIds();
    const numNodes = Math.floor(current.length * fraction);
    const sampleSize = Math.max(numNodes, minNodes);
    const [nodeIds, all] = await sampleNodes(grid, this.minAvailableNodes, sampleSize, {
      current,
      pollIntervalMs: this.nodePollIntervalMs,
      random: this.random,
      logger: this.logger,
    });
    this.info(`configure_${phase}: Sampled ${nodeIds.length} nodes (out of ${all.length})`);
    config.set("server-round", BigInt(serverRound));
    const record = new RecordDict([
      [this.arrayrecordKey, arrays],
      [this.configrecordKey, config],
    ]);
    const type = phase === "train" ? MessageType.TRAIN : MessageType.EVALUATE;
    return nodeIds.map((id) => new Message(record, id, type));
  }

  /** Samples nodes and builds the train messages. */
  configureTrain(
    serverRound: number,
    arrays: ArrayRecord,
    config: ConfigRecord,
    grid: Grid,
  ): Promise<Message[]> {
    return this.configure("train", serverRound, arrays, config, grid);
  }

  /** Samples nodes and builds the evaluate messages. */
  configureEvaluate(
    serverRound: number,
    arrays: ArrayRecord,
    config: ConfigRecord,
    grid: Grid,
  ): Promise<Message[]> {
    return this.configure("evaluate", serverRound, arrays, config, grid);
  }

  /** Splits replies into content and error replies, logs them and validates the content ones. */
  protected checkAndLogReplies(replies: readonly Message[], isTrain: boolean): Message[] {
    if (replies.length === 0) return [];
    const valid = replies.filter((m) => !m.hasError());
    const errors = replies.filter((m) => m.hasError());
    this.info(
      `${isTrain ? "aggregate_train" : "aggregate_evaluate"}: Received ${valid.length} results and ${errors.length} failures`,
    );
    for (const m of errors) {
      this.info(
        `\t> Received error in reply from node ${m.metadata.srcNodeId}: ${m.error.reason ?? ""}`,
      );
    }
    if (valid.length > 0) {
      validateReplyConsistency(
        valid.map((m) => m.content),
        this.weightedByKey,
        isTrain,
      );
    }
    return valid;
  }

  /** Averages the arrays and metrics of the successful train replies. */
  async aggregateTrain(
    _serverRound: number,
    replies: readonly Message[],
  ): Promise<[ArrayRecord | undefined, MetricRecord | undefined]> {
    const valid = this.checkAndLogReplies(replies, true);
    if (valid.length === 0) return [undefined, undefined];
    const contents = valid.map((m) => m.content);
    return [
      aggregateArrayRecords(contents, this.weightedByKey),
      this.trainMetricsAggrFn(contents, this.weightedByKey),
    ];
  }

  /** Averages the metrics of the successful evaluate replies. */
  async aggregateEvaluate(
    _serverRound: number,
    replies: readonly Message[],
  ): Promise<MetricRecord | undefined> {
    const valid = this.checkAndLogReplies(replies, false);
    if (valid.length === 0) return undefined;
    return this.evaluateMetricsAggrFn(
      valid.map((m) => m.content),
      this.weightedByKey,
    );
  }
}
