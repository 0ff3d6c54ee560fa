/**
 * Wire interoperability of the generated messages with the pinned Python flwr:
 * TypeScript encodes, Python (flwr.proto.*_pb2) decodes and reports the field
 * values; Python encodes, TypeScript decodes. Messages without maps must also be
 * byte-identical (both sides serialise fields in field-number order).
 */
import {
  ConfigRecord,
  Message,
  type MessageFns,
  Node,
  Run,
  Scalar,
  StartRunResponse,
} from "@flwr-ts/core/proto";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  pinnedFlwrVersion,
  pythonFlwrAvailable,
  pythonFlwrProblem,
  runPython,
} from "../../../interop/python.js";

const U64_MAX = 18446744073709551615n;
const ABOVE_I64 = (1n << 63n) + 12345n;

/** The messages both sides build; Python builds the same values in PY_BUILD below. */
const cases = {
  node: {
    codec: Node as MessageFns<unknown>,
    pyType: "node_pb2.Node",
    value: Node.create({ nodeId: U64_MAX }),
    hasMap: false,
  },
  run: {
    codec: Run as MessageFns<unknown>,
    pyType: "run_pb2.Run",
    value: Run.create({
      runId: ABOVE_I64,
      fabId: "flwrlabs/app",
      overrideConfig: new Map([
        ["lr", Scalar.create({ scalar: { $case: "double", value: 0.25 } })],
        ["n", Scalar.create({ scalar: { $case: "sint64", value: -7n } })],
        ["name", Scalar.create({ scalar: { $case: "string", value: "x" } })],
      ]),
      status: { status: "running", subStatus: "", details: "" },
      bytesSent: U64_MAX,
    }),
    hasMap: true,
  },
  configRecord: {
    codec: ConfigRecord as MessageFns<unknown>,
    pyType: "recorddict_pb2.ConfigRecord",
    value: ConfigRecord.create({
      items: [
        { key: "neg", value: { value: { $case: "sint64", value: -5n } } },
        { key: "min", value: { value: { $case: "sint64", value: -(1n << 63n) } } },
        { key: "big", value: { value: { $case: "uint64", value: U64_MAX } } },
        { key: "flag", value: { value: { $case: "bool", value: false } } },
        { key: "sl", value: { value: { $case: "stringList", value: { vals: ["a", "b"] } } } },
      ],
    }),
    hasMap: false,
  },
  startRunResponseZero: {
    codec: StartRunResponse as MessageFns<unknown>,
    pyType: "control_pb2.StartRunResponse",
    value: StartRunResponse.create({ runId: 0n }),
    hasMap: false,
  },
  message: {
    codec: Message as MessageFns<unknown>,
    pyType: "message_pb2.Message",
    value: Message.create({
      metadata: {
        runId: ABOVE_I64,
        messageId: "m1",
        srcNodeId: 1n,
        dstNodeId: U64_MAX,
        ttl: 3600,
        messageType: "train",
        createdAt: 1.5,
      },
      error: { code: -3n, reason: "boom" },
    }),
    hasMap: false,
  },
} as const;
type CaseName = keyof typeof cases;

