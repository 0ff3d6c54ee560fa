/**
 * The central-DP wrappers with fixed clipping against Python Flower 1.29's on the same replies:
 * server-side clipping and client-side clipping (the norm sent in the train config), with and
 * without failures. Arrays are compared with the noise multiplier 0 (noise is random on both
 * sides); with noise the log lines (which state the deviation) must still be equal, and the added
 * noise has the calibrated deviation.
 */
import { describe, expect, it } from "vitest";
import { pythonFlwrAvailable, pythonFlwrProblem } from "../../../interop/python.js";
import {
  DifferentialPrivacyClientSideAdaptiveClipping,
  DifferentialPrivacyClientSideFixedClipping,
  DifferentialPrivacyServerSideAdaptiveClipping,
  DifferentialPrivacyServerSideFixedClipping,
  type DpAdaptiveClippingOptions,
  type DpFixedClippingOptions,
  FedAvg,
  type Logger,
  MetricRecord,
  type Strategy,
  seededNormalSource,
} from "../src/index.js";
import {
  expectEquivalent,
  type PyKwarg,
  replayPython,
  replayTs,
  type Scenario,
} from "./support/strategy-equivalence.js";
import { describeMax, randomScenario } from "./support/strategy-scenarios.js";

const NODES = 5;
const scenarios: [string, Scenario][] = [
  ["no failures", randomScenario({ seed: 21, nodes: NODES, rounds: 3 })],
  [
    "a failure in round 2",
    randomScenario({ seed: 22, nodes: NODES, rounds: 3, trainFailures: [[2, 1]] }),
  ],
];

type Wrapper = new (strategy: Strategy, options: DpFixedClippingOptions) => Strategy;
const wrappers: [string, Wrapper][] = [
  ["DifferentialPrivacyServerSideFixedClipping", DifferentialPrivacyServerSideFixedClipping],
  ["DifferentialPrivacyClientSideFixedClipping", DifferentialPrivacyClientSideFixedClipping],
];

function pyKwargs(noise: number, norm: number, sampled: number): Record<string, PyKwarg> {
  return {
    strategy: { strategy: "FedAvg", kwargs: {} },
    noise_multiplier: noise,
    clipping_norm: norm,
    num_sampled_clients: BigInt(sampled),
  };
}

function make(W: Wrapper, noise: number, norm: number, sampled: number, seed = 1) {
  return (logger: Logger): Strategy =>
    new W(new FedAvg({ logger }), {
      noiseMultiplier: noise,
      clippingNorm: norm,
      numSampledClients: sampled,
      logger,
      normal: seededNormalSource(seed),
    });
}

