/** `FedAvgM`: Federated Averaging with server momentum (Python `flwr.serverapp.strategy.FedAvgM`). */
import type { Grid } from "../grid/grid.js";
import type { Message } from "../message/message.js";
import type { ArrayRecord } from "../records/array-record.js";
import type { ConfigRecord } from "../records/config-record.js";
import type { MetricRecord } from "../records/metric-record.js";
import { AggregationError } from "./errors.js";
import { FedAvg, type FedAvgOptions } from "./fedavg.js";
import { type FloatArrays, readFloatArrays, writeFloatArrays } from "./float-arrays.js";
import { pyFloatRepr } from "./py-format.js";

/** Settings of {@link FedAvgM}: FedAvg's plus the server optimizer's; defaults are Flower's. */
export interface FedAvgMOptions extends FedAvgOptions {
  /** Server-side learning rate (default 1.0). */
  serverLearningRate?: number;
  /** Server-side momentum factor (default 0.0). */
  serverMomentum?: number;
}

/**
 * FedAvg with server-side momentum (Hsu et al., 2019). With `serverMomentum` 0 and
 * `serverLearningRate` 1 it is FedAvg; otherwise each round the pseudo-gradient
 * `current − average` (plus `momentum × previous`, when momentum > 0) is applied as
 * `current − lr × gradient`.
 */
export class FedAvgM extends FedAvg {
  /** Server-side learning rate. */
  readonly serverLearningRate: number;
  /** Server-side momentum factor. */
  readonly serverMomentum: number;
  /** True when the server optimizer changes FedAvg's result. */
  readonly serverOpt: boolean;
  private currentArrays: ArrayRecord | undefined;
  private momentumVector: Float64Array[] | undefined;

  /** @param options - see {@link FedAvgMOptions}. */
  constructor(options: FedAvgMOptions = {}) {
    super(options);
    this.serverLearningRate = options.serverLearningRate ?? 1.0;
    this.serverMomentum = options.serverMomentum ?? 0.0;
    this.serverOpt = this.serverMomentum !== 0 || this.serverLearningRate !== 1;
  }

  /** Logs the FedAvgM settings, then FedAvg's. */
  override summary(): void {
    this.info("\t├──> FedAvgM settings:");
    this.info(`\t│\t├── Server optimization: ${this.serverOpt ? "ON" : "OFF"}`);
    this.info(`\t│\t├── Server learning rate: ${pyFloatRepr(this.serverLearningRate)}`);
    this.info(`\t│\t└── Server Momentum: ${pyFloatRepr(this.serverMomentum)}`);
    super.summary();
  }

  /** Remembers the first global arrays it sends, then configures like FedAvg. */
  override configureTrain(
    serverRound: number,
    arrays: ArrayRecord,
    config: ConfigRecord,
    grid: Grid,
  ): Promise<Message[]> {
    if (this.currentArrays === undefined) this.currentArrays = arrays;
    return super.configureTrain(serverRound, arrays, config, grid);
  }

  /** Averages like FedAvg, then applies the server learning rate and momentum. */
  override async aggregateTrain(
    serverRound: number,
    replies: readonly Message[],
  ): Promise<[ArrayRecord | undefined, MetricRecord | undefined]> {
    const [aggregated, metrics] = await super.aggregateTrain(serverRound, replies);
    if (!this.serverOpt || aggregated === undefined) return [aggregated, metrics];
    if (this.currentArrays === undefined) {
      throw new AggregationError(
        "No initial parameters set for FedAvgM. Ensure that `configure_train` has been called before aggregation.",
      );
    }
    // Flower pairs the arrays by position (to_numpy_ndarrays), keeping the aggregated keys.
    const old = [...readFloatArrays(this.currentArrays).values()];
    const avg = readFloatArrays(aggregated);
    if (old.length !== avg.size) {
      throw new AggregationError(
        `FedAvgM holds ${old.length} arrays but the replies averaged to ${avg.size}`,
      );
    }
    let gradient: Float64Array[] = [...avg.values()].map((a, i) => {
      const o = old[i]!.values;
      if (o.length !== a.values.length) {
        throw new AggregationError(
          "FedAvgM: an averaged array differs in size from the global one",
        );
      }
      return o.map((x, k) => x - a.values[k]!);
    });
    if (this.serverMomentum > 0) {
      const prev = this.momentumVector;
      this.momentumVector =
        prev === undefined
          ? gradient
          : gradient.map((g, i) => g.map((x, k) => this.serverMomentum * prev[i]![k]! + x));
      gradient = this.momentumVector;
    }
    const updated: FloatArrays = new Map();
    [...avg.entries()].forEach(([name, a], i) => {
      const o = old[i]!.values;
      const g = gradient[i]!;
      updated.set(name, {
        dtype: a.dtype,
        shape: a.shape,
        values: o.map((x, k) => x - this.serverLearningRate * g[k]!),
      });
    });
    this.currentArrays = writeFloatArrays(updated);
    return [this.currentArrays, metrics];
  }
}