/** Python side: builds the same messages, decodes the TS bytes, reports both. */
const PY_SCRIPT = `
import json, sys
from google.protobuf.json_format import MessageToDict
from flwr.proto import control_pb2, error_pb2, message_pb2, node_pb2, recorddict_pb2, run_pb2, transport_pb2

U64_MAX = 2**64 - 1
ABOVE_I64 = 2**63 + 12345

def build():
    run = run_pb2.Run(run_id=ABOVE_I64, fab_id="flwrlabs/app", bytes_sent=U64_MAX,
                      status=run_pb2.RunStatus(status="running"))
    run.override_config["lr"].CopyFrom(transport_pb2.Scalar(double=0.25))
    run.override_config["n"].CopyFrom(transport_pb2.Scalar(sint64=-7))
    run.override_config["name"].CopyFrom(transport_pb2.Scalar(string="x"))
    V = recorddict_pb2.ConfigRecordValue
    cr = recorddict_pb2.ConfigRecord(items=[
        recorddict_pb2.ConfigRecord.Item(key="neg", value=V(sint64=-5)),
        recorddict_pb2.ConfigRecord.Item(key="min", value=V(sint64=-(2**63))),
        recorddict_pb2.ConfigRecord.Item(key="big", value=V(uint64=U64_MAX)),
        recorddict_pb2.ConfigRecord.Item(key="flag", value=V(bool=False)),
        recorddict_pb2.ConfigRecord.Item(key="sl", value=V(string_list=recorddict_pb2.StringList(vals=["a", "b"]))),
    ])
    msg = message_pb2.Message(
        metadata=message_pb2.Metadata(run_id=ABOVE_I64, message_id="m1", src_node_id=1,
                                      dst_node_id=U64_MAX, ttl=3600, message_type="train", created_at=1.5),
        error=error_pb2.Error(code=-3, reason="boom"))
    return {
        "node": node_pb2.Node(node_id=U64_MAX),
        "run": run,
        "configRecord": cr,
        "startRunResponseZero": control_pb2.StartRunResponse(run_id=0),
        "message": msg,
    }

built = build()
inp = json.load(sys.stdin)
out = {"fromTs": {}, "fromPy": {}, "pyDict": {}}
for name, hexstr in inp.items():
    cls = type(built[name])
    m = cls.FromString(bytes.fromhex(hexstr))
    out["fromTs"][name] = MessageToDict(m, preserving_proto_field_name=True)
    out["pyDict"][name] = MessageToDict(built[name], preserving_proto_field_name=True)
    out["fromPy"][name] = built[name].SerializeToString(deterministic=True).hex()
json.dump(out, sys.stdout)
`;

describe.skipIf(!pythonFlwrAvailable)(
  `generated messages interoperate with Python flwr ${pinnedFlwrVersion}${pythonFlwrProblem ? ` (skipped: ${pythonFlwrProblem})` : ""}`,
  () => {
    const names = Object.keys(cases) as CaseName[];
    const tsHex: Record<string, string> = {};
    let py: {
      fromTs: Record<string, unknown>;
      fromPy: Record<string, string>;
      pyDict: Record<string, unknown>;
    };

    beforeAll(() => {
      for (const n of names) {
        const c = cases[n];
        tsHex[n] = Buffer.from(c.codec.encode(c.value).finish()).toString("hex");
      }
      const parsed = z
        .object({
          fromTs: z.record(z.string(), z.unknown()),
          fromPy: z.record(z.string(), z.string()),
          pyDict: z.record(z.string(), z.unknown()),
        })
        .parse(JSON.parse(runPython(PY_SCRIPT, [], JSON.stringify(tsHex))));
      py = parsed;
    });

    it.each(Object.keys(cases) as CaseName[])(
      "%s: Python decodes the TypeScript bytes to the values Python itself builds",
      (n) => {
        expect(py.fromTs[n]).toEqual(py.pyDict[n]);
      },
    );

    it.each(Object.keys(cases) as CaseName[])(
      "%s: TypeScript decodes the Python bytes to the same message",
      (n) => {
        const c = cases[n];
        const hex = py.fromPy[n];
        expect(hex).toBeDefined();
        expect(c.codec.decode(Buffer.from(hex!, "hex"))).toEqual(c.value);
        if (!c.hasMap) expect(tsHex[n]).toBe(hex);
      },
    );

    it("reports 64-bit values above 2^63 and negative sint64 exactly", () => {
      expect(py.fromTs["node"]).toEqual({ node_id: "18446744073709551615" });
      expect(py.fromTs["startRunResponseZero"]).toEqual({ run_id: "0" });
      const items = (py.fromTs["configRecord"] as { items: { key: string; value: unknown }[] })
        .items;
      expect(items.find((i) => i.key === "min")?.value).toEqual({
        sint64: "-9223372036854775808",
      });
      expect(items.find((i) => i.key === "big")?.value).toEqual({
        uint64: "18446744073709551615",
      });
    });
  },
);