describe.skipIf(!pythonFlwrAvailable)(
  `DP fixed-clipping wrappers equal Python Flower's ${pythonFlwrProblem ?? ""}`,
  () => {
    // Clipping in every reply (0.05) without failures, none (100) with a failure: 4 replays
    // (each starts Python, ~4 s).
    for (const [[label, scenario], norm] of [
      [scenarios[0]!, 0.05],
      [scenarios[1]!, 100],
    ] as const) {
      for (const [name, W] of wrappers) {
        it(`${name}, clipping norm ${norm}, no noise, ${label}`, async () => {
          const py = replayPython(name, pyKwargs(0, norm, NODES), scenario);
          const ts = await replayTs(make(W, 0, norm, NODES), scenario);
          const max = expectEquivalent(ts, py);
          console.log(`${name} norm ${norm} ${label}: max |Δ| ${describeMax(max)}`);
        }, 60_000);
      }
    }

    it("with noise: the same log lines (deviation included) and sampled-count warning", async () => {
      const scenario = scenarios[0]![1];
      for (const [name, W] of wrappers) {
        // 4 expected, 5 replying: Flower's discrepancy warning on both sides.
        const py = replayPython(name, pyKwargs(1.3, 0.7, 4), scenario);
        const ts = await replayTs(make(W, 1.3, 0.7, 4), scenario);
        expect(ts.log).toEqual(py.log);
        expect(
          ts.log.some(([, m]) => m === "aggregate_fit: central DP noise with 0.2275 stdev added"),
        ).toBe(true);
        expect(
          ts.log.some(
            ([l, m]) =>
              l === "WARNING" && m.startsWith("The number of clients returning parameters (5)"),
          ),
        ).toBe(true);
      }
    }, 60_000);

    it("the noise has the calibrated deviation and depends on the seed", async () => {
      const scenario = randomScenario({ seed: 23, nodes: NODES, rounds: 1 });
      const plain = await replayTs(
        make(DifferentialPrivacyClientSideFixedClipping, 0, 1, NODES),
        scenario,
      );
      const noisy = await replayTs(
        make(DifferentialPrivacyClientSideFixedClipping, 2, 1, NODES, 7),
        scenario,
      );
      const again = await replayTs(
        make(DifferentialPrivacyClientSideFixedClipping, 2, 1, NODES, 8),
        scenario,
      );
      const diffs: number[] = [];
      for (const [k, a] of plain.rounds[0]!.arrays!) {
        const x = a.toTypedArray();
        const y = noisy.rounds[0]!.arrays!.get(k)!.toTypedArray();
        for (let i = 0; i < x.length; i++) diffs.push(Number(y[i]!) - Number(x[i]!));
      }
      const mean = diffs.reduce((s, d) => s + d, 0) / diffs.length;
      const sd = Math.sqrt(diffs.reduce((s, d) => s + (d - mean) ** 2, 0) / diffs.length);
      // stdv = 2 × 1 / 5 = 0.4 (30 parameters: the estimate is within ±50 % well beyond 3σ;
      // the noise is seeded, so this cannot flake). Deviations at scale: dp-math.test.ts.
      expect(diffs.length).toBe(30);
      expect(Math.abs(mean)).toBeLessThan(0.25);
      expect(sd).toBeGreaterThan(0.2);
      expect(sd).toBeLessThan(0.6);
      const w1 = noisy.rounds[0]!.arrays!.get("fc.bias")!.toTypedArray();
      const w2 = again.rounds[0]!.arrays!.get("fc.bias")!.toTypedArray();
      expect([...w1]).not.toEqual([...w2]);
    }, 60_000);
  },
);

/** `scenario` with a `norm_bit` in every train reply's metrics (1 for odd node indices). */
function withNormBits(scenario: Scenario): Scenario {
  return {
    ...scenario,
    rounds: scenario.rounds.map((r, ri) => ({
      ...r,
      train: r.train.map((reply, n) =>
        reply.metrics === undefined
          ? reply
          : {
              ...reply,
              metrics: new MetricRecord([...reply.metrics, ["norm_bit", BigInt((n + ri) % 2)]]),
            },
      ),
    })),
  };
}

type AdaptiveWrapper = new (strategy: Strategy, options: DpAdaptiveClippingOptions) => Strategy;
const adaptive: [string, AdaptiveWrapper, Scenario][] = [
  [
    "DifferentialPrivacyServerSideAdaptiveClipping",
    DifferentialPrivacyServerSideAdaptiveClipping,
    scenarios[1]![1],
  ],
  [
    "DifferentialPrivacyClientSideAdaptiveClipping",
    DifferentialPrivacyClientSideAdaptiveClipping,
    withNormBits(scenarios[0]![1]),
  ],
];

