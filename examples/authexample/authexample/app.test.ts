/**
 * The example's ServerApp and ClientApp together, in process (`simulate`): two nodes on small
 * synthetic partitions, FedAvg for two rounds, the final model saved as a NumPy archive with
 * PyTorch `state_dict` keys; and the ClientApp's errors for a missing node config.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ArrayRecord,
  ConfigRecord,
  Context,
  consoleLogger,
  MemoryLogger,
  Message,
  MessageType,
  NdArray,
  RecordDict,
  readZip,
  simulate,
} from "@flwr-ts/core";
import { NET_PARAMETERS, prepareCifar10 } from "@flwr-ts/ml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { app as clientApp } from "./client_app.js";
import type { RunMetrics } from "./final-model.js";
import { app as serverApp } from "./server_app.js";
import { netToArrays, newNet, simulationData } from "./task.js";

let dir: string;
const cwd = process.cwd();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "authexample-"));
  await prepareCifar10({
    outDir: join(dir, "datasets"),
    numPartitions: 2,
    source: { kind: "synthetic", count: 400 },
    log: null,
  });
  process.chdir(dir);
});

afterAll(() => {
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});

const runConfig = {
  "num-server-rounds": 2n,
  "fraction-evaluate": 0.5,
  "local-epochs": 1n,
  "learning-rate": 0.02,
  "batch-size": 32n,
};

describe("authexample", () => {
  it("runs FedAvg on two nodes and saves the final model and metrics", async () => {
    await simulate({
      serverApp,
      clientApp,
      numSupernodes: 2,
      nodeConfigs: (i) => ({ "dataset-path": join(dir, "datasets", `cifar10_part_${i + 1}`) }),
      runConfig,
      runId: 42n,
    });
    const out = join(dir, "outputs", "run-42");
    const metrics = JSON.parse(readFileSync(join(out, "metrics.json"), "utf8")) as RunMetrics;
    expect(metrics.runId).toBe("42");
    expect(metrics.rounds.map((r) => r.round)).toEqual([1, 2]);
    for (const r of metrics.rounds) {
      expect(Number.isFinite(r.train?.["train_loss"])).toBe(true);
      expect(Number.isFinite(r.evaluate?.["eval_loss"])).toBe(true);
      const acc = r.evaluate?.["eval_acc"] as number;
      expect(acc).toBeGreaterThanOrEqual(0);
      expect(acc).toBeLessThanOrEqual(1);
    }
    // final_model.npz: one .npy per state_dict key, with PyTorch shapes
    const entries = readZip(new Uint8Array(readFileSync(join(out, "final_model.npz"))));
    expect(entries.map((e) => e.name)).toEqual(NET_PARAMETERS.map(([k]) => `${k}.npy`));
    for (const [i, [, shape]] of NET_PARAMETERS.entries()) {
      const array = NdArray.fromNpy(entries[i]!.data);
      expect(array.dtype).toBe("float32");
      expect(array.shape).toEqual(shape);
      expect(Array.from(array.toTypedArray("float32")).every(Number.isFinite)).toBe(true);
    }
  }, 120_000);

  it.each([
    ["fedprox", "FedProx"],
    ["krum", "Krum"],
    ["dp-fixed", "DifferentialPrivacyServerSideFixedClipping"],
  ])(
    "the strategy switch: strategy=%j runs %s",
    async (name, cls) => {
      const logger = new MemoryLogger();
      const saved = consoleLogger.log;
      consoleLogger.log = (level, message) => logger.log(level, message);
      try {
        await simulate({
          serverApp,
          clientApp,
          numSupernodes: 2,
          nodeConfigs: (i) => ({ "dataset-path": join(dir, "datasets", `cifar10_part_${i + 1}`) }),
          runConfig: { ...runConfig, "num-server-rounds": 1n, strategy: name },
          runId: 43n,
        });
      } finally {
        consoleLogger.log = saved;
      }
      expect(logger.text()).toContain(`Starting ${cls} strategy:`);
      const metrics = JSON.parse(
        readFileSync(join(dir, "outputs", "run-43", "metrics.json"), "utf8"),
      ) as RunMetrics;
      expect(Number.isFinite(metrics.rounds[0]?.train?.["train_loss"])).toBe(true);
    },
    120_000,
  );

  it("an unknown strategy name fails the run with the choices", async () => {
    await expect(
      simulate({
        serverApp,
        clientApp,
        numSupernodes: 2,
        nodeConfigs: (i) => ({ "dataset-path": join(dir, "datasets", `cifar10_part_${i + 1}`) }),
        runConfig: { ...runConfig, strategy: "fedbest" },
        runId: 44n,
      }),
    ).rejects.toThrow(/unknown strategy "fedbest"; choose one of fedavg, fedavgm, fedprox/);
  }, 60_000);

  it("trains on the node's partition and replies with arrays and Flower's metric keys", async () => {
    const net = await newNet();
    const arrays = netToArrays(net);
    net.dispose();
    const content = new RecordDict({ arrays, config: new ConfigRecord({ lr: 0.02 }) });
    const msg = new Message(content, 1n, MessageType.TRAIN);
    const context = new Context({
      runId: 1n,
      nodeId: 1n,
      nodeConfig: { "dataset-path": join(dir, "datasets", "cifar10_part_1") },
      runConfig,
    });
    const reply = await clientApp.call(msg, context);
    const replyArrays = reply.content.get("arrays");
    expect(replyArrays).toBeInstanceOf(ArrayRecord);
    expect([...(replyArrays as ArrayRecord).keys()]).toEqual(NET_PARAMETERS.map(([k]) => k));
    const metrics = reply.content.get("metrics");
    expect([...(metrics as Map<string, unknown>).keys()]).toEqual(["train_loss", "num-examples"]);
    expect((metrics as Map<string, unknown>).get("num-examples")).toBe(160n);
  }, 60_000);

  it("a virtual SuperNode (partition-id, no dataset-path) trains on its synthetic partition", async () => {
    const net = await newNet();
    const arrays = netToArrays(net);
    net.dispose();
    const msg = new Message(new RecordDict({ arrays }), 1n, MessageType.TRAIN);
    const context = new Context({
      runId: 1n,
      nodeId: 7n,
      nodeConfig: { "partition-id": 3n, "num-partitions": 100n },
      runConfig: { ...runConfig, "simulation-partition-size": 50n },
    });
    const reply = await clientApp.call(msg, context);
    const metrics = reply.content.get("metrics") as Map<string, unknown>;
    expect(metrics.get("num-examples")).toBe(40n); // 50 images, 20 % held out
    // each partition is its own draw, and the same one every round
    const a = simulationData(3, 50);
    expect(simulationData(3, 50).train.pixels).toEqual(a.train.pixels);
    expect(simulationData(4, 50).train.pixels).not.toEqual(a.train.pixels);
    await expect(
      clientApp.call(
        msg,
        new Context({ runId: 1n, nodeId: 7n, nodeConfig: { "partition-id": -1n }, runConfig }),
      ),
    ).rejects.toThrow(/the node config: "partition-id" must be a non-negative integer, got -1/);
  }, 60_000);

  it("says how to set dataset-path when the node config lacks it", async () => {
    const net = await newNet();
    const arrays = netToArrays(net);
    net.dispose();
    const msg = new Message(new RecordDict({ arrays }), 1n, MessageType.EVALUATE);
    const context = new Context({ runId: 1n, nodeId: 1n, nodeConfig: {}, runConfig });
    await expect(clientApp.call(msg, context)).rejects.toThrow(
      /node config has no "dataset-path".*--node-config/,
    );
  });
});
