/** `FedProx`: FedAvg that sends a proximal-term weight (Python `flwr.serverapp.strategy.FedProx`). */
import type { Grid } from "../grid/grid.js";
import type { Message } from "../message/message.js";
import type { ArrayRecord } from "../records/array-record.js";
import type { ConfigRecord } from "../records/config-record.js";
import { FedAvg, type FedAvgOptions } from "./fedavg.js";
import { pyFloatRepr } from "./py-format.js";

/** Settings of {@link FedProx}: FedAvg's plus `proximalMu`; defaults are Flower's. */
export interface FedProxOptions extends FedAvgOptions {
  /** Weight μ of the proximal term `μ/2 ‖w − wᵗ‖²` the ClientApps add (default 0.0). */
  proximalMu?: number;
}

/**
 * FedProx (Li et al., 2018): aggregates like FedAvg and puts `proximal-mu` (a float) in every
 * train config; each ClientApp must add the proximal term to its loss.
 */
export class FedProx extends FedAvg {
  /** The proximal term's weight. */
  readonly proximalMu: number;

  /** @param options - see {@link FedProxOptions}. */
  constructor(options: FedProxOptions = {}) {
    super(options);
    this.proximalMu = options.proximalMu ?? 0.0;
    if (this.proximalMu === 0) {
      this.logger.log(
        "WARNING",
        "FedProx initialized with `proximal_mu=0.0`. This makes the strategy equivalent to FedAvg.",
      );
    }
  }

  /** Logs the FedProx settings, then FedAvg's. */
  override summary(): void {
    this.info("\t├──> FedProx settings:");
    this.info(`\t│\t└── Proximal mu: ${pyFloatRepr(this.proximalMu)}`);
    super.summary();
  }

  /** Sets `config["proximal-mu"]`, then configures like FedAvg. */
  override configureTrain(
    serverRound: number,
    arrays: ArrayRecord,
    config: ConfigRecord,
    grid: Grid,
  ): Promise<Message[]> {
    config.set("proximal-mu", this.proximalMu);
    return super.configureTrain(serverRound, arrays, config, grid);
  }
}
