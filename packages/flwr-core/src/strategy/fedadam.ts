/** `FedAdam`: adaptive federated optimization with Adam (Python `FedAdam`). */
import type { Message } from "../message/message.js";
import type { ArrayRecord } from "../records/array-record.js";
import type { MetricRecord } from "../records/metric-record.js";
import { FedOpt, type FedOptOptions } from "./fedopt.js";

/** Settings of {@link FedAdam}; defaults are Flower's: η 1e-1, η_l 1e-1, β₁ 0.9, β₂ 0.99, τ 1e-3. */
export type FedAdamOptions = FedOptOptions;

/**
 * FedAdam (Reddi et al., 2020): `v = β₂v + (1−β₂)Δ²` and a bias-corrected step
 * `η √(1−β₂^(r+1)) / (1−β₁^(r+1))` in round `r`, as Flower computes it.
 */
export class FedAdam extends FedOpt {
  /** @param options - see {@link FedAdamOptions}. */
  constructor(options: FedAdamOptions = {}) {
    super({ ...options, beta1: options.beta1 ?? 0.9, beta2: options.beta2 ?? 0.99 });
  }

  /** Averages like FedAvg, then takes the Adam step. */
  override async aggregateTrain(
    serverRound: number,
    replies: readonly Message[],
  ): Promise<[ArrayRecord | undefined, MetricRecord | undefined]> {
    const [aggregated, metrics] = await super.aggregateTrain(serverRound, replies);
    if (aggregated === undefined) return [aggregated, metrics];
    const b2 = this.beta2;
    const etaNorm =
      (this.eta * Math.sqrt(1 - b2 ** (serverRound + 1))) / (1 - this.beta1 ** (serverRound + 1));
    return [this.adaptiveStep(aggregated, (v, d2) => b2 * v + (1 - b2) * d2, etaNorm), metrics];
  }
}
