/**
 * Equivalence harness for strategies: the same scripted replies go through a flwr-ts strategy
 * and through Python Flower 1.29's (`strategy_replay.py`, driven with its own configure_* and
 * aggregate_* on Message objects), and the per-round outcomes are compared.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { runPythonFlwr } from "../../../../interop/python.js";
import {
  ArrayRecord,
  ConfigRecord,
  type Grid,
  type Logger,
  MemoryLogger,
  Message,
  MessageError,
  MetricRecord,
  NdArray,
  RecordDict,
  type Strategy,
} from "../../src/index.js";

/** One node's scripted reply: content (arrays and metrics) or an error. */
export interface ScriptedReply {
  /** The replying node. */
  node: bigint;
  /** An error reason: the reply carries a MessageError instead of content. */
  error?: string;
  /** The reply's ArrayRecord (train replies). */
  arrays?: ArrayRecord;
  /** The reply's MetricRecord. */
  metrics?: MetricRecord;
}

/** The replies of one round. */
export interface RoundScript {
  /** Train replies. */
  train: ScriptedReply[];
  /** Evaluate replies. */
  evaluate: ScriptedReply[];
}

/** A replay: connected nodes, the initial global arrays and the rounds' replies. */
export interface Scenario {
  /** Connected node ids. */
  nodes: bigint[];
  /** The initial global arrays. */
  initial: ArrayRecord;
  /** One entry per round. */
  rounds: RoundScript[];
}

/** What a strategy produced in one round. */
export interface RoundOutcome {
  /** `aggregate_train`'s arrays. */
  arrays: ArrayRecord | undefined;
  /** `aggregate_train`'s metrics. */
  trainMetrics: MetricRecord | undefined;
  /** `aggregate_evaluate`'s metrics. */
  evaluateMetrics: MetricRecord | undefined;
  /** The train config after `configure_train` (what the strategy sent). */
  trainConfig: [string, string, unknown][];
}

/**
 * A Grid that only lists the scenario's nodes: the harness calls configure/aggregate itself,
 * so sending through it is an error.
 */
export class NodeListGrid implements Grid {
  /** Run id (unused by strategies). */
  readonly runId = 1n;
  /** @param nodes - the connected node ids. */
  constructor(private readonly nodes: readonly bigint[]) {}
  /** The scenario's nodes. */
  async getNodeIds(): Promise<bigint[]> {
    return [...this.nodes];
  }
  /** Not part of a replay. */
  pushMessages(): Promise<string[]> {
    throw new Error("NodeListGrid does not send: the replay builds replies itself");
  }
  /** Not part of a replay. */
  pullMessages(): Promise<Message[]> {
    throw new Error("NodeListGrid does not receive: the replay builds replies itself");
  }
  /** Not part of a replay. */
  sendAndReceive(): Promise<Message[]> {
    throw new Error("NodeListGrid does not send: the replay builds replies itself");
  }
}

function replies(messages: readonly Message[], script: readonly ScriptedReply[]): Message[] {
  return script.map((r) => {
    const ins = messages.find((m) => m.metadata.dstNodeId === r.node);
    if (ins === undefined) throw new Error(`node ${r.node} was not sampled`);
    if (r.error !== undefined) return new Message(new MessageError(0n, r.error), { replyTo: ins });
    const content = new RecordDict();
    if (r.arrays) content.set("arrays", r.arrays);
    content.set("metrics", r.metrics ?? new MetricRecord());
    return new Message(content, { replyTo: ins });
  });
}

function tagged(record: MetricRecord | ConfigRecord): [string, string, unknown][] {
  return [...record].map(([k, v]) => {
    if (typeof v === "bigint") return [k, "i", v.toString()];
    if (typeof v === "number") return [k, "f", v];
    if (Array.isArray(v) && v.every((x) => typeof x === "bigint")) {
      return [k, "il", v.map((x) => String(x))];
    }
    if (Array.isArray(v) && v.every((x) => typeof x === "number")) return [k, "fl", v];
    return [k, "other", String(v)];
  });
}

/** A replay's per-round outcomes and its log lines (`[level, message]`). */
export interface Replay {
  /** One entry per round. */
  rounds: RoundOutcome[];
  /** Every log line: the constructor's warnings, `summary()`, then the rounds'. */
  log: [string, string][];
}

/**
 * Runs a flwr-ts strategy over the scenario, round by round, after its `summary()`.
 * @param make - builds the strategy with the logger the replay reads.
 */
