/**
 * FedXgbBagging (Flower's `flwr/serverapp/strategy/fedxgb_bagging.py` and `aggregate_bagging`
 * in `strategy_utils.py`): XGBoost bagging. The global model is an XGBoost booster in its JSON
 * form, carried as one uint8 array (key `"0"`) in the ArrayRecord, as Flower's XGBoost example
 * sends it; every node trains trees on its data, and the server appends each reply's new trees
 * to the global booster (`num_trees`, `iteration_indptr`, tree ids and `tree_info` updated).
 * The merged bytes equal Python Flower's byte for byte (`py-json.ts` reads and writes JSON as
 * Python's `json` module does), so Python and TypeScript nodes and servers can share one model.
 * No XGBoost is needed on the server: the merge only edits the JSON.
 */

import type { Grid } from "../grid/grid.js";
import type { Message } from "../message/message.js";
import { NdArray } from "../records/array.js";
import { ArrayRecord } from "../records/array-record.js";
import type { ConfigRecord } from "../records/config-record.js";
import type { MetricRecord } from "../records/metric-record.js";
import { AggregationError, InconsistentMessageRepliesError } from "./errors.js";
import { FedAvg } from "./fedavg.js";
import { type PyJson, pyJsonDumps, pyJsonLoads } from "./py-json.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

function field(value: PyJson | undefined, key: string, path: string): PyJson {
  if (!(value instanceof Map) || !value.has(key))
    throw new AggregationError(`XGBoost model JSON has no ${path}${key}`);
  return value.get(key)!;
}

/** `learner.gradient_booster.model` of a booster. */
function modelOf(booster: PyJson): Map<string, PyJson> {
  const learner = field(booster, "learner", "");
  const gb = field(learner, "gradient_booster", "learner.");
  const model = field(gb, "model", "learner.gradient_booster.");
  if (!(model instanceof Map))
    throw new AggregationError("XGBoost model JSON: model is not an object");
  return model;
}

/** `num_trees` and `num_parallel_tree` of a booster (Flower's `_get_tree_nums`). */
function treeNums(model: Map<string, PyJson>): [number, number] {
  const p = field(model, "gbtree_model_param", "model.");
  const count = (key: string) => {
    const n = Number(field(p, key, "gbtree_model_param."));
    if (!Number.isInteger(n) || n < 0)
      throw new AggregationError(`XGBoost model JSON: ${key} is not a count`);
    return n;
  };
  return [count("num_trees"), count("num_parallel_tree")];
}

function list(model: Map<string, PyJson>, key: string): PyJson[] {
  const v = field(model, key, "model.");
  if (!Array.isArray(v)) throw new AggregationError(`XGBoost model JSON: ${key} is not a list`);
  return v;
}

/**
 * Appends the new trees of booster `current` to booster `previous` (Flower's
 * `aggregate_bagging`); an empty `previous` (the first round) gives `current` unchanged.
 * @throws AggregationError when either is not an XGBoost JSON booster.
 */
export function aggregateBagging(previous: Uint8Array, current: Uint8Array): Uint8Array {
  if (previous.length === 0) return current;
  let prev: PyJson;
  let curr: PyJson;
  try {
    prev = pyJsonLoads(utf8.decode(previous));
    curr = pyJsonLoads(utf8.decode(current));
  } catch (error) {
    throw new AggregationError(`XGBoost model is not JSON: ${(error as Error).message}`);
  }
  const prevModel = modelOf(prev);
  const currModel = modelOf(curr);
  const [treeNumPrev] = treeNums(prevModel);
  const [, parallelCurr] = treeNums(currModel);
  (field(prevModel, "gbtree_model_param", "model.") as Map<string, PyJson>).set(
    "num_trees",
    String(treeNumPrev + parallelCurr),
  );
  const indptr = list(prevModel, "iteration_indptr");
  const last = indptr.at(-1);
  if (typeof last !== "bigint")
    throw new AggregationError("XGBoost model JSON: iteration_indptr does not end in an int");
  indptr.push(last + BigInt(parallelCurr));
  const trees = list(prevModel, "trees");
  const treeInfo = list(prevModel, "tree_info");
  const newTrees = list(currModel, "trees");
  for (let k = 0; k < parallelCurr; k++) {
    const tree = newTrees[k];
    if (!(tree instanceof Map))
      throw new AggregationError(`XGBoost model JSON: tree ${k} is missing`);
    tree.set("id", BigInt(treeNumPrev + k));
    trees.push(tree);
    treeInfo.push(0n);
  }
  return new TextEncoder().encode(pyJsonDumps(prev));
}

function ensureSingleArray(arrays: ArrayRecord): void {
  if (arrays.size !== 1)
    throw new InconsistentMessageRepliesError(
      "Expected exactly one Array in ArrayRecord. Skipping aggregation.",
    );
}

function boosterBytes(arrays: ArrayRecord): Uint8Array {
  const a = arrays.get("0");
  if (a === undefined) throw new AggregationError("the ArrayRecord has no array '0' (the booster)");
  const typed = a.toTypedArray();
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

/**
 * XGBoost bagging over FedAvg's sampling and metric aggregation (Flower's `FedXgbBagging`,
 * same options as {@link FedAvg}).
 */
export class FedXgbBagging extends FedAvg {
  private currentBst: Uint8Array | undefined;

  /** Remembers the global booster sent this round, then FedAvg's configure_train. */
  override configureTrain(
    serverRound: number,
    arrays: ArrayRecord,
    config: ConfigRecord,
    grid: Grid,
  ): Promise<Message[]> {
    ensureSingleArray(arrays);
    this.currentBst = boosterBytes(arrays);
    return super.configureTrain(serverRound, arrays, config, grid);
  }

  /** Appends every reply's trees to the global booster; metrics as FedAvg. */
  override async aggregateTrain(
    _serverRound: number,
    replies: readonly Message[],
  ): Promise<[ArrayRecord | undefined, MetricRecord | undefined]> {
    const valid = this.checkAndLogReplies(replies, true);
    if (valid.length === 0) return [undefined, undefined];
    const contents = valid.map((m) => m.content);
    const key = [...contents[0]!.arrayRecords.keys()][0];
    for (const content of contents) {
      const record = key === undefined ? undefined : content.arrayRecords.get(key);
      if (record === undefined) throw new AggregationError("a reply has no ArrayRecord");
      ensureSingleArray(record);
      const bst = boosterBytes(record);
      if (this.currentBst !== undefined) this.currentBst = aggregateBagging(this.currentBst, bst);
    }
    const arrays =
      this.currentBst === undefined
        ? undefined
        : new ArrayRecord([
            ["0", NdArray.fromTypedArray(this.currentBst, [this.currentBst.length], "uint8")],
          ]);
    return [arrays, this.trainMetricsAggrFn(contents, this.weightedByKey)];
  }
}
