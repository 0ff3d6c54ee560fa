import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigRecord, type Grid, Message, MessageType, RecordDict } from "@flwr-ts/core";
import { afterEach, describe, expect, it } from "vitest";
import { SimulationEngine } from "./simulation-engine.js";

const appDir = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "test",
  "fixtures",
  "sim-app",
);

let engine: SimulationEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

function start(numSupernodes: number, workers: number, clientappTimeoutS?: number) {
  return SimulationEngine.start({
    appDir,
    clientApp: { module: "client_app.ts", exportName: "app" },
    runId: 7n,
    runConfig: {},
    numSupernodes,
    workers,
    ...(clientappTimeoutS !== undefined ? { clientappTimeoutS } : {}),
  });
}

function train(dst: bigint, config: Record<string, bigint> = {}, round = "1"): Message {
  return new Message(new RecordDict({ config: new ConfigRecord(config) }), dst, MessageType.TRAIN, {
    groupId: round,
  });
}

async function round(grid: Grid, nodes: bigint[], config: Record<string, bigint> = {}) {
  return grid.sendAndReceive(nodes.map((n) => train(n, config)));
}

describe("SimulationEngine", () => {
  it("runs only the sampled nodes, with partition ids, and keeps their Context between rounds", async () => {
    engine = await start(1000, 2);
    const ids = await engine.getNodeIds();
    expect(ids).toHaveLength(1000);
    expect(new Set(ids).size).toBe(1000);
    const sampled = ids.slice(10, 20);
    const first = await round(engine, sampled);
    expect(first).toHaveLength(10);
    const second = await round(engine, sampled);
    for (const reply of second) {
      const m = reply.content.metricRecords.get("metrics")!;
      expect(m.get("count")).toBe(2n);
      expect(m.get("num-partitions")).toBe(1000n);
      expect(m.get("partition-id")).toBe(BigInt(engine.partitionIdOf(reply.metadata.srcNodeId)!));
    }
    expect(new Set(second.map((r) => r.metadata.srcNodeId))).toEqual(new Set(sampled));
    expect(engine.storedContexts).toBe(10);
    expect(engine.stateOf(ids[0]!)).toBeUndefined();
    expect(engine.stateOf(sampled[0]!)?.metricRecords.get("calls")?.get("count")).toBe(2n);
  });

  it("turns a throwing, crashing or hanging ClientApp into an error reply and goes on", async () => {
    engine = await start(6, 2, 1.5);
    const ids = await engine.getNodeIds();
    const pid = (n: bigint) => BigInt(engine!.partitionIdOf(n)!);
    const replies = await round(engine, ids, {
      "throw-partition": pid(ids[0]!),
      "hang-partition": pid(ids[1]!),
      "exit-partition": pid(ids[2]!),
    });
    expect(replies).toHaveLength(6);
    const bySrc = new Map(replies.map((r) => [r.metadata.srcNodeId, r]));
    expect(bySrc.get(ids[0]!)!.error?.reason).toContain(
      "partition 0 fails".replace("0", String(pid(ids[0]!))),
    );
    expect(bySrc.get(ids[1]!)!.error?.reason).toContain("time budget");
    expect(bySrc.get(ids[2]!)!.error?.code).toBe(8n);
    for (const n of ids.slice(3)) expect(bySrc.get(n)!.hasContent()).toBe(true);
    // The pool replaced the threads it ended: the next round still runs everywhere.
    const again = await round(engine, ids);
    expect(again.filter((r) => r.hasContent())).toHaveLength(6);
  });

  it("cancels what is left when sendAndReceive's timeout passes", async () => {
    engine = await start(3, 1);
    const ids = await engine.getNodeIds();
    const pid = BigInt(engine.partitionIdOf(ids[0]!)!);
    const replies = await engine.sendAndReceive(
      ids.map((n) => train(n, { "hang-partition": pid })),
      { timeout: 1 },
    );
    expect(replies.length).toBeLessThan(3);
    const after = await round(engine, ids);
    expect(after.filter((r) => r.hasContent())).toHaveLength(3);
  });
});
