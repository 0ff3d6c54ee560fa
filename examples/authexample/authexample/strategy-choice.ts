/**
 * The `strategy` run-config switch: any of Flower's strategies by its lower-case name, with
 * Flower's defaults, on the seed's CNN — `flwr run . --run-config 'strategy="fedprox"'`.
 * Strategy-specific values come from optional run-config keys (`proximal-mu`, `server-momentum`,
 * `server-learning-rate`, `num-malicious-nodes`, `trim-beta`, `q`); `dp-fixed` and
 * `dp-adaptive` wrap FedAvg in Flower's central-DP wrappers with server-side clipping
 * (`noise-multiplier`, `clipping-norm`).
 */
import {
  Bulyan,
  type ConfigRecord,
  DifferentialPrivacyServerSideAdaptiveClipping,
  DifferentialPrivacyServerSideFixedClipping,
  FedAdagrad,
  FedAdam,
  FedAvg,
  FedAvgM,
  type FedAvgOptions,
  FedMedian,
  FedProx,
  FedTrimmedAvg,
  FedYogi,
  Krum,
  MultiKrum,
  QFedAvg,
  type Strategy,
  type UserConfig,
} from "@flwr-ts/core";
import { ConfigValueError, numberIn, positiveInt } from "./config-values.js";

type Source = UserConfig | ConfigRecord;

function has(config: Source, key: string): boolean {
  return (config instanceof Map ? config.get(key) : config[key]) !== undefined;
}

/** `key` as a number in [min, max] when set, else `fallback`. */
function optionalNumber(config: Source, key: string, min: number, max: number, fallback: number) {
  return has(config, key) ? numberIn(config, key, min, max) : fallback;
}

function optionalInt(config: Source, key: string, fallback: number): number {
  return has(config, key) ? positiveInt(config, key) : fallback;
}

type Make = (config: Source, base: FedAvgOptions, sampled: number) => Strategy;

/** Every choice, by the name `strategy` takes. */
export const STRATEGIES: Readonly<Record<string, Make>> = {
  fedavg: (_c, base) => new FedAvg(base),
  fedavgm: (c, base) =>
    new FedAvgM({
      ...base,
      serverLearningRate: optionalNumber(c, "server-learning-rate", 1e-9, 10, 1),
      serverMomentum: optionalNumber(c, "server-momentum", 0, 1, 0.9),
    }),
  fedprox: (c, base) =>
    new FedProx({ ...base, proximalMu: optionalNumber(c, "proximal-mu", 0, 100, 0.1) }),
  fedadagrad: (_c, base) => new FedAdagrad(base),
  fedadam: (_c, base) => new FedAdam(base),
  fedyogi: (_c, base) => new FedYogi(base),
  fedmedian: (_c, base) => new FedMedian(base),
  fedtrimmedavg: (c, base) =>
    new FedTrimmedAvg({ ...base, beta: optionalNumber(c, "trim-beta", 0, 0.49, 0.2) }),
  krum: (c, base) =>
    new Krum({ ...base, numMaliciousNodes: optionalInt(c, "num-malicious-nodes", 0) }),
  multikrum: (c, base) =>
    new MultiKrum({ ...base, numMaliciousNodes: optionalInt(c, "num-malicious-nodes", 0) }),
  bulyan: (c, base) =>
    new Bulyan({ ...base, numMaliciousNodes: optionalInt(c, "num-malicious-nodes", 0) }),
  qfedavg: (c, base) =>
    new QFedAvg({
      ...base,
      clientLearningRate: numberIn(c, "learning-rate", 1e-9, 10),
      q: optionalNumber(c, "q", 0, 100, 0.1),
    }),
  "dp-fixed": (c, base, sampled) =>
    new DifferentialPrivacyServerSideFixedClipping(new FedAvg(base), {
      noiseMultiplier: optionalNumber(c, "noise-multiplier", 0, 100, 0.1),
      clippingNorm: optionalNumber(c, "clipping-norm", 1e-9, 1e9, 10),
      numSampledClients: sampled,
    }),
  "dp-adaptive": (c, base, sampled) =>
    new DifferentialPrivacyServerSideAdaptiveClipping(new FedAvg(base), {
      noiseMultiplier: optionalNumber(c, "noise-multiplier", 0, 100, 0),
      numSampledClients: sampled,
      initialClippingNorm: optionalNumber(c, "clipping-norm", 1e-9, 1e9, 10),
    }),
};

/**
 * The strategy the run config's `strategy` names (default `fedavg`).
 * @param sampled - nodes sampled per training round (the DP wrappers calibrate for it).
 * @throws ConfigValueError naming the choices for an unknown name.
 */
export function chooseStrategy(config: Source, base: FedAvgOptions, sampled: number): Strategy {
  const raw = config instanceof Map ? config.get("strategy") : config["strategy"];
  const name = raw === undefined ? "fedavg" : String(raw).toLowerCase();
  const make = STRATEGIES[name];
  if (typeof raw !== "string" && raw !== undefined)
    throw new ConfigValueError("strategy", `"strategy" must be a string, e.g. strategy="fedprox"`);
  if (make === undefined)
    throw new ConfigValueError(
      "strategy",
      `unknown strategy "${String(raw)}"; choose one of ${Object.keys(STRATEGIES).join(", ")}`,
    );
  return make(config, base, sampled);
}