describe.skipIf(!pythonFlwrAvailable)(
  `DP adaptive-clipping wrappers equal Python Flower's ${pythonFlwrProblem ?? ""}`,
  () => {
    // One setting per wrapper (Flower's defaults for the client side), the norm adapting over
    // 3 rounds.
    for (const [i, [name, W, scenario]] of adaptive.entries()) {
      const [initial, quantile, lr] = i === 0 ? [2.5, 0.8, 0.5] : [0.1, 0.5, 0.2];
      it(`${name}, initial norm ${initial}, quantile ${quantile}, lr ${lr}, no noise`, async () => {
        const py = replayPython(
          name,
          {
            strategy: { strategy: "FedAvg", kwargs: {} },
            noise_multiplier: 0,
            num_sampled_clients: BigInt(NODES),
            initial_clipping_norm: initial,
            target_clipped_quantile: quantile,
            clip_norm_lr: lr,
          },
          scenario,
        );
        const ts = await replayTs(
          (logger) =>
            new W(new FedAvg({ logger }), {
              noiseMultiplier: 0,
              numSampledClients: NODES,
              initialClippingNorm: initial,
              targetClippedQuantile: quantile,
              clipNormLr: lr,
              logger,
            }),
          scenario,
        );
        const max = expectEquivalent(ts, py);
        console.log(`${name} (${initial}, ${quantile}, ${lr}): max |Δ| ${describeMax(max)}`);
      }, 60_000);
    }

    it("with noise: the same adjusted multiplier, warnings and deviations in the log", async () => {
      const [name, W, scenario] = adaptive[1]!;
      const kwargs = {
        strategy: { strategy: "FedAvg", kwargs: {} },
        noise_multiplier: 0.3,
        num_sampled_clients: BigInt(NODES),
        clipped_count_stddev: 0.16,
      };
      const py = replayPython(name, kwargs, scenario);
      const ts = await replayTs(
        (logger) =>
          new W(new FedAvg({ logger }), {
            noiseMultiplier: 0.3,
            numSampledClients: NODES,
            clippedCountStddev: 0.16,
            normal: seededNormalSource(4),
            logger,
          }),
        scenario,
      );
      // The count noise moves the norm on each side differently after round 1: compare the
      // lines that do not depend on it.
      const fixed = (log: [string, string][]) =>
        log.filter(([, m]) => !/stdev added|clipped by value/.test(m));
      expect(fixed(ts.log)).toEqual(fixed(py.log));
      expect(
        ts.log.some(([l, m]) => l === "WARNING" && /significant amount of noise/.test(m)),
      ).toBe(true);
    }, 60_000);

    it("a reply without norm_bit is Flower's AggregationError", async () => {
      const [, W] = adaptive[1]!;
      await expect(
        replayTs(
          (logger) =>
            new W(new FedAvg({ logger }), { noiseMultiplier: 0, numSampledClients: NODES, logger }),
          scenarios[0]![1],
        ),
      ).rejects.toThrow(
        "KEY_NORM_BIT ('norm_bit') not found in MetricRecord or metrics for reply.",
      );
    });
  },
);

describe("DP wrapper options", () => {
  it("refuses out-of-range options with Flower's messages", () => {
    const inner = new FedAvg();
    const base = { noiseMultiplier: 1, clippingNorm: 1, numSampledClients: 2 };
    expect(
      () => new DifferentialPrivacyServerSideFixedClipping(inner, { ...base, noiseMultiplier: -1 }),
    ).toThrow("The noise multiplier should be a non-negative value.");
    expect(
      () => new DifferentialPrivacyServerSideFixedClipping(inner, { ...base, clippingNorm: 0 }),
    ).toThrow("The clipping norm should be a positive value.");
    expect(
      () =>
        new DifferentialPrivacyClientSideFixedClipping(inner, { ...base, numSampledClients: 0 }),
    ).toThrow("The number of sampled clients should be a positive value.");
    const adaptiveBase = { noiseMultiplier: 0, numSampledClients: 2 };
    for (const [extra, message] of [
      [{ initialClippingNorm: 0 }, "The initial clipping norm should be a positive value."],
      [{ targetClippedQuantile: 1.5 }, "The target clipped quantile must be in [0, 1]."],
      [{ clipNormLr: 0 }, "The learning rate must be positive."],
      [{ clippedCountStddev: -1 }, "The `clipped_count_stddev` must be non-negative."],
    ] as const)
      expect(
        () =>
          new DifferentialPrivacyServerSideAdaptiveClipping(inner, { ...adaptiveBase, ...extra }),
      ).toThrow(message);
    expect(
      () =>
        new DifferentialPrivacyClientSideAdaptiveClipping(inner, {
          noiseMultiplier: 1,
          numSampledClients: 10,
        }),
    ).toThrow(/is too low to achieve the desired effective `noise_multiplier` \(1.0\)/);
    expect(String(new DifferentialPrivacyServerSideFixedClipping(inner, base))).toBe(
      "Differential Privacy Strategy Wrapper (Server-Side Fixed Clipping)",
    );
  });
});
