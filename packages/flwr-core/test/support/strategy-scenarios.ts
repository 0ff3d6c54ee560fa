/**
 * Seeded reply scenarios for the strategy equivalence tests: several nodes, float32 and
 * float64 arrays (several per record), int and float metrics (scalars and lists) and failures.
 */
import { ArrayRecord, MetricRecord, NdArray } from "../../src/index.js";
import type { RoundScript, Scenario, ScriptedReply } from "./strategy-equivalence.js";

/** A seeded uniform [0, 1) generator (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The array layout of every scenario: name → [dtype, shape]. */
export const LAYOUT: [string, "float32" | "float64", number[]][] = [
  ["conv.weight", "float32", [3, 4]],
  ["conv.bias", "float64", [4]],
  ["fc.weight", "float32", [2, 2, 3]],
  ["fc.bias", "float64", [2]],
];

/** Arrays of {@link LAYOUT} with elements from `value(name, index)`. */
export function layoutArrays(value: (name: string, index: number) => number): ArrayRecord {
  return new ArrayRecord(
    LAYOUT.map(([name, dtype, shape]): [string, NdArray] => {
      const n = shape.reduce((x, y) => x * y, 1);
      const v = Array.from({ length: n }, (_, i) => value(name, i));
      const typed = dtype === "float32" ? Float32Array.from(v) : Float64Array.from(v);
      return [name, NdArray.fromTypedArray(typed, shape, dtype)];
    }),
  );
}

/** Options of {@link randomScenario}. */
export interface ScenarioOptions {
  /** Seed of the generator. */
  seed: number;
  /** Number of nodes (default 5). */
  nodes?: number;
  /** Number of rounds (default 3). */
  rounds?: number;
  /** `(round, nodeIndex)` pairs whose train reply is an error. */
  trainFailures?: [number, number][];
  /** `(round, nodeIndex)` pairs whose evaluate reply is an error. */
  evaluateFailures?: [number, number][];
  /** Overrides a node's array element (adversarial inputs): undefined keeps the random one. */
  override?: (round: number, node: number, name: string, index: number) => number | undefined;
  /** `[from, to]` node index pairs: `to`'s train reply repeats `from`'s (arrays and metrics). */
  duplicates?: [number, number][];
}

/**
 * A scenario with random replies around 0 (scale ~1), node ids 1000+i, num-examples 10..99
 * (ints), a float `loss`, an int `steps` and a float list `per-class` in train metrics and
 * `eval-loss` / `accuracy` in evaluate metrics.
 */
export function randomScenario(options: ScenarioOptions): Scenario {
  const rnd = seeded(options.seed);
  const numNodes = options.nodes ?? 5;
  const nodes = Array.from({ length: numNodes }, (_, i) => BigInt(1000 + i * 7));
  const failsTrain = new Set((options.trainFailures ?? []).map(([r, n]) => `${r}:${n}`));
  const failsEval = new Set((options.evaluateFailures ?? []).map(([r, n]) => `${r}:${n}`));
  const rounds: RoundScript[] = [];
  for (let r = 1; r <= (options.rounds ?? 3); r++) {
    const train: ScriptedReply[] = nodes.map((node, n) => {
      if (failsTrain.has(`${r}:${n}`)) return { node, error: `node ${n} ran out of memory` };
      return {
        node,
        arrays: layoutArrays(
          (name, i) => options.override?.(r, n, name, i) ?? (rnd() * 2 - 1) * (1 + n * 0.25),
        ),
        metrics: new MetricRecord([
          ["num-examples", BigInt(10 + Math.floor(rnd() * 90))],
          ["loss", rnd() * 3],
          ["steps", BigInt(1 + Math.floor(rnd() * 50))],
          ["per-class", [rnd(), rnd(), rnd()]],
        ]),
      };
    });
    for (const [from, to] of options.duplicates ?? []) {
      const src = train[from]!;
      train[to] = { ...src, node: nodes[to]! };
    }
    const evaluate: ScriptedReply[] = nodes.map((node, n) => {
      if (failsEval.has(`${r}:${n}`)) return { node, error: "evaluation crashed" };
      return {
        node,
        metrics: new MetricRecord([
          ["num-examples", BigInt(5 + Math.floor(rnd() * 40))],
          ["eval-loss", rnd() * 2],
          ["accuracy", rnd()],
        ]),
      };
    });
    rounds.push({ train, evaluate });
  }
  return { nodes, initial: layoutArrays(() => rnd() * 2 - 1), rounds };
}

/** `float32 1.2e-7, float64 0.0e+0` for a test's log line. */
export function describeMax(max: Record<string, number>): string {
  return Object.entries(max)
    .map(([dtype, d]) => `${dtype} ${d.toExponential(1)}`)
    .join(", ");
}
