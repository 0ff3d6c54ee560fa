/**
 * ClientApp mods (order, per-handler mods, replies checked) and the DP mods: clipping of the
 * node's update to the norm the server sends, the norm bit, local DP noise, and Flower's
 * MOD_FAILED_PRECONDITION replies with its reasons. The clipped values are checked against
 * Python Flower 1.29's `fixedclipping_mod` / `adaptiveclipping_mod` on the same message when
 * the reference environment is installed.
 */
import { describe, expect, test } from "vitest";
import { pythonFlwrAvailable, runPythonFlwr } from "../../../../../interop/python.js";
import { seededNormalSource } from "../../dp/differential-privacy.js";
import { Context } from "../../message/context.js";
import { ErrorCode } from "../../message/error.js";
import { Message } from "../../message/message.js";
import { MessageType } from "../../message/message-type.js";
import { NdArray } from "../../records/array.js";
import { ArrayRecord } from "../../records/array-record.js";
import { ConfigRecord } from "../../records/config-record.js";
import { MetricRecord } from "../../records/metric-record.js";
import { RecordDict } from "../../records/record-dict.js";
import { ClientApp } from "../client-app.js";
import { MemoryLogger } from "../logger.js";
import type { Mod } from "../mod.js";
import { createAdaptiveClippingMod, createFixedClippingMod, LocalDpMod } from "./dp-mods.js";

const context = new Context({ runId: 1n, nodeId: 7n });
const f32 = (...v: number[]) => NdArray.fromTypedArray(Float32Array.from(v), [v.length]);

function instruction(config?: ConfigRecord, arrays = new ArrayRecord([["w", f32(1, 1, 1, 1)]])) {
  const content = new RecordDict([["arrays", arrays]]);
  if (config) content.set("config", config);
  return new Message(content, 7n, MessageType.TRAIN);
}

/** A ClientApp whose train handler adds `delta` to every weight. */
function appAdding(delta: number[], mods: Mod[], withMetrics = true): ClientApp {
  const app = new ClientApp({ mods, logger: new MemoryLogger() });
  app.train()((msg) => {
    const w = msg.content.arrayRecords.get("arrays")!.get("w")!.toTypedArray("float32");
    const out = new RecordDict([
      ["arrays", new ArrayRecord([["w", f32(...w.map((x, i) => x + delta[i]!))]])],
    ]);
    if (withMetrics) out.set("metrics", new MetricRecord({ "num-examples": 10n }));
    return new Message(out, { replyTo: msg });
  });
  return app;
}

const weights = (m: Message) => [
  ...m.content.arrayRecords.get("arrays")!.get("w")!.toTypedArray("float32"),
];

describe("ClientApp mods", () => {
  test("app mods wrap per-handler mods, the first outermost (Flower's make_ffn)", async () => {
    const order: string[] = [];
    const tag =
      (name: string): Mod =>
      async (m, c, next) => {
        order.push(`${name}>`);
        const r = await next(m, c);
        order.push(`<${name}`);
        return r;
      };
    const app = new ClientApp({ mods: [tag("a"), tag("b")] });
    app.train("default", { mods: [tag("h")] })(
      (m) => new Message(new RecordDict(), { replyTo: m }),
    );
    app.evaluate()((m) => new Message(new RecordDict(), { replyTo: m }));
    await app.call(instruction(), context);
    expect(order).toEqual(["a>", "b>", "h>", "<h", "<b", "<a"]);
    order.length = 0;
    await app.call(new Message(new RecordDict(), 7n, MessageType.EVALUATE), context);
    expect(order).toEqual(["a>", "b>", "<b", "<a"]);
  });

  test("a mod may answer by itself; what it returns must still reply to the instruction", async () => {
    const refuse: Mod = (m) => new Message(new RecordDict(), { replyTo: m });
    const app = new ClientApp({ mods: [refuse] });
    let ran = false;
    app.train()((m) => {
      ran = true;
      return new Message(new RecordDict(), { replyTo: m });
    });
    await app.call(instruction(), context);
    expect(ran).toBe(false);
    const broken = new ClientApp({ mods: [() => "nope" as unknown as Message] });
    broken.train()((m) => new Message(new RecordDict(), { replyTo: m }));
    await expect(broken.call(instruction(), context)).rejects.toThrow(
      /a mod of the train function for 'default' returned a string/,
    );
  });
});

