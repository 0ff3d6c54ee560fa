/** `QFedAvg`: q-Fair Federated Averaging (Python `flwr.serverapp.strategy.QFedAvg`). */
import type { Grid } from "../grid/grid.js";
import type { Message } from "../message/message.js";
import type { ArrayRecord } from "../records/array-record.js";
import type { ConfigRecord } from "../records/config-record.js";
import type { MetricRecord } from "../records/metric-record.js";
import { AggregationError } from "./errors.js";
import { FedAvg, type FedAvgOptions } from "./fedavg.js";
import { type FloatArrays, readFloatArrays, writeFloatArrays } from "./float-arrays.js";
import { pyFloatRepr } from "./py-format.js";

/** Settings of {@link QFedAvg}: FedAvg's plus q-FedAvg's; defaults are Flower's. */
export interface QFedAvgOptions extends FedAvgOptions {
  /** The ClientApps' learning rate (required, as in Flower); `L = 1 / clientLearningRate`. */
  clientLearningRate: number;
  /** Fairness parameter q (default 0.1). */
  q?: number;
  /** MetricRecord key of each reply's training loss (default `"train_loss"`). */
  trainLossKey?: string;
}

/**
 * q-FedAvg (Li et al., 2019). Per reply `k` with loss `F_k` and arrays `w_k`:
 * `Δw_k = L (w − w_k)`, `Δ_k = F_k^q Δw_k`, `h_k = q F_k^(q−1) ‖Δw_k‖² + L F_k^q` (with
 * `F_k + 1e-10`), and the new arrays are `w − Σ Δ_k / Σ h_k`. Metrics are aggregated like
 * FedAvg's.
 */
export class QFedAvg extends FedAvg {
  /** The ClientApps' learning rate. */
  readonly clientLearningRate: number;
  /** Fairness parameter. */
  readonly q: number;
  /** Training-loss key. */
  readonly trainLossKey: string;
  private currentArrays: ArrayRecord | undefined;

  /** @param options - see {@link QFedAvgOptions}. */
  constructor(options: QFedAvgOptions) {
    super(options);
    this.clientLearningRate = options.clientLearningRate;
    this.q = options.q ?? 0.1;
    this.trainLossKey = options.trainLossKey ?? "train_loss";
  }

  /** Logs the q-FedAvg settings, then FedAvg's. */
  override summary(): void {
    this.info("\t├──> q-FedAvg settings:");
    this.info(`\t│\t├── client_learning_rate: ${pyFloatRepr(this.clientLearningRate)}`);
    this.info(`\t│\t├── q: ${pyFloatRepr(this.q)}`);
    this.info(`\t│\t└── train_loss_key: '${this.trainLossKey}'`);
    super.summary();
  }

  /** Keeps the arrays being sent, then configures like FedAvg. */
  override configureTrain(
    serverRound: number,
    arrays: ArrayRecord,
    config: ConfigRecord,
    grid: Grid,
  ): Promise<Message[]> {
    this.currentArrays = arrays;
    return super.configureTrain(serverRound, arrays, config, grid);
  }

  private trainLoss(msg: Message): number {
    const metrics = msg.content.metricRecords.values().next().value;
    const loss = metrics?.get(this.trainLossKey);
    if (typeof loss !== "number" && typeof loss !== "bigint") {
      const k = this.trainLossKey;
      throw new AggregationError(
        `Missing or invalid training loss. The strategy expected a float value for the key '${k}' ` +
          `as the training loss in each MetricRecord from the clients. Ensure that '${k}' is present and maps to a valid float.`,
      );
    }
    return Number(loss);
  }

  /** Takes the q-FedAvg step from the arrays of the last `configureTrain`. */
  override async aggregateTrain(
    _serverRound: number,
    replies: readonly Message[],
  ): Promise<[ArrayRecord | undefined, MetricRecord | undefined]> {
    const valid = this.checkAndLogReplies(replies, true);
    if (valid.length === 0) return [undefined, undefined];
    const lipschitz = 1.0 / this.clientLearningRate;
    if (this.currentArrays === undefined) {
      throw new AggregationError(
        "Current global model weights are not available. Make sure to call`configure_train` before calling `aggregate_train`.",
      );
    }
    const global = [...readFloatArrays(this.currentArrays).values()];
    const sumDelta = global.map((g) => new Float64Array(g.values.length));
    let sumH = 0;
    for (const msg of valid) {
      // Flower pairs the reply's arrays with the global ones by position.
      const local = [...readFloatArrays(msg.content.arrayRecords.values().next().value!).values()];
      if (local.length !== global.length) {
        throw new AggregationError("a reply's arrays do not match the global arrays");
      }
      const loss = this.trainLoss(msg);
      const grads = global.map((g, i) => {
        const l = local[i]!.values;
        if (l.length !== g.values.length) {
          throw new AggregationError("a reply's array differs in size from the global one");
        }
        return g.values.map((x, k) => (x - l[k]!) * lipschitz);
      });
      let norm = 0;
      for (const g of grads) for (const x of g) norm += x * x;
      const lossPowQ = (loss + 1e-10) ** this.q;
      grads.forEach((g, i) => {
        const s = sumDelta[i]!;
        for (let k = 0; k < g.length; k++) s[k] = s[k]! + g[k]! * lossPowQ;
      });
      sumH += this.q * (loss + 1e-10) ** (this.q - 1) * norm + lipschitz * lossPowQ;
    }
    const names = [...this.currentArrays.keys()];
    const out: FloatArrays = new Map();
    global.forEach((g, i) => {
      const d = sumDelta[i]!;
      out.set(names[i]!, {
        dtype: g.dtype,
        shape: g.shape,
        values: g.values.map((x, k) => x - d[k]! / sumH),
      });
    });
    return [
      writeFloatArrays(out),
      this.trainMetricsAggrFn(
        valid.map((m) => m.content),
        this.weightedByKey,
      ),
    ];
  }
}
