/** `FedAdagrad`: adaptive federated optimization with Adagrad (Python `FedAdagrad`). */
import type { Message } from "../message/message.js";
import type { ArrayRecord } from "../records/array-record.js";
import type { MetricRecord } from "../records/metric-record.js";
import type { FedAvgOptions } from "./fedavg.js";
import { FedOpt } from "./fedopt.js";

/** Settings of {@link FedAdagrad}; defaults are Flower's (β₁ = β₂ = 0 always). */
export interface FedAdagradOptions extends FedAvgOptions {
  /** Server-side learning rate (default 1e-1). */
  eta?: number;
  /** Client-side learning rate (default 1e-1). */
  etaL?: number;
  /** Degree of adaptability (default 1e-3). */
  tau?: number;
}

/** FedAdagrad (Reddi et al., 2020): `v += Δ²`, `x = current + η m / (√v + τ)`. */
export class FedAdagrad extends FedOpt {
  /** @param options - see {@link FedAdagradOptions}. */
  constructor(options: FedAdagradOptions = {}) {
    super({ ...options, beta1: 0.0, beta2: 0.0 });
  }

  /** Averages like FedAvg, then takes the Adagrad step. */
  override async aggregateTrain(
    serverRound: number,
    replies: readonly Message[],
  ): Promise<[ArrayRecord | undefined, MetricRecord | undefined]> {
    const [aggregated, metrics] = await super.aggregateTrain(serverRound, replies);
    if (aggregated === undefined) return [aggregated, metrics];
    return [this.adaptiveStep(aggregated, (v, d2) => v + d2, this.eta), metrics];
  }
}
