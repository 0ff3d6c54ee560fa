/** `Krum`: the single reply closest to its neighbours (Python `flwr.serverapp.strategy.Krum`). */
import type { FedAvgOptions } from "./fedavg.js";
import { MultiKrum } from "./multikrum.js";

/** Settings of {@link Krum}: FedAvg's plus `numMaliciousNodes` (default 0). */
export interface KrumOptions extends FedAvgOptions {
  /** Number of malicious nodes assumed (default 0). */
  numMaliciousNodes?: number;
}

/** Krum (Blanchard et al., 2017): Multi-Krum selecting one reply. */
export class Krum extends MultiKrum {
  /** @param options - see {@link KrumOptions}. */
  constructor(options: KrumOptions = {}) {
    super({ ...options, numNodesToSelect: 1 });
  }

  /** Logs the Krum settings, then MultiKrum's and FedAvg's (as Flower does). */
  override summary(): void {
    this.info("\t├──> Krum settings:");
    this.info(`\t│\t└── Number of malicious nodes: ${this.numMaliciousNodes}`);
    super.summary();
  }
}
