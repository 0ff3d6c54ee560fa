/**
 * FedXgbBagging against Python Flower 1.29's on the same replies: XGBoost-format JSON boosters
 * (one uint8 array "0" each; floats such as 1.0, 1e-07 and -0.0, non-ASCII feature names,
 * integer-like keys) merged over 3 rounds with a failure — the merged bytes must be identical.
 * And `py-json.ts` against Python's `json.dumps(json.loads(text))` on tricky documents.
 */
import { describe, expect, it } from "vitest";
import { pythonFlwrAvailable, pythonFlwrProblem, runPythonFlwr } from "../../../interop/python.js";
import {
  ArrayRecord,
  FedXgbBagging,
  MetricRecord,
  NdArray,
  pyJsonDumps,
  pyJsonLoads,
} from "../src/index.js";
import { replayPython, replayTs, type Scenario } from "./support/strategy-equivalence.js";

/** A booster with `trees` trees of `parallel` parallel trees, values from `seed`. */
function booster(seed: number, trees: number, parallel = 1): string {
  const tree = (id: number) =>
    `{"base_weights": [${(seed * 0.1).toFixed(3)}, -0.25, 1.0, 1e-07, -0.0], "categories": [], "id": ${id}, ` +
    `"left_children": [1, -1, -1], "loss_changes": [${seed + 0.5}, 0.0, 0.0], ` +
    `"split_conditions": [0.${seed}5, 1E2, -3.5e-3], "split_indices": [${seed % 3}, 0, 0], ` +
    `"tree_param": {"num_deleted": "0", "num_feature": "3", "num_nodes": "3", "size_leaf_vector": "1"}}`;
  const ids = Array.from({ length: trees }, (_, i) => tree(i)).join(", ");
  return (
    `{"learner": {"attributes": {"2": "b", "1": "a", "best_iteration": "${seed}"}, ` +
    `"feature_names": ["höhe", "largeur", "\\u00e9t\\u00e9"], "feature_types": ["float", "float", "int"], ` +
    `"gradient_booster": {"model": {"gbtree_model_param": {"num_parallel_tree": "${parallel}", "num_trees": "${trees}"}, ` +
    `"iteration_indptr": [0, ${trees}], "tree_info": [${Array(trees).fill(0).join(", ")}], "trees": [${ids}]}, "name": "gbtree"}, ` +
    `"learner_model_param": {"base_score": "5E-1", "num_class": "0", "num_feature": "3"}, ` +
    `"objective": {"name": "reg:squarederror", "reg_loss_param": {"scale_pos_weight": "1"}}}, "version": [2, 1, 4]}`
  );
}

const u8 = (text: string) => {
  const bytes = new TextEncoder().encode(text);
  return new ArrayRecord([["0", NdArray.fromTypedArray(bytes, [bytes.length], "uint8")]]);
};

const nodes = [11n, 12n, 13n];
const scenario: Scenario = {
  nodes,
  initial: u8(""),
  rounds: [1, 2, 3].map((r) => ({
    train: nodes.map((node, n) =>
      r === 2 && n === 1
        ? { node, error: "xgboost crashed" }
        : {
            node,
            arrays: u8(booster(r * 3 + n, 1 + ((r + n) % 2), 1)),
            metrics: new MetricRecord([["num-examples", BigInt(10 + n)]]),
          },
    ),
    evaluate: nodes.map((node, n) => ({
      node,
      metrics: new MetricRecord([
        ["num-examples", BigInt(5 + n)],
        ["auc", 0.5 + n * 0.1],
      ]),
    })),
  })),
};

const text = (a: ArrayRecord | undefined) => {
  const arr = a?.get("0")?.toTypedArray("uint8");
  return arr === undefined ? undefined : Buffer.from(arr).toString("utf8");
};

describe.skipIf(!pythonFlwrAvailable)(
  `FedXgbBagging equals Python Flower's, byte for byte ${pythonFlwrProblem ?? ""}`,
  () => {
    it("3 rounds of bagging with a failure: identical merged boosters, logs and metrics", async () => {
      const py = replayPython("FedXgbBagging", {}, scenario);
      const ts = await replayTs((logger) => new FedXgbBagging({ logger }), scenario);
      expect(ts.log).toEqual(py.log);
      for (const [i, round] of ts.rounds.entries()) {
        const ours = text(round.arrays);
        expect(ours?.length, `round ${i + 1}`).toBeGreaterThan(1000);
        expect(ours, `round ${i + 1}`).toBe(text(py.rounds[i]!.arrays));
        expect(round.trainMetrics && [...round.trainMetrics]).toEqual(
          py.rounds[i]!.trainMetrics && [...py.rounds[i]!.trainMetrics],
        );
      }
      // The model grew by every successful reply's trees: 3 rounds, 8 replies.
      const last = pyJsonLoads(text(ts.rounds[2]!.arrays)!) as Map<string, unknown>;
      const model = (
        last.get("learner") as unknown as Map<string, Map<string, Map<string, unknown>>>
      )
        .get("gradient_booster")!
        .get("model")!;
      const trees = model.get("trees") as Map<string, unknown>[];
      expect(trees.map((t) => t.get("id"))).toEqual(trees.map((_, i) => BigInt(i)));
      expect((model.get("gbtree_model_param") as Map<string, string>).get("num_trees")).toBe(
        String(trees.length),
      );
    }, 60_000);

    it("py-json writes what Python's json.dumps(json.loads(text)) writes", () => {
      const docs = [
        booster(7, 2, 2),
        '{"b": 1, "a": [1.0, 2.50, -0.0, 1e400, -1E-7, 123456789012345678901234567890, 0.1, 1e16, 1.5e-5]}',
        '["\\u00e9\\ud83d\\ude00 tab\\t nl\\n quote\\" bs\\\\ slash\\/ del\\u007f", "€", NaN, Infinity, -Infinity, true, false, null, {}, []]',
        '{"k": 1, "k": 2, "0": "x", "10": "y", "-1": "z"}',
        "  [ 1 , -0 , 0.000123 , 12345678901234567.0 ]  ",
      ];
      const script = `
import json, sys
for line in sys.stdin.read().split("\\x00"):
    print(json.dumps(json.loads(line)))`;
      const py = runPythonFlwr("1.29", script, [], docs.join("\0")).trimEnd().split("\n");
      expect(docs.map((d) => pyJsonDumps(pyJsonLoads(d)))).toEqual(py);
    }, 60_000);
  },
);

describe("py-json", () => {
  it("refuses malformed JSON with Python's reasons", () => {
    expect(() => pyJsonLoads('{"a" 1}')).toThrow("Expecting ':' delimiter");
    expect(() => pyJsonLoads("[1, 2")).toThrow("Expecting ',' delimiter");
    expect(() => pyJsonLoads("[1] x")).toThrow("Extra data");
    expect(() => pyJsonLoads('"\\x"')).toThrow("Invalid \\escape");
  });
});
