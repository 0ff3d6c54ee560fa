/**
 * `FedOpt`: the base of the adaptive server optimizers FedAdagrad, FedAdam and FedYogi
 * (Python `flwr.serverapp.strategy.FedOpt`).
 */
import type { Grid } from "../grid/grid.js";
import type { Message } from "../message/message.js";
import type { ArrayRecord } from "../records/array-record.js";
import type { ConfigRecord } from "../records/config-record.js";
import { AggregationError } from "./errors.js";
import { FedAvg, type FedAvgOptions } from "./fedavg.js";
import {
  checkSameLayout,
  type FloatArrays,
  readFloatArrays,
  writeFloatArrays,
} from "./float-arrays.js";
import { pyG } from "./py-format.js";

/** Settings of {@link FedOpt}: FedAvg's plus the optimizer's; defaults are Flower's FedOpt's. */
export interface FedOptOptions extends FedAvgOptions {
  /** Server-side learning rate (default 1e-1). */
  eta?: number;
  /** Client-side learning rate, informational (default 1e-1). */
  etaL?: number;
  /** First-moment (momentum) parameter (default 0.0). */
  beta1?: number;
  /** Second-moment parameter (default 0.0). */
  beta2?: number;
  /** Degree of adaptability (default 1e-3). */
  tau?: number;
}

/** How a subclass updates the second moment `v` from the previous `v` and `Δ²`, per element. */
export type SecondMomentUpdate = (v: number, deltaSquared: number) => number;

const MISSING_ARRAYS =
  "Current arrays not set. Ensure that `configure_train` has been called before aggregation.";

/**
 * Adaptive Federated Optimization (Reddi et al., 2020). Keeps the global arrays sent in each
 * `configureTrain`; `FedOpt` itself aggregates like FedAvg, and its subclasses turn the
 * FedAvg average into `Δ = average − current`, `m = β₁m + (1−β₁)Δ`, a second moment `v`, and
 * `current + η' × m / (√v + τ)`. State is float64; results keep each array's dtype.
 */
export class FedOpt extends FedAvg {
  /** Server-side learning rate. */
  readonly eta: number;
  /** Client-side learning rate. */
  readonly etaL: number;
  /** First-moment parameter. */
  readonly beta1: number;
  /** Second-moment parameter. */
  readonly beta2: number;
  /** Degree of adaptability. */
  readonly tau: number;
  /** The global arrays of the last `configureTrain`. */
  protected currentArrays: FloatArrays | undefined;
  /** First moment by array name. */
  protected mT: Map<string, Float64Array> | undefined;
  /** Second moment by array name. */
  protected vT: Map<string, Float64Array> | undefined;

  /** @param options - see {@link FedOptOptions}. */
  constructor(options: FedOptOptions = {}) {
    super(options);
    this.eta = options.eta ?? 1e-1;
    this.etaL = options.etaL ?? 1e-1;
    this.beta1 = options.beta1 ?? 0.0;
    this.beta2 = options.beta2 ?? 0.0;
    this.tau = options.tau ?? 1e-3;
  }

  /** Logs the FedOpt settings, then FedAvg's. */
  override summary(): void {
    this.info("\t├──> FedOpt settings:");
    this.info(`\t│\t├── eta (${pyG(this.eta)}) | eta_l (${pyG(this.etaL)})`);
    this.info(`\t│\t├── beta_1 (${pyG(this.beta1)}) | beta_2 (${pyG(this.beta2)})`);
    this.info(`\t│\t└── tau (${pyG(this.tau)})`);
    super.summary();
  }

  /** Keeps the arrays being sent, then configures like FedAvg. */
  override configureTrain(
    serverRound: number,
    arrays: ArrayRecord,
    config: ConfigRecord,
    grid: Grid,
  ): Promise<Message[]> {
    this.currentArrays = readFloatArrays(arrays);
    return super.configureTrain(serverRound, arrays, config, grid);
  }

  /**
   * One adaptive step from the FedAvg average: updates `m` and `v` (with `updateV`) and returns
   * `current + stepSize × m / (√v + τ)` (Python `_compute_deltat_and_mt` and the subclasses'
   * update).
   * @throws AggregationError when `configureTrain` was not called or the layouts differ.
   */
  protected adaptiveStep(
    aggregated: ArrayRecord,
    updateV: SecondMomentUpdate,
    stepSize: number,
  ): ArrayRecord {
    const current = this.currentArrays;
    if (current === undefined) throw new AggregationError(MISSING_ARRAYS);
    const avg = readFloatArrays(aggregated);
    checkSameLayout(current, avg);
    const delta = new Map<string, Float64Array>();
    for (const [k, x] of avg) {
      const c = current.get(k)!.values;
      delta.set(
        k,
        x.values.map((v, i) => v - c[i]!),
      );
    }
    const b1 = this.beta1;
    const m = this.mT && this.mT.size > 0 ? this.mT : zerosLike(avg);
    this.mT = new Map(
      [...m].map(([k, v]) => [k, v.map((x, i) => b1 * x + (1 - b1) * delta.get(k)![i]!)]),
    );
    const v0 = this.vT && this.vT.size > 0 ? this.vT : zerosLike(avg);
    this.vT = new Map(
      [...v0].map(([k, v]) => {
        const d = delta.get(k)!;
        return [k, v.map((x, i) => updateV(x, d[i]! * d[i]!))];
      }),
    );
    const out: FloatArrays = new Map();
    for (const [k, x] of current) {
      const mk = this.mT.get(k)!;
      const vk = this.vT.get(k)!;
      out.set(k, {
        dtype: x.dtype,
        shape: x.shape,
        values: x.values.map((c, i) => c + (stepSize * mk[i]!) / (Math.sqrt(vk[i]!) + this.tau)),
      });
    }
    return writeFloatArrays(out);
  }
}

function zerosLike(arrays: FloatArrays): Map<string, Float64Array> {
  return new Map([...arrays].map(([k, a]) => [k, new Float64Array(a.values.length)]));
}
