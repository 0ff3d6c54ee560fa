/**
 * The FedAvg-derived strategies end to end over in-memory ClientApps (start(), Result, log
 * lines), their defaults, and their errors. Equivalence with Python Flower is tested in
 * test/strategy-*-python.test.ts.
 */
import { describe, expect, it } from "vitest";
import { initialModel, linearClientApp, makeData, mse } from "../../test/support/linear-task.js";
import { type Logger, MemoryLogger } from "../app/logger.js";
import { InMemoryGrid } from "../grid/in-memory-grid.js";
import { Message } from "../message/message.js";
import { MessageType } from "../message/message-type.js";
import { NdArray } from "../records/array.js";
import { ArrayRecord } from "../records/array-record.js";
import { ConfigRecord } from "../records/config-record.js";
import { MetricRecord } from "../records/metric-record.js";
import { RecordDict } from "../records/record-dict.js";
import { Bulyan } from "./bulyan.js";
import { AggregationError } from "./errors.js";
import { FedAdagrad } from "./fedadagrad.js";
import { FedAdam } from "./fedadam.js";
import type { FedAvg } from "./fedavg.js";
import { FedAvgM } from "./fedavgm.js";
import { FedMedian } from "./fedmedian.js";
import { FedProx } from "./fedprox.js";
import { FedTrimmedAvg } from "./fedtrimmedavg.js";
import { FedYogi } from "./fedyogi.js";
import { Krum } from "./krum.js";
import { MultiKrum } from "./multikrum.js";
import { pyG } from "./py-format.js";
import { QFedAvg } from "./qfedavg.js";

function gridWith(n: number): InMemoryGrid {
  const grid = new InMemoryGrid({ runId: 1n });
  for (let i = 0; i < n; i++) {
    grid.addNode({
      clientApp: linearClientApp({ logger: new MemoryLogger() }),
      nodeConfig: { "partition-id": BigInt(i) },
    });
  }
  return grid;
}

const makers: [string, (logger: Logger) => FedAvg][] = [
  ["FedAvgM", (logger) => new FedAvgM({ serverMomentum: 0.5, logger })],
  ["FedProx", (logger) => new FedProx({ proximalMu: 0.1, logger })],
  ["FedAdagrad", (logger) => new FedAdagrad({ eta: 0.3, logger })],
  ["FedAdam", (logger) => new FedAdam({ eta: 0.3, logger })],
  ["FedYogi", (logger) => new FedYogi({ eta: 0.3, logger })],
  ["FedMedian", (logger) => new FedMedian({ logger })],
  ["FedTrimmedAvg", (logger) => new FedTrimmedAvg({ logger })],
  ["Krum", (logger) => new Krum({ numMaliciousNodes: 1, logger })],
  ["MultiKrum", (logger) => new MultiKrum({ numNodesToSelect: 3, logger })],
  ["Bulyan", (logger) => new Bulyan({ logger })],
  ["QFedAvg", (logger) => new QFedAvg({ clientLearningRate: 0.3, q: 0.2, logger })],
];

