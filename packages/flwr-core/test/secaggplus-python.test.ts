/**
 * SecAgg+ across implementations, in process, every message through Flower's protobuf
 * `Message` bytes (test/support/secaggplus_bridge.py runs the pinned Flower 1.29):
 *
 * - flwr-ts `SecAggPlusWorkflow` aggregating Python ClientApps with Flower's `secaggplus_mod`;
 * - Flower's `DefaultWorkflow(fit_workflow=SecAggPlusWorkflow(...))` aggregating flwr-ts
 *   ClientApps with `secAggPlusMod` (2 rounds).
 *
 * 3 nodes, one failing after sharing its keys; the result must be the survivors' weighted
 * average within the quantisation error.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { pythonFlwrAvailable, pythonFlwrProblem, pythonPath } from "../../../interop/python.js";
import { stampInstruction } from "../src/grid/grid.js";
import {
  arrayToFloat64,
  ClientApp,
  Context,
  type Grid,
  legacyFitResRecordDict,
  MemoryLogger,
  Message,
  type Mod,
  NdArray,
  readLegacyFitIns,
  SECAGGPLUS_CONFIGS_RECORD,
  SecAggPlusWorkflow,
  secAggPlusMod,
} from "../src/index.js";
import { messageFromProto, messageToProto } from "../src/message/serde.js";
import { Message as PbMessage } from "../src/proto/index.js";

const script = readFileSync(join(import.meta.dirname, "support", "secaggplus_bridge.py"), "utf8");
const encode = (m: Message) =>
  Buffer.from(PbMessage.encode(messageToProto(m)).finish()).toString("hex");
const decode = (hex: string) => messageFromProto(PbMessage.decode(Buffer.from(hex, "hex")));

const INITIAL = [
  NdArray.fromTypedArray(Float32Array.of(0.5, 0.4, 0.3, 0.2, 0.1, 0.0), [2, 3]),
  NdArray.fromTypedArray(Float32Array.of(-1.5), []),
];
/**
 * What Flower's ServerApp starts from (secaggplus_bridge.py). No 0-d array: Flower 1.29's
 * workflow leaves 0-d parameters without the offset and the re-weighting (its in-place
 * `vec += offset` rebinds a numpy scalar); flwr-ts's workflow handles them (first test).
 */
const PY_INITIAL = [INITIAL[0]!, NdArray.fromTypedArray(Float32Array.of(-1.5, 0.25), [2])];
const N = 3;
const DROP = 1;

function update(i: number, a: NdArray): Float32Array {
  return Float32Array.from(arrayToFloat64(a), (x, j) => x + (i + 1) * 0.01 * (j + 1));
}

/** The survivors' weighted average of one round from INITIAL, and its quantisation bound. */
function expected(alive: number[]): { want: Float64Array[]; tol: number } {
  const total = alive.reduce((s, i) => s + 10 * (i + 1), 0);
  const want = INITIAL.map((a) => {
    const out = new Float64Array(arrayToFloat64(a).length);
    for (const i of alive) {
      update(i, a).forEach((v, j) => {
        out[j]! += (10 * (i + 1) * v) / total;
      });
    }
    return out;
  });
  return { want, tol: (alive.length * (16 / 2 ** 22)) / (total / 1000) };
}

class Lines {
  private readonly rl: Interface;
  private readonly queue: string[] = [];
  private readonly waiting: { resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  private exited: Error | undefined;
  stderr = "";
  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    this.rl = createInterface({ input: proc.stdout });
    this.rl.on("line", (l) => {
      const w = this.waiting.shift();
      if (w) w.resolve(l);
      else this.queue.push(l);
    });
    proc.stderr.on("data", (d: Buffer) => {
      this.stderr += d.toString();
    });
    proc.on("exit", (code) => {
      this.exited = new Error(`python exited ${code}: ${this.stderr.slice(-3000)}`);
      for (const w of this.waiting.splice(0)) w.reject(this.exited);
    });
  }
  next(): Promise<string> {
    const l = this.queue.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
    });
  }
  write(l: string): void {
    this.proc.stdin.write(`${l}\n`);
  }
}

const procs: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) p.kill();
});

function startPython(args: string[]): Lines {
  const proc = spawn(pythonPath, ["-c", script, ...args], { stdio: "pipe" });
  procs.push(proc);
  return new Lines(proc);
}