export async function replayTs(
  make: (logger: Logger) => Strategy,
  scenario: Scenario,
): Promise<Replay> {
  const logger = new MemoryLogger();
  const strategy = make(logger);
  strategy.summary();
  const grid = new NodeListGrid(scenario.nodes);
  let arrays = scenario.initial;
  const out: RoundOutcome[] = [];
  for (let i = 0; i < scenario.rounds.length; i++) {
    const round = i + 1;
    const rnd = scenario.rounds[i]!;
    const trainConfig = new ConfigRecord();
    const trainMsgs = await strategy.configureTrain(round, arrays, trainConfig, grid);
    const [newArrays, trainMetrics] = await strategy.aggregateTrain(
      round,
      replies(trainMsgs, rnd.train),
    );
    if (newArrays !== undefined) arrays = newArrays;
    const evalMsgs = await strategy.configureEvaluate(round, arrays, new ConfigRecord(), grid);
    const evaluateMetrics = await strategy.aggregateEvaluate(
      round,
      replies(evalMsgs, rnd.evaluate),
    );
    out.push({
      arrays: newArrays,
      trainMetrics,
      evaluateMetrics,
      trainConfig: tagged(trainConfig),
    });
  }
  return {
    rounds: out,
    log: logger.entries.map((e): [string, string] => [e.level, e.message]),
  };
}

const b64 = (a: NdArray) => Buffer.from(a.data).toString("base64");

function recordFromTagged(entries: [string, string, unknown][]): MetricRecord {
  return new MetricRecord(
    entries.map(([k, t, v]): [string, bigint | number | bigint[] | number[]] => {
      if (t === "i") return [k, BigInt(v as string)];
      if (t === "f") return [k, v as number];
      if (t === "il") return [k, (v as string[]).map((x) => BigInt(x))];
      return [k, v as number[]];
    }),
  );
}

const script = readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), "strategy_replay.py"),
  "utf8",
);

/**
 * A Python keyword argument: a `bigint` is sent as an int, a `number` as a float; a
 * {@link PyStrategyArg} is built in Python as that strategy (for wrappers such as the DP ones).
 */
export type PyKwarg = bigint | number | string | boolean | PyStrategyArg;

/** A strategy passed as an argument: `name(**kwargs)` of `flwr.serverapp.strategy`. */
export interface PyStrategyArg {
  readonly strategy: string;
  readonly kwargs: Record<string, PyKwarg>;
}

function taggedKwargs(kwargs: Record<string, PyKwarg>): [string, string, unknown][] {
  return Object.entries(kwargs).map(([k, v]) =>
    typeof v === "bigint"
      ? [k, "i", v.toString()]
      : typeof v === "number"
        ? [k, "f", v]
        : typeof v === "object"
          ? [k, "strategy", [v.strategy, taggedKwargs(v.kwargs)]]
          : [k, "other", v],
  );
}

/**
 * Runs Python Flower 1.29's strategy `name(**kwargs)` over the same scenario.
 * @param name - a class of `flwr.serverapp.strategy`, or `"module.Class"` inside it.
 * @param kwargs - Python keyword arguments (snake_case).
 */
export function replayPython(
  name: string,
  kwargs: Record<string, PyKwarg>,
  scenario: Scenario,
): Replay {
  const reply = (r: ScriptedReply) =>
    r.error !== undefined
      ? { node: r.node.toString(), error: r.error }
      : {
          node: r.node.toString(),
          ...(r.arrays ? { arrays: [...r.arrays].map(([k, a]) => [k, b64(a)]) } : {}),
          metrics: tagged(r.metrics ?? new MetricRecord()),
        };
  const input = JSON.stringify({
    strategy: name,
    kwargs: taggedKwargs(kwargs),
    nodes: scenario.nodes.map(String),
    initial: [...scenario.initial].map(([k, a]) => [k, b64(a)]),
    rounds: scenario.rounds.map((r) => ({
      train: r.train.map(reply),
      evaluate: r.evaluate.map(reply),
    })),
  });
  const parsed = JSON.parse(runPythonFlwr("1.29", script, [], input)) as {
    rounds: {
      arrays: [string, string, string][] | null;
      trainMetrics: [string, string, unknown][] | null;
      evaluateMetrics: [string, string, unknown][] | null;
      trainConfig: [string, string, unknown][];
    }[];
    log: [string, string][];
  };
  const rounds = parsed.rounds.map((r) => ({
    arrays:
      r.arrays === null
        ? undefined
        : new ArrayRecord(
            r.arrays.map(([k, , data]): [string, NdArray] => [
              k,
              NdArray.fromNpy(new Uint8Array(Buffer.from(data, "base64"))),
            ]),
          ),
    trainMetrics: r.trainMetrics === null ? undefined : recordFromTagged(r.trainMetrics),
    evaluateMetrics: r.evaluateMetrics === null ? undefined : recordFromTagged(r.evaluateMetrics),
    trainConfig: r.trainConfig,
  }));
  return { rounds, log: parsed.log.map(([l, m]) => [l === "WARN" ? "WARNING" : l, m]) };
}

