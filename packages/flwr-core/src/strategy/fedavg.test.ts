import { describe, expect, it } from "vitest";
import { initialModel, linearClientApp, makeData, mse } from "../../test/support/linear-task.js";
import { MemoryLogger } from "../app/logger.js";
import { InMemoryGrid } from "../grid/in-memory-grid.js";
import { ConfigRecord } from "../records/config-record.js";
import { MetricRecord } from "../records/metric-record.js";
import { FedAvg } from "./fedavg.js";

function gridWith(n: number, failTrainOn: number[] = []): InMemoryGrid {
  const grid = new InMemoryGrid({ runId: 1n });
  for (let i = 0; i < n; i++) {
    grid.addNode({
      clientApp: linearClientApp({ failTrainOn, logger: new MemoryLogger() }),
      nodeConfig: { "partition-id": BigInt(i) },
    });
  }
  return grid;
}

describe("FedAvg", () => {
  it("has Flower's defaults", () => {
    const s = new FedAvg({ logger: new MemoryLogger() });
    expect([
      s.fractionTrain,
      s.fractionEvaluate,
      s.minTrainNodes,
      s.minEvaluateNodes,
      s.minAvailableNodes,
    ]).toEqual([1, 1, 2, 2, 2]);
    expect([s.weightedByKey, s.arrayrecordKey, s.configrecordKey]).toEqual([
      "num-examples",
      "arrays",
      "config",
    ]);
  });

  it("trains a linear model over 3 in-memory ClientApps: the loss falls", async () => {
    const logger = new MemoryLogger();
    const heldOut = makeData(999, 200);
    const strategy = new FedAvg({ logger });
    const result = await strategy.start({
      grid: gridWith(3),
      initialArrays: initialModel(),
      numRounds: 6,
      trainConfig: new ConfigRecord({ lr: 0.3, epochs: 5n }),
      evaluateFn: (round, arrays) =>
        new MetricRecord({
          round: BigInt(round),
          loss: mse(
            arrays.get("w")!.toTypedArray("float32"),
            arrays.get("b")!.toTypedArray("float32")[0]!,
            heldOut,
          ),
        }),
    });
    const evalLosses = [1, 2, 3, 4, 5, 6].map(
      (r) => result.evaluateMetricsClientapp.get(r)!.get("eval_loss") as number,
    );
    for (let i = 1; i < evalLosses.length; i++)
      expect(evalLosses[i]!).toBeLessThan(evalLosses[i - 1]!);
    const central = [0, 1, 2, 3, 4, 5, 6].map(
      (r) => result.evaluateMetricsServerapp.get(r)!.get("loss") as number,
    );
    expect(central[6]!).toBeLessThan(central[0]! * 0.01);
    const w = result.arrays.get("w")!.toTypedArray("float32");
    expect(w[0]).toBeCloseTo(2, 1);
    expect(w[1]).toBeCloseTo(-3, 1);
    expect(result.arrays.get("b")!.dtype).toBe("float32");
    // metrics carry the server round that FedAvg injected into the config
    expect(result.trainMetricsClientapp.get(3)!.get("server_round")).toBeCloseTo(3, 12);
    expect(result.trainMetricsClientapp.get(1)!.has("num-examples")).toBe(false);

    const text = logger.lines.join("\n");
    expect(logger.lines[0]).toBe("INFO :      Starting FedAvg strategy:");
    for (const line of [
      "INFO :      \t├── Number of rounds: 6",
      "INFO :      \t├── ConfigRecord (train): {'lr': 0.3, 'epochs': 5}",
      "INFO :      \t├── ConfigRecord (evaluate): (empty!)",
      "INFO :      \t│\t├──Fraction: train (1.00) | evaluate ( 1.00)",
      "INFO :      \t\t├── Weighted by: 'num-examples'",
      "INFO :      [ROUND 1/6]",
      "INFO :      [ROUND 6/6]",
      "INFO :      configure_train: Sampled 3 nodes (out of 3)",
      "INFO :      aggregate_train: Received 3 results and 0 failures",
      "INFO :      configure_evaluate: Sampled 3 nodes (out of 3)",
      "INFO :      aggregate_evaluate: Received 3 results and 0 failures",
      "INFO :      Global evaluation",
      "INFO :      Final results:",
      "INFO :      \tAggregated ClientApp-side Train Metrics:",
    ]) {
      expect(logger.lines).toContain(line);
    }
    expect(text).toMatch(
      /└──> Aggregated MetricRecord: \{'train_loss': [\d.e-]+, 'server_round': [\d.]+\}/,
    );
    expect(text).toMatch(/Strategy execution finished in \d+\.\d\ds/);
  });

  it("counts a throwing ClientApp as a failure and aggregates the rest", async () => {
    const logger = new MemoryLogger();
    const grid = gridWith(3, [1]);
    const result = await new FedAvg({ logger }).start({
      grid,
      initialArrays: initialModel(),
      numRounds: 1,
    });
    expect(logger.lines).toContain(
      "INFO :      aggregate_train: Received 2 results and 1 failures",
    );
    expect(logger.lines).toContain(
      "INFO :      aggregate_evaluate: Received 3 results and 0 failures",
    );
    expect(logger.text()).toMatch(
      /> Received error in reply from node \d+: <class 'Error'>:<'node 1 is broken'>/,
    );
    // the average is over partitions 0 (40 examples) and 2 (100 examples) only
    expect(result.trainMetricsClientapp.get(1)!.get("train_loss")).toBeTypeOf("number");
    expect(result.arrays.size).toBe(2);
  });

  it("keeps the previous arrays when every train reply fails", async () => {
    const logger = new MemoryLogger();
    const initial = initialModel();
    const result = await new FedAvg({ logger }).start({
      grid: gridWith(2, [0, 1]),
      initialArrays: initial,
      numRounds: 2,
    });
    expect(result.trainMetricsClientapp.size).toBe(0);
    expect(result.arrays.size).toBe(0); // Flower's Result keeps an empty ArrayRecord then
    expect(result.evaluateMetricsClientapp.get(2)!.get("eval_loss")).toBeGreaterThan(0);
  });

  it("samples max(floor(n × fraction), min) nodes and skips a phase with fraction 0", async () => {
    const logger = new MemoryLogger();
    await new FedAvg({ logger, fractionTrain: 0.5, fractionEvaluate: 0 }).start({
      grid: gridWith(3),
      initialArrays: initialModel(),
      numRounds: 1,
    });
    expect(logger.lines).toContain("INFO :      configure_train: Sampled 2 nodes (out of 3)");
    expect(logger.text()).not.toContain("configure_evaluate");
    expect(logger.lines).toContain(
      "WARNING :   fraction_evaluate is set to 0.0. Federated evaluation will be skipped.",
    );
  });

  it("waits for the minimum number of nodes before sampling", async () => {
    const logger = new MemoryLogger();
    const grid = gridWith(1);
    const run = new FedAvg({ logger, nodePollIntervalMs: 2 }).start({
      grid,
      initialArrays: initialModel(),
      numRounds: 1,
    });
    await new Promise((r) => setTimeout(r, 10));
    grid.addNode({ clientApp: linearClientApp(), nodeConfig: { "partition-id": 1n } });
    await run;
    expect(logger.lines).toContain(
      "INFO :      Waiting for nodes to connect: 1 connected (minimum required: 2).",
    );
    expect(logger.lines).toContain(
      "INFO :      aggregate_train: Received 2 results and 0 failures",
    );
  });

  it("validates its settings", () => {
    expect(() => new FedAvg({ fractionTrain: 1.5 })).toThrow(RangeError);
    expect(() => new FedAvg({ minTrainNodes: -1 })).toThrow(RangeError);
  });
});
