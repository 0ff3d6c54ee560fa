/**
 * FedAvgM, FedProx, FedOpt, FedAdagrad, FedAdam, FedYogi and QFedAvg against Python Flower 1.29's on
 * the same replies, over 3 rounds (momentum and moments carried between rounds).
 */
import { describe, expect, it } from "vitest";
import { pythonFlwrAvailable, pythonFlwrProblem } from "../../../interop/python.js";
import {
  FedAdagrad,
  FedAdam,
  FedAvg,
  FedAvgM,
  FedOpt,
  FedProx,
  FedYogi,
  type Logger,
  QFedAvg,
  type Strategy,
} from "../src/index.js";
import {
  expectEquivalent,
  type PyKwarg,
  replayPython,
  replayTs,
} from "./support/strategy-equivalence.js";
import { describeMax, randomScenario } from "./support/strategy-scenarios.js";

const scenario = randomScenario({
  seed: 15,
  nodes: 5,
  rounds: 3,
  trainFailures: [[1, 2]],
  evaluateFailures: [[2, 0]],
});

const cases: [string, Record<string, PyKwarg>, (logger: Logger) => Strategy][] = [
  ["FedAvg", {}, (logger) => new FedAvg({ logger })],
  [
    "FedAvgM",
    { server_learning_rate: 0.7, server_momentum: 0.9 },
    (logger) => new FedAvgM({ serverLearningRate: 0.7, serverMomentum: 0.9, logger }),
  ],
  [
    "FedAvgM",
    { server_learning_rate: 1.5 },
    (logger) => new FedAvgM({ serverLearningRate: 1.5, logger }),
  ],
  ["FedProx", { proximal_mu: 0.25 }, (logger) => new FedProx({ proximalMu: 0.25, logger })],
  ["fedopt.FedOpt", { eta: 0.3 }, (logger) => new FedOpt({ eta: 0.3, logger })],
  ["FedAdagrad", {}, (logger) => new FedAdagrad({ logger })],
  [
    "FedAdagrad",
    { eta: 0.5, tau: 0.01 },
    (logger) => new FedAdagrad({ eta: 0.5, tau: 0.01, logger }),
  ],
  ["FedAdam", {}, (logger) => new FedAdam({ logger })],
  [
    "FedAdam",
    { eta: 0.05, beta_1: 0.5, beta_2: 0.9, tau: 1e-2 },
    (logger) => new FedAdam({ eta: 0.05, beta1: 0.5, beta2: 0.9, tau: 1e-2, logger }),
  ],
  ["FedYogi", {}, (logger) => new FedYogi({ logger })],
  [
    "QFedAvg",
    { client_learning_rate: 0.1, train_loss_key: "loss" },
    (logger) => new QFedAvg({ clientLearningRate: 0.1, trainLossKey: "loss", logger }),
  ],
  [
    "QFedAvg",
    { client_learning_rate: 0.05, q: 2.0, train_loss_key: "loss" },
    (logger) => new QFedAvg({ clientLearningRate: 0.05, q: 2, trainLossKey: "loss", logger }),
  ],
  [
    "FedYogi",
    { eta: 0.1, beta_1: 0.8, beta_2: 0.95 },
    (logger) => new FedYogi({ eta: 0.1, beta1: 0.8, beta2: 0.95, logger }),
  ],
];

describe.skipIf(!pythonFlwrAvailable)(
  `server optimizers equal Python Flower's ${pythonFlwrProblem ?? ""}`,
  () => {
    for (const [name, kwargs, make] of cases) {
      it(`${name}(${JSON.stringify(kwargs)}): 3 rounds, failures included`, async () => {
        const py = replayPython(name, kwargs, scenario);
        const ts = await replayTs(make, scenario);
        const max = expectEquivalent(ts, py, {
          pythonPromotesFloat32: name === "FedAdam" || name === "QFedAvg",
        });
        console.log(`${name} ${JSON.stringify(kwargs)}: max |Δ| ${describeMax(max)}`);
      }, 60_000);
    }

    it("FedProx sends proximal-mu as a float in the train config", async () => {
      const ts = await replayTs((logger) => new FedProx({ proximalMu: 1, logger }), scenario);
      const py = replayPython("FedProx", { proximal_mu: 1.0 }, scenario);
      expect(ts.rounds[0]!.trainConfig).toEqual([
        ["proximal-mu", "f", 1],
        ["server-round", "i", "1"],
      ]);
      expectEquivalent(ts, py);
    }, 60_000);

    it("detects a perturbed reply (the comparison can fail)", async () => {
      const py = replayPython("FedAdam", {}, scenario);
      const perturbed = randomScenario({
        seed: 15,
        nodes: 5,
        rounds: 3,
        trainFailures: [[1, 2]],
        evaluateFailures: [[2, 0]],
        override: (r, n, name, i) =>
          r === 2 && n === 3 && name === "conv.bias" && i === 1 ? 0.123 : undefined,
      });
      const ts = await replayTs((logger) => new FedAdam({ logger }), perturbed);
      expect(() => expectEquivalent(ts, py, { pythonPromotesFloat32: true })).toThrow();
    }, 60_000);
  },
);
