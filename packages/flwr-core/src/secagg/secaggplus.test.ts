/**
 * SecAgg+ end to end in one process: flwr-ts ClientApps with `secAggPlusMod` on an InMemoryGrid
 * (messages pass through Flower's object format), driven by `SecAggPlusWorkflow`. The securely
 * aggregated update must equal the plain weighted average within the quantisation error, also
 * when a node drops after sharing its keys.
 */
import { describe, expect, it } from "vitest";
import { ClientApp } from "../app/client-app.js";
import { MemoryLogger } from "../app/logger.js";
import type { Mod } from "../app/mod.js";
import { secAggPlusMod } from "../app/mods/secaggplus-mod.js";
import { InMemoryGrid } from "../grid/in-memory-grid.js";
import { Message } from "../message/message.js";
import { NdArray } from "../records/array.js";
import { SECAGGPLUS_CONFIGS_RECORD, SecAggPlusStage } from "./constants.js";
import { arrayToFloat64, legacyFitResRecordDict, readLegacyFitIns } from "./legacy-fit.js";
import { SecAggPlusHaltedError, SecAggPlusWorkflow } from "./secaggplus-workflow.js";

/** Node i's update: the global parameters plus (i + 1) · 0.01 · (index + 1), and weight 10·(i+1). */
function nodeApp(i: number, drop?: string): ClientApp {
  const mods: Mod[] = [];
  if (drop !== undefined) {
    mods.push((msg, ctx, next) => {
      const stage = msg.content.configRecords.get(SECAGGPLUS_CONFIGS_RECORD)?.get("stage");
      if (stage === drop) throw new Error(`node ${i} drops at ${drop}`);
      return next(msg, ctx);
    });
  }
  mods.push(secAggPlusMod);
  const app = new ClientApp({ mods, logger: new MemoryLogger() });
  app.train()((msg) => {
    const ins = readLegacyFitIns(msg.content);
    const parameters = ins.parameters.map((a) => {
      const v = arrayToFloat64(a).map((x, j) => x + (i + 1) * 0.01 * (j + 1));
      return NdArray.fromTypedArray(Float32Array.from(v), a.shape);
    });
    return new Message(
      legacyFitResRecordDict({
        parameters,
        numExamples: 10 * (i + 1),
        metrics: { node: BigInt(i) },
      }),
      {
        replyTo: msg,
      },
    );
  });
  return app;
}

const globalParams = [
  NdArray.fromTypedArray(
    Float32Array.from({ length: 6 }, (_, j) => 0.5 - j * 0.1),
    [2, 3],
  ),
  NdArray.fromTypedArray(Float32Array.of(-1.5), []),
];

/**
 * Quantisation error bound: each node's rounding error is below one step 2c/T in the weighted
 * space, and the sum is divided by Σw / max_weight (defaults c = 8, T = 2^22, max_weight 1000).
 */
function tolerance(nodes: number[]): number {
  const total = nodes.reduce((s, i) => s + 10 * (i + 1), 0);
  return (nodes.length * (16 / 2 ** 22)) / (total / 1000);
}

function expected(nodes: number[]): Float64Array[] {
  const total = nodes.reduce((s, i) => s + 10 * (i + 1), 0);
  return globalParams.map((a) => {
    const base = arrayToFloat64(a);
    return base.map((x, j) =>
      nodes.reduce(
        (s, i) => s + (10 * (i + 1) * Math.fround(x + (i + 1) * 0.01 * (j + 1))) / total,
        0,
      ),
    );
  });
}

async function run(
  n: number,
  dropIndex?: number,
  dropStage = SecAggPlusStage.COLLECT_MASKED_VECTORS,
) {
  const grid = new InMemoryGrid({
    nodes: Array.from({ length: n }, (_, i) => ({
      clientApp: nodeApp(i, i === dropIndex ? dropStage : undefined),
      nodeId: BigInt(100 + i),
    })),
  });
  const wf = new SecAggPlusWorkflow({
    numShares: n,
    reconstructionThreshold: 2,
    logger: new MemoryLogger(),
  });
  const nodeIds = await grid.getNodeIds();
  const r1 = await wf.fitRound(grid, { round: 1, parameters: globalParams, nodeIds });
  // a second round re-runs setup on the same node state
  const r2 = await wf.fitRound(grid, { round: 2, parameters: globalParams, nodeIds });
  return [r1, r2];
}

describe("SecAgg+ in process (secAggPlusMod + SecAggPlusWorkflow)", () => {
  for (const n of [3, 5]) {
    it(`${n} nodes: the secure aggregate equals the weighted average`, async () => {
      for (const r of await run(n)) {
        expect(r.results.map((x) => x.nodeId).sort()).toEqual(
          Array.from({ length: n }, (_, i) => BigInt(100 + i)),
        );
        expect(r.failures).toEqual([]);
        const all = Array.from({ length: n }, (_, i) => i);
        const want = expected(all);
        r.parameters.forEach((p, k) => {
          expect(p.shape).toEqual(globalParams[k]!.shape);
          const got = arrayToFloat64(p);
          got.forEach((g, j) => {
            expect(Math.abs(g - want[k]![j]!)).toBeLessThan(tolerance(all));
          });
        });
      }
    });

    it(`${n} nodes, one dropping after sharing keys: the survivors' average is recovered`, async () => {
      const drop = 1;
      for (const r of await run(n, drop)) {
        expect(r.results.map((x) => x.nodeId)).not.toContain(BigInt(100 + drop));
        expect(r.failures.map((f) => [f.nodeId, f.stage])).toEqual([
          [101n, SecAggPlusStage.COLLECT_MASKED_VECTORS],
        ]);
        const alive = Array.from({ length: n }, (_, i) => i).filter((i) => i !== drop);
        const want = expected(alive);
        r.parameters.forEach((p, k) => {
          arrayToFloat64(p).forEach((g, j) => {
            expect(Math.abs(g - want[k]![j]!)).toBeLessThan(tolerance(alive));
          });
        });
      }
    });
  }

  it("halts when a drop leaves a neighbourhood below the threshold (all 3 shares needed)", async () => {
    const grid = new InMemoryGrid({
      nodes: [0, 1, 2].map((i) => ({
        clientApp: nodeApp(i, i === 0 ? SecAggPlusStage.SHARE_KEYS : undefined),
      })),
    });
    const strict = new SecAggPlusWorkflow({
      numShares: 1,
      reconstructionThreshold: 1,
      logger: new MemoryLogger(),
    });
    await expect(
      strict.fitRound(grid, {
        round: 1,
        parameters: globalParams,
        nodeIds: await grid.getNodeIds(),
      }),
    ).rejects.toThrow(SecAggPlusHaltedError);
  });

  it("rejects options Flower rejects", () => {
    expect(() => new SecAggPlusWorkflow({ numShares: 2, reconstructionThreshold: 2 })).toThrow(
      RangeError,
    );
    expect(() => new SecAggPlusWorkflow({ numShares: 5, reconstructionThreshold: 5 })).toThrow(
      RangeError,
    );
    expect(
      () => new SecAggPlusWorkflow({ numShares: 5, reconstructionThreshold: 3, modulusRange: 3e9 }),
    ).toThrow(RangeError);
  });
});
