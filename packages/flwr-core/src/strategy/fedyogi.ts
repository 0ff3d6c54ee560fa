/** `FedYogi`: adaptive federated optimization with Yogi (Python `FedYogi`). */
import type { Message } from "../message/message.js";
import type { ArrayRecord } from "../records/array-record.js";
import type { MetricRecord } from "../records/metric-record.js";
import { FedOpt, type FedOptOptions } from "./fedopt.js";

/** Settings of {@link FedYogi}; defaults are Flower's: η 1e-2, η_l 0.0316, β₁ 0.9, β₂ 0.99, τ 1e-3. */
export type FedYogiOptions = FedOptOptions;

/** FedYogi (Reddi et al., 2020): `v = v − (1−β₂)Δ² sign(v − Δ²)`, `x = current + η m / (√v + τ)`. */
export class FedYogi extends FedOpt {
  /** @param options - see {@link FedYogiOptions}. */
  constructor(options: FedYogiOptions = {}) {
    super({
      ...options,
      eta: options.eta ?? 1e-2,
      etaL: options.etaL ?? 0.0316,
      beta1: options.beta1 ?? 0.9,
      beta2: options.beta2 ?? 0.99,
    });
  }

  /** Averages like FedAvg, then takes the Yogi step. */
  override async aggregateTrain(
    serverRound: number,
    replies: readonly Message[],
  ): Promise<[ArrayRecord | undefined, MetricRecord | undefined]> {
    const [aggregated, metrics] = await super.aggregateTrain(serverRound, replies);
    if (aggregated === undefined) return [aggregated, metrics];
    const b2 = this.beta2;
    return [
      this.adaptiveStep(aggregated, (v, d2) => v - (1 - b2) * d2 * Math.sign(v - d2), this.eta),
      metrics,
    ];
  }
}