/** Largest absolute element difference between two ArrayRecords of the same names and sizes. */
export function maxArrayDifference(a: ArrayRecord, b: ArrayRecord): number {
  expect([...a.keys()]).toEqual([...b.keys()]);
  let max = 0;
  for (const [k, x] of a) {
    const y = b.get(k)!;
    expect(x.shape).toEqual(y.shape);
    const xs = x.toTypedArray() as Float64Array;
    const ys = y.toTypedArray() as Float64Array;
    expect(xs.length).toBe(ys.length);
    for (let i = 0; i < xs.length; i++) {
      const d = Math.abs(Number(xs[i]!) - Number(ys[i]!));
      max = Math.max(max, Number.isNaN(d) ? Number.POSITIVE_INFINITY : d);
    }
  }
  return max;
}

/** Options of {@link expectEquivalent}. */
export interface EquivalenceOptions {
  /**
   * Python returns float64 where flwr-ts keeps float32 (numpy 2 promotes a float32 array
   * times an `np.float64` scalar, as FedAdam and QFedAvg compute); otherwise dtypes must match.
   */
  pythonPromotesFloat32?: boolean;
}

/**
 * Asserts that flwr-ts and Python agree: the same log lines (level and text), arrays within 1e-5 for float32 arrays and 1e-6
 * otherwise, metrics and train configs exactly (keys, order, int/float kind and value).
 * @returns the largest array difference seen, by the flwr-ts array's dtype (for the README
 *   table and commit messages).
 */
export function expectEquivalent(
  tsReplay: Replay,
  pyReplay: Replay,
  options: EquivalenceOptions = {},
): Record<string, number> {
  expect(tsReplay.log.length, "log lines").toBeGreaterThan(10);
  expect(tsReplay.log, "log lines").toEqual(pyReplay.log);
  const ts = tsReplay.rounds;
  const py = pyReplay.rounds;
  expect(ts.length).toBe(py.length);
  const max: Record<string, number> = {};
  ts.forEach((t, i) => {
    const p = py[i]!;
    expect(t.arrays === undefined, `round ${i + 1}: arrays presence`).toBe(p.arrays === undefined);
    if (t.arrays && p.arrays) {
      for (const [k, a] of t.arrays) {
        const d = maxArrayDifference(
          new ArrayRecord([[k, a]]),
          new ArrayRecord([[k, p.arrays.get(k)!]]),
        );
        const pyDtype = p.arrays.get(k)!.dtype;
        const expected =
          options.pythonPromotesFloat32 && a.dtype === "float32" ? "float64" : a.dtype;
        expect(pyDtype, `round ${i + 1}, array '${k}' dtype`).toBe(expected);
        const tol = a.dtype === "float32" || pyDtype === "float32" ? 1e-5 : 1e-6;
        expect(d, `round ${i + 1}, array '${k}' (${a.dtype})`).toBeLessThanOrEqual(tol);
        max[a.dtype] = Math.max(max[a.dtype] ?? 0, d);
      }
      expect([...t.arrays.keys()]).toEqual([...p.arrays.keys()]);
    }
    expect(t.trainMetrics && tagged(t.trainMetrics), `round ${i + 1} train metrics`).toEqual(
      p.trainMetrics && tagged(p.trainMetrics),
    );
    expect(t.evaluateMetrics && tagged(t.evaluateMetrics), `round ${i + 1} eval metrics`).toEqual(
      p.evaluateMetrics && tagged(p.evaluateMetrics),
    );
    expect(t.trainConfig, `round ${i + 1} train config`).toEqual(p.trainConfig);
  });
  return max;
}