describe("DP mods", () => {
  const config = (norm: number) => new ConfigRecord({ clipping_norm: norm });

  test("fixedclipping_mod clips the update to the server's norm", async () => {
    const logger = new MemoryLogger();
    const app = appAdding([3, 4, 0, 0], [createFixedClippingMod({ logger })]);
    const reply = await app.call(instruction(config(1)), context);
    expect(weights(reply)).toEqual([1.600000023841858, 1.7999999523162842, 1, 1]);
    expect(logger.lines).toEqual([
      "INFO :      fixedclipping_mod: parameters are clipped by value: 1.0000.",
    ]);
    // Within the norm: unchanged.
    expect(weights(await app.call(instruction(config(10)), context))).toEqual([4, 5, 1, 1]);
  });

  test("adaptiveclipping_mod also reports the norm bit", async () => {
    const app = appAdding(
      [3, 4, 0, 0],
      [createAdaptiveClippingMod({ logger: new MemoryLogger() })],
    );
    const clipped = await app.call(instruction(config(1)), context);
    expect(clipped.content.metricRecords.get("metrics")!.get("norm_bit")).toBe(1n);
    const kept = await app.call(instruction(config(10)), context);
    expect(kept.content.metricRecords.get("metrics")!.get("norm_bit")).toBe(0n);
  });

  test("preconditions answer MOD_FAILED_PRECONDITION with Flower's reasons", async () => {
    const mod = createAdaptiveClippingMod({ logger: new MemoryLogger() });
    const reason = async (app: ClientApp, msg: Message) => {
      const reply = await app.call(msg, context);
      expect(reply.error.code).toBe(ErrorCode.MOD_FAILED_PRECONDITION);
      return reply.error.reason;
    };
    const app = appAdding([0, 0, 0, 0], [mod]);
    expect(await reason(app, instruction())).toBe(
      "adaptiveclipping_mod expects exactly one ConfigRecord, but found 0 ConfigRecord(s).",
    );
    expect(await reason(app, instruction(new ConfigRecord({ lr: 0.1 })))).toBe(
      "adaptiveclipping_mod requires the key 'clipping_norm' to be present in the ConfigRecord, but it was not found. Please ensure the `DifferentialPrivacyClientSideFixedClipping` wrapper is used in the ServerApp.",
    );
    expect(await reason(appAdding([0, 0, 0, 0], [mod], false), instruction(config(1)))).toBe(
      "adaptiveclipping_mod expects exactly one MetricRecord, but found 0 MetricRecord(s).",
    );
    const renamed = new ClientApp({
      mods: [createFixedClippingMod({ logger: new MemoryLogger() })],
    });
    renamed.train()(
      (m) =>
        new Message(new RecordDict([["arrays", new ArrayRecord([["v", f32(0, 0, 0, 0)]])]]), {
          replyTo: m,
        }),
    );
    expect(await reason(renamed, instruction(config(1)))).toBe(
      "fixedclipping_mod expects the keys in the ArrayRecord of the reply message to match those from the ArrayRecord that the ClientApp received, but they do not.",
    );
  });

  test("LocalDpMod clips and adds noise of deviation sensitivity·√(2 ln(1.25/δ))/ε", async () => {
    const logger = new MemoryLogger();
    const dp = new LocalDpMod({
      clippingNorm: 1,
      sensitivity: 0.1,
      epsilon: 2,
      delta: 1e-5,
      logger,
      normal: seededNormalSource(5),
    });
    expect(dp.stdDev).toBeCloseTo((0.1 * Math.sqrt(2 * Math.log(125000))) / 2, 12);
    const reply = await appAdding([3, 4, 0, 0], [dp.mod]).call(instruction(), context);
    const w = weights(reply);
    expect(w.some((x, i) => Math.abs(x - [1.6, 1.8, 1, 1][i]!) > 1e-4)).toBe(true);
    expect(w.every((x, i) => Math.abs(x - [1.6, 1.8, 1, 1][i]!) < 6 * dp.stdDev)).toBe(true);
    expect(logger.lines[1]).toBe(
      `INFO :      LocalDpMod: local DP noise with ${dp.stdDev.toFixed(4)} stddev added to parameters`,
    );
    expect(() => new LocalDpMod({ clippingNorm: 0, sensitivity: 1, epsilon: 1, delta: 1 })).toThrow(
      "The clipping norm should be a positive value.",
    );
  });

  test.skipIf(!pythonFlwrAvailable)(
    "clipped values equal Python Flower 1.29's mods",
    async () => {
      const sent = [0.5, -1.25, 2, 0.75, 3];
      const delta = [0.9, -2.1, 0.3, 1.7, -0.6];
      const script = `
import json, numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp.mod import fixedclipping_mod, adaptiveclipping_mod
sent, delta, norm = ${JSON.stringify(sent)}, ${JSON.stringify(delta)}, 1.5
msg = Message(RecordDict({"arrays": ArrayRecord({"w": Array(np.array(sent, dtype=np.float32))}),
                          "config": ConfigRecord({"clipping_norm": norm})}), dst_node_id=7, message_type="train")
def handler(m, c):
    w = m.content["arrays"]["w"].numpy() + np.array(delta, dtype=np.float32)
    return Message(RecordDict({"arrays": ArrayRecord({"w": Array(w)}), "metrics": MetricRecord({"num-examples": 10})}), reply_to=m)
ctx = Context(run_id=1, node_id=7, node_config={}, state=RecordDict(), run_config={})
out = {}
for name, mod in [("fixed", fixedclipping_mod), ("adaptive", adaptiveclipping_mod)]:
    r = mod(msg, ctx, handler)
    out[name] = {"w": [float(x) for x in r.content["arrays"]["w"].numpy()],
                 "bit": r.content["metrics"].get("norm_bit")}
print(json.dumps(out))`;
      const py = JSON.parse(runPythonFlwr("1.29", script)) as Record<
        string,
        { w: number[]; bit?: number }
      >;
      const msg = () => instruction(config(1.5), new ArrayRecord([["w", f32(...sent)]]));
      const app = (mod: Mod) => {
        const a = new ClientApp({ mods: [mod] });
        a.train()((m) => {
          const w = m.content.arrayRecords.get("arrays")!.get("w")!.toTypedArray("float32");
          return new Message(
            new RecordDict([
              [
                "arrays",
                new ArrayRecord([["w", f32(...w.map((x, i) => x + Math.fround(delta[i]!)))]]),
              ],
              ["metrics", new MetricRecord({ "num-examples": 10n })],
            ]),
            { replyTo: m },
          );
        });
        return a;
      };
      const fixed = await app(createFixedClippingMod({ logger: new MemoryLogger() })).call(
        msg(),
        context,
      );
      const adaptive = await app(createAdaptiveClippingMod({ logger: new MemoryLogger() })).call(
        msg(),
        context,
      );
      for (const [reply, ref] of [
        [fixed, py["fixed"]!],
        [adaptive, py["adaptive"]!],
      ] as const) {
        for (const [i, x] of weights(reply).entries())
          expect(Math.abs(x - ref.w[i]!)).toBeLessThan(1e-6);
      }
      expect(py["adaptive"]!.bit).toBe(1);
      expect(adaptive.content.metricRecords.get("metrics")!.get("norm_bit")).toBe(1n);
    },
    60_000,
  );
});