describe("FedAvg-derived strategies", () => {
  const heldOut = makeData(999, 200);
  for (const [name, make] of makers) {
    it(`${name} runs 4 rounds over 5 in-memory ClientApps and lowers the loss`, async () => {
      const logger = new MemoryLogger();
      const result = await make(logger).start({
        grid: gridWith(5),
        initialArrays: initialModel(),
        numRounds: 4,
        trainConfig: new ConfigRecord({ lr: 0.3, epochs: 3n }),
        evaluateFn: (_round, arrays) =>
          new MetricRecord({
            loss: mse(
              arrays.get("w")!.toTypedArray("float32"),
              arrays.get("b")!.toTypedArray("float32")[0]!,
              heldOut,
            ),
          }),
      });
      expect(logger.entries[0]!.message).toBe(`Starting ${name} strategy:`);
      const losses = [0, 4].map(
        (r) => result.evaluateMetricsServerapp.get(r)!.get("loss") as number,
      );
      expect(losses[1]!).toBeLessThan(losses[0]! * 0.5);
      expect(result.arrays.get("w")!.dtype).toBe("float32");
      expect(result.trainMetricsClientapp.size).toBe(4);
    });
  }

  it("FedProx puts proximal-mu in the train config the ClientApps receive", async () => {
    const s = new FedProx({ proximalMu: 0.01, logger: new MemoryLogger() });
    const msgs = await s.configureTrain(1, initialModel(), new ConfigRecord(), gridWith(2));
    expect(msgs[0]!.content.configRecords.get("config")!.get("proximal-mu")).toBe(0.01);
  });

  it("has Flower's defaults", () => {
    const logger = new MemoryLogger();
    const yogi = new FedYogi({ logger });
    expect([yogi.eta, yogi.etaL, yogi.beta1, yogi.beta2, yogi.tau]).toEqual([
      1e-2, 0.0316, 0.9, 0.99, 1e-3,
    ]);
    const adam = new FedAdam({ logger });
    expect([adam.eta, adam.etaL, adam.beta1, adam.beta2, adam.tau]).toEqual([
      0.1, 0.1, 0.9, 0.99, 1e-3,
    ]);
    const ada = new FedAdagrad({ logger });
    expect([ada.beta1, ada.beta2]).toEqual([0, 0]);
    expect(new FedTrimmedAvg({ logger }).beta).toBe(0.2);
    expect(new Krum({ logger }).numNodesToSelect).toBe(1);
    const m = new FedAvgM({ logger });
    expect([m.serverLearningRate, m.serverMomentum, m.serverOpt]).toEqual([1, 0, false]);
    const q = new QFedAvg({ clientLearningRate: 0.1, logger });
    expect([q.q, q.trainLossKey]).toEqual([0.1, "train_loss"]);
    new FedProx({ logger });
    expect(logger.text()).toContain(
      "FedProx initialized with `proximal_mu=0.0`. This makes the strategy equivalent to FedAvg.",
    );
  });

  it("formats %.6g like Python", () => {
    expect([0.1, 1e-3, 0.0316, 0.9, 0, 1234567, 1e-5, 0.5].map((x) => pyG(x))).toEqual([
      "0.1",
      "0.001",
      "0.0316",
      "0.9",
      "0",
      "1.23457e+06",
      "1e-05",
      "0.5",
    ]);
  });
});

function reply(ins: Message, arrays: ArrayRecord, metrics: MetricRecord): Message {
  return new Message(new RecordDict({ arrays, metrics }), { replyTo: ins });
}

describe("strategy errors", () => {
  const arrays = new ArrayRecord({ w: NdArray.fromTypedArray(new Float32Array([1, 2])) });
  const ins = (node: bigint) => new Message(new RecordDict({ arrays }), node, MessageType.TRAIN);

  it("FedAdam before configureTrain raises Flower's AggregationError", async () => {
    const s = new FedAdam({ logger: new MemoryLogger() });
    const r = reply(ins(5n), arrays, new MetricRecord({ "num-examples": 3n }));
    await expect(s.aggregateTrain(1, [r])).rejects.toThrow(AggregationError);
    await expect(s.aggregateTrain(1, [r])).rejects.toThrow(/Current arrays not set/);
  });

  it("FedTrimmedAvg whose beta cuts more than all values raises Flower's AggregationError", async () => {
    const s = new FedTrimmedAvg({ beta: 0.8, logger: new MemoryLogger() });
    const rs = [5n, 6n, 7n].map((n) =>
      reply(ins(n), arrays, new MetricRecord({ "num-examples": 3n })),
    );
    await expect(s.aggregateTrain(1, rs)).rejects.toThrow(
      "Trimmed mean could not be computed. Likely cause: beta=0.8 is too large.",
    );
  });

  it("QFedAvg needs the training loss in every reply", async () => {
    const s = new QFedAvg({ clientLearningRate: 0.1, logger: new MemoryLogger() });
    await s.configureTrain(1, arrays, new ConfigRecord(), gridWith(2));
    const r = reply(ins(5n), arrays, new MetricRecord({ "num-examples": 3n }));
    await expect(s.aggregateTrain(1, [r])).rejects.toThrow(
      /expected a float value for the key 'train_loss'/,
    );
  });
});