/** A Grid whose nodes are Flower 1.29 ClientApps in the bridge process. */
function pythonNodesGrid(lines: Lines): Grid {
  return {
    runId: 7n,
    getNodeIds: async () => Array.from({ length: N }, (_, i) => BigInt(100 + i)),
    pushMessages: async () => {
      throw new Error("not used");
    },
    pullMessages: async () => {
      throw new Error("not used");
    },
    async sendAndReceive(messages) {
      const batch = [...messages];
      for (const m of batch) {
        stampInstruction(m, 7n);
        lines.write(encode(m));
      }
      const replies: Message[] = [];
      for (const _ of batch) replies.push(decode(await lines.next()));
      return replies;
    },
  };
}

function tsNodeApp(i: number): ClientApp {
  const drop: Mod = (msg, ctx, next) => {
    const stage = msg.content.configRecords.get(SECAGGPLUS_CONFIGS_RECORD)?.get("stage");
    if (i === DROP && stage === "collect_masked_vectors") throw new Error(`node ${i} drops`);
    return next(msg, ctx);
  };
  const app = new ClientApp({ mods: [drop, secAggPlusMod], logger: new MemoryLogger() });
  app.train()((msg) => {
    const ins = readLegacyFitIns(msg.content);
    const parameters = ins.parameters.map((a) => NdArray.fromTypedArray(update(i, a), a.shape));
    return new Message(legacyFitResRecordDict({ parameters, numExamples: 10 * (i + 1) }), {
      replyTo: msg,
    });
  });
  return app;
}

describe.skipIf(!pythonFlwrAvailable)(
  `SecAgg+ between flwr-ts and Flower 1.29 ${pythonFlwrProblem ?? ""}`,
  () => {
    it("flwr-ts SecAggPlusWorkflow aggregates Python ClientApps with secaggplus_mod, one dropping", async () => {
      const lines = startPython(["nodes", String(N), String(DROP)]);
      const grid = pythonNodesGrid(lines);
      const wf = new SecAggPlusWorkflow({
        numShares: N,
        reconstructionThreshold: 2,
        logger: new MemoryLogger(),
      });
      const { want, tol } = expected([0, 2]);
      for (const round of [1, 2]) {
        const r = await wf.fitRound(grid, {
          round,
          parameters: INITIAL,
          nodeIds: await grid.getNodeIds(),
        });
        expect(r.results.map((x) => x.nodeId).sort()).toEqual([100n, 102n]);
        expect(r.results.map((x) => x.metrics["node"]).sort()).toEqual([0n, 2n]);
        expect(r.failures.map((f) => [f.nodeId, f.stage])).toEqual([
          [101n, "collect_masked_vectors"],
        ]);
        r.parameters.forEach((p, k) => {
          arrayToFloat64(p).forEach((g, j) => {
            expect(Math.abs(g - want[k]![j]!)).toBeLessThan(tol);
          });
        });
      }
    }, 60_000);

    it("Flower's SecAggPlusWorkflow aggregates flwr-ts ClientApps with secAggPlusMod, one dropping, 2 rounds", async () => {
      const lines = startPython(["server", String(N), "2"]);
      const apps = new Map(
        Array.from({ length: N }, (_, i) => [BigInt(100 + i), tsNodeApp(i)] as const),
      );
      const contexts = new Map<bigint, Context>();
      let stages = 0;
      for (;;) {
        const msg = JSON.parse(await lines.next()) as { send?: string[]; done?: number[][] };
        if (msg.done !== undefined) {
          // two rounds: the second starts from the first's aggregate
          const alive = [0, 2];
          const total = alive.reduce((s, i) => s + 10 * (i + 1), 0);
          const shift = (j: number) =>
            alive.reduce((s, i) => s + (10 * (i + 1) * (i + 1) * 0.01 * (j + 1)) / total, 0);
          const tol = (2 * alive.length * (16 / 2 ** 22)) / (total / 1000) + 1e-6;
          expect(msg.done.map((a) => a.length)).toEqual([6, 2]);
          PY_INITIAL.forEach((a, k) => {
            arrayToFloat64(a).forEach((x, j) => {
              expect(Math.abs(msg.done![k]![j]! - (x + 2 * shift(j)))).toBeLessThan(tol);
            });
          });
          break;
        }
        stages += 1;
        const replies: string[] = [];
        for (const hex of msg.send!) {
          const ins = decode(hex);
          const nid = ins.metadata.dstNodeId;
          let ctx = contexts.get(nid);
          if (ctx === undefined) {
            ctx = new Context({ runId: 7n, nodeId: nid, nodeConfig: {}, runConfig: {} });
            contexts.set(nid, ctx);
          }
          replies.push(encode(await apps.get(nid)!.handle(ins, ctx)));
        }
        lines.write(JSON.stringify(replies));
      }
      expect(stages).toBe(8);
    }, 60_000);
  },
);
