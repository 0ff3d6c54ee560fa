/**
 * FedMedian, FedTrimmedAvg, Krum, MultiKrum and Bulyan against Python Flower 1.29's on the
 * same replies: random replies with failures, then adversarial ones (outliers, duplicated
 * replies that tie).
 */
import { describe, expect, it } from "vitest";
import { pythonFlwrAvailable, pythonFlwrProblem } from "../../../interop/python.js";
import {
  Bulyan,
  FedMedian,
  FedTrimmedAvg,
  Krum,
  type Logger,
  MultiKrum,
  type Strategy,
} from "../src/index.js";
import {
  expectEquivalent,
  type PyKwarg,
  replayPython,
  replayTs,
  type Scenario,
} from "./support/strategy-equivalence.js";
import { describeMax, randomScenario } from "./support/strategy-scenarios.js";

/** Nodes 0 and 1 send values ~±50 (outliers); nodes 2 and 3 send identical replies (ties). */
function adversarial(seed: number, nodes: number): Scenario {
  return randomScenario({
    seed,
    nodes,
    rounds: 2,
    trainFailures: [[2, nodes - 1]],
    override: (r, n, _name, i) => (n < 2 ? (n === 0 ? 50 : -40) + r + i * 0.5 : undefined),
    duplicates: [[2, 3]],
  });
}

const scenarios: [string, Scenario][] = [
  [
    "random, failures",
    randomScenario({ seed: 7, nodes: 9, trainFailures: [[1, 4]], evaluateFailures: [[3, 1]] }),
  ],
  ["outliers and ties", adversarial(8, 9)],
];

type Case = [string, Record<string, PyKwarg>, (logger: Logger) => Strategy];
const cases: Case[] = [
  ["FedMedian", {}, (logger) => new FedMedian({ logger })],
  ["FedTrimmedAvg", {}, (logger) => new FedTrimmedAvg({ logger })],
  ["FedTrimmedAvg", { beta: 0.3 }, (logger) => new FedTrimmedAvg({ beta: 0.3, logger })],
  ["Krum", {}, (logger) => new Krum({ logger })],
  ["Krum", { num_malicious_nodes: 2n }, (logger) => new Krum({ numMaliciousNodes: 2, logger })],
  [
    "MultiKrum",
    { num_malicious_nodes: 2n, num_nodes_to_select: 3n },
    (logger) => new MultiKrum({ numMaliciousNodes: 2, numNodesToSelect: 3, logger }),
  ],
  ["Bulyan", {}, (logger) => new Bulyan({ logger })],
  ["Bulyan", { num_malicious_nodes: 1n }, (logger) => new Bulyan({ numMaliciousNodes: 1, logger })],
];

describe.skipIf(!pythonFlwrAvailable)(
  `robust aggregators equal Python Flower's ${pythonFlwrProblem ?? ""}`,
  () => {
    for (const [label, scenario] of scenarios) {
      for (const [name, kwargs, make] of cases) {
        it(`${name}(${JSON.stringify(kwargs, (_, v) => (typeof v === "bigint" ? Number(v) : v))}), ${label}`, async () => {
          const py = replayPython(name, kwargs, scenario);
          const ts = await replayTs(make, scenario);
          const max = expectEquivalent(ts, py);
          console.log(`${name} ${label}: max |Δ| ${describeMax(max)}`);
        }, 60_000);
      }
    }

    it("robust aggregators resist the outliers that move FedAvg", async () => {
      const scenario = adversarial(8, 9);
      const ts = await replayTs((logger) => new Krum({ numMaliciousNodes: 2, logger }), scenario);
      const w = ts.rounds[0]!.arrays!.get("conv.weight")!.toTypedArray("float32");
      for (const x of w) expect(Math.abs(x)).toBeLessThan(5);
    }, 60_000);

    it("Bulyan with too few replies logs Flower's warning and aggregates nothing", async () => {
      const scenario = randomScenario({ seed: 3, nodes: 6, rounds: 1, trainFailures: [[1, 0]] });
      const py = replayPython("Bulyan", { num_malicious_nodes: 1n }, scenario);
      const ts = await replayTs((logger) => new Bulyan({ numMaliciousNodes: 1, logger }), scenario);
      expect(ts.rounds[0]!.arrays).toBeUndefined();
      expectEquivalent(ts, py);
    }, 60_000);

    it("detects a perturbed reply (the comparison can fail)", async () => {
      const base = { seed: 7, nodes: 9, trainFailures: [[1, 4]] as [number, number][] };
      const py = replayPython("FedTrimmedAvg", { beta: 0.0 }, randomScenario(base));
      const perturbed = randomScenario({
        ...base,
        override: (r, n, name, i) =>
          r === 3 && n === 5 && name === "fc.bias" && i === 0 ? 0.5 : undefined,
      });
      const ts = await replayTs((logger) => new FedTrimmedAvg({ beta: 0, logger }), perturbed);
      expect(() => expectEquivalent(ts, py)).toThrow();
    }, 60_000);
  },
);
