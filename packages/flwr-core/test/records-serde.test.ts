/** Conversions to and from the generated protobuf types, and Context interop with Python. */
import { describe, expect, it } from "vitest";
import { pythonFlwrAvailable, runPython } from "../../../interop/python.js";
import {
  ArrayRecord,
  ConfigRecord,
  Context,
  contextFromProto,
  contextToProto,
  deflateLazy,
  Message,
  MessageError,
  MetricRecord,
  messageFromProto,
  messageToProto,
  NdArray,
  RecordDict,
  recordDictFromProto,
  recordDictToProto,
  scalarFromProto,
  scalarToProto,
} from "../src/index.js";
import * as pb from "../src/proto/index.js";
import { messageToDesc } from "./records-desc.js";

function sampleDict(): RecordDict {
  return new RecordDict({
    arrays: new ArrayRecord({ w: NdArray.fromTypedArray(new Int16Array([1, -2, 3]), [3, 1]) }),
    metrics: new MetricRecord({
      n: 10n,
      loss: 0.25,
      big: (1n << 64n) - 1n,
      l: [1.5, 2],
      il: [-1n, 2n],
    }),
    config: new ConfigRecord({
      b: true,
      s: "ü",
      y: new Uint8Array([0, 255]),
      bl: [false],
      sl: ["x"],
      yl: [new Uint8Array([7])],
      e: [],
    }),
  });
}

describe("proto serde", () => {
  it("RecordDict round-trips through the generated encoder/decoder", () => {
    const d = sampleDict();
    const bytes = pb.RecordDict.encode(recordDictToProto(d)).finish();
    const back = recordDictFromProto(pb.RecordDict.decode(bytes));
    expect(deflateLazy(back).rootId).toBe(deflateLazy(d).rootId);
    expect((back.get("config") as ConfigRecord).get("y")).toEqual(new Uint8Array([0, 255]));
    expect((back.get("metrics") as MetricRecord).get("n")).toBe(10n);
    expect((back.get("metrics") as MetricRecord).get("l")).toEqual([1.5, 2]);
  });

  it("generated ConfigRecord/MetricRecord bytes equal the object bodies", () => {
    const d = sampleDict();
    const p = recordDictToProto(d);
    for (const item of p.items) {
      const v = item.value!;
      if (v.$case === "arrayRecord") continue;
      const protoBytes =
        v.$case === "configRecord"
          ? pb.ConfigRecord.encode(v.value).finish()
          : pb.MetricRecord.encode(v.value).finish();
      const r = deflateLazy(d.get(item.key)!);
      expect(Buffer.from(protoBytes).equals(Buffer.from(r.objects.get(r.rootId)!.body))).toBe(true);
    }
  });

  it("Message round-trips with content and with error", () => {
    const m = new Message(sampleDict(), 3n, "query.x", { createdAt: 1774800000, groupId: "g" });
    const back = messageFromProto(pb.Message.decode(pb.Message.encode(messageToProto(m)).finish()));
    expect(messageToDesc(back)).toEqual(messageToDesc(m));
    const e = new Message(new MessageError(-7n, "bad"), { replyTo: m });
    const eb = messageFromProto(pb.Message.decode(pb.Message.encode(messageToProto(e)).finish()));
    expect(eb.error).toEqual(new MessageError(-7n, "bad"));
    expect(() =>
      messageFromProto({ metadata: undefined, content: undefined, error: undefined }),
    ).toThrow(/metadata/);
  });

  it("scalars: bigint → sint64 (uint64 above 2^63-1), number → double", () => {
    expect(scalarToProto(5n).scalar).toEqual({ $case: "sint64", value: 5n });
    expect(scalarToProto(1n << 63n).scalar).toEqual({ $case: "uint64", value: 1n << 63n });
    expect(scalarToProto(5).scalar).toEqual({ $case: "double", value: 5 });
    expect(scalarFromProto({ scalar: { $case: "bytes", value: Buffer.from([1]) } })).toEqual(
      new Uint8Array([1]),
    );
    expect(() => scalarFromProto({ scalar: undefined })).toThrow(/no value/);
  });

  it("Context round-trips", () => {
    const c = new Context({
      runId: 1n << 63n,
      nodeId: 5n,
      nodeConfig: { "partition-id": 0n },
      runConfig: { lr: 0.1, "num-server-rounds": 3n, name: "x", flag: true },
      state: sampleDict(),
    });
    const back = contextFromProto(pb.Context.decode(pb.Context.encode(contextToProto(c)).finish()));
    expect(back.runId).toBe(1n << 63n);
    expect({ ...back.runConfig }).toEqual({
      lr: 0.1,
      "num-server-rounds": 3n,
      name: "x",
      flag: true,
    });
    expect(deflateLazy(back.state).rootId).toBe(deflateLazy(c.state).rootId);
  });
});

describe.skipIf(!pythonFlwrAvailable)("Context interop with Python flwr", () => {
  it("Python reads a Context written by flwr-ts with int/float kinds intact, and vice versa", () => {
    const c = new Context({
      runId: 42n,
      nodeId: 7n,
      nodeConfig: { "partition-id": 1n },
      runConfig: { lr: 0.1, "num-server-rounds": 3n, name: "ü", flag: false, whole: 2 },
      state: sampleDict(),
    });
    const hex = Buffer.from(pb.Context.encode(contextToProto(c)).finish()).toString("hex");
    const out = runPython(
      `
import sys, json
from flwr.proto.message_pb2 import Context
from flwr.common.serde import context_from_proto, context_to_proto
ctx = context_from_proto(Context.FromString(bytes.fromhex(sys.argv[1])))
desc = {k: [type(v).__name__, v] for k, v in ctx.run_config.items()}
m = ctx.state["metrics"]
print(json.dumps({"run": desc, "node": {k: type(v).__name__ for k, v in ctx.node_config.items()},
  "metrics": {k: type(v).__name__ for k, v in m.items()}, "big": str(m["big"]), "ids": [ctx.run_id, ctx.node_id],
  "back": context_to_proto(ctx).SerializeToString().hex()}))
`,
      [hex],
    );
    const r = JSON.parse(out) as {
      run: Record<string, [string, unknown]>;
      node: Record<string, string>;
      metrics: Record<string, string>;
      big: string;
      ids: number[];
      back: string;
    };
    expect(r.run).toEqual({
      lr: ["float", 0.1],
      "num-server-rounds": ["int", 3],
      name: ["str", "ü"],
      flag: ["bool", false],
      whole: ["float", 2],
    });
    expect(r.node).toEqual({ "partition-id": "int" });
    expect(r.metrics).toEqual({ n: "int", loss: "float", big: "int", l: "list", il: "list" });
    expect(r.big).toBe("18446744073709551615");
    expect(r.ids).toEqual([42, 7]);
    const back = contextFromProto(pb.Context.decode(Buffer.from(r.back, "hex")));
    expect({ ...back.runConfig }).toEqual({ ...c.runConfig });
    expect(deflateLazy(back.state).rootId).toBe(deflateLazy(c.state).rootId);
  });
});
