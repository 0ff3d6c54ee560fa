import { describe, expect, it } from "vitest";
import { initialModel, linearClientApp } from "../../test/support/linear-task.js";
import { MemoryLogger } from "../app/logger.js";
import { ServerApp } from "../app/server-app.js";
import { ConfigRecord } from "../records/config-record.js";
import { FedAvg } from "../strategy/fedavg.js";
import type { Result } from "../strategy/result.js";
import { simulate } from "./simulate.js";

describe("simulate", () => {
  it("runs a ServerApp with FedAvg against N simulated SuperNodes", async () => {
    const serverApp = new ServerApp();
    let result: Result | undefined;
    serverApp.main()(async (grid, context) => {
      const rounds = Number(context.runConfig["num-server-rounds"]);
      result = await new FedAvg({ logger: new MemoryLogger() }).start({
        grid,
        initialArrays: initialModel(),
        numRounds: rounds,
        trainConfig: new ConfigRecord({ lr: context.runConfig["learning-rate"] as number }),
      });
    });
    const { grid, context } = await simulate({
      serverApp,
      clientApp: linearClientApp(),
      numSupernodes: 3,
      nodeConfigs: (i) => ({ "dataset-path": `datasets/part_${i}` }),
      runConfig: { "num-server-rounds": 2n, "learning-rate": 0.2 },
    });
    expect(result!.trainMetricsClientapp.size).toBe(2);
    expect(context.nodeId).toBe(1n);
    const ids = await grid.getNodeIds();
    expect(ids).toHaveLength(3);
    const configs = ids.map((id) => grid.contextOf(id).nodeConfig);
    expect(configs.map((c) => c["partition-id"])).toEqual([0n, 1n, 2n]);
    expect(configs.every((c) => c["num-partitions"] === 3n)).toBe(true);
    expect(configs[2]!["dataset-path"]).toBe("datasets/part_2");
    expect(grid.contextOf(ids[0]!).runConfig["learning-rate"]).toBe(0.2);
  });

  it("validates its arguments", async () => {
    const serverApp = new ServerApp();
    serverApp.main()(() => {});
    await expect(
      simulate({ serverApp, clientApp: linearClientApp(), numSupernodes: 0 }),
    ).rejects.toThrow(RangeError);
    await expect(
      simulate({ serverApp, clientApp: linearClientApp(), numSupernodes: 2, nodeConfigs: [{}] }),
    ).rejects.toThrow(/one config per node/);
  });
});
