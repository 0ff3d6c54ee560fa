/**
 * Encoding and decoding of the generated flwr.proto messages: 64-bit ids as
 * bigint (including values above 2^63), zigzag sint64, oneofs as
 * `{ $case, value }`, maps as `Map`, proto3 `optional` presence, and exact
 * bytes on the wire for a few hand-checked cases.
 */
import {
  ConfigRecord,
  ConfigRecordValue,
  FleetDefinition,
  ListRunsResponse,
  type MessageFns,
  Node,
  PushMessagesResponse,
  RecordDict,
  Run,
  Scalar,
  StartRunResponse,
} from "@flwr-ts/core/proto";
import { describe, expect, it } from "vitest";

const U64_MAX = 18446744073709551615n; // 2^64 - 1
const ABOVE_I64 = (1n << 63n) + 12345n; // does not fit a signed 64-bit integer

function roundTrip<T>(codec: MessageFns<T>, message: T): T {
  return codec.decode(codec.encode(message).finish());
}

describe("generated flwr.proto messages", () => {
  it("encodes Node.node_id = 2^64-1 as a 10-byte varint and decodes it back", () => {
    const bytes = Node.encode({ nodeId: U64_MAX }).finish();
    expect(Buffer.from(bytes).toString("hex")).toBe("08ffffffffffffffffff01");
    expect(Node.decode(bytes)).toEqual({ nodeId: U64_MAX });
  });

  it("round-trips a Run with uint64 ids above 2^63 and a Scalar map", () => {
    const run = Run.create({
      runId: ABOVE_I64,
      fabId: "flwrlabs/app",
      fabVersion: "1.0.0",
      overrideConfig: new Map([
        ["lr", Scalar.create({ scalar: { $case: "double", value: 0.05 } })],
        ["rounds", Scalar.create({ scalar: { $case: "sint64", value: -3n } })],
        ["big", Scalar.create({ scalar: { $case: "uint64", value: U64_MAX } })],
        ["on", Scalar.create({ scalar: { $case: "bool", value: true } })],
        ["name", Scalar.create({ scalar: { $case: "string", value: "héllo" } })],
        ["raw", Scalar.create({ scalar: { $case: "bytes", value: Buffer.from([0, 255]) } })],
        ["__proto__", Scalar.create({ scalar: { $case: "string", value: "plain key" } })],
      ]),
      status: { status: "finished", subStatus: "completed", details: "" },
      bytesSent: U64_MAX,
      bytesRecv: 1n,
      clientappRuntime: 1.5,
      runType: "serverapp",
    });
    const back = roundTrip(Run, run);
    expect(back).toEqual(run);
    expect(back.runId).toBe(ABOVE_I64);
    expect(back.overrideConfig.get("__proto__")?.scalar).toEqual({
      $case: "string",
      value: "plain key",
    });
    expect([...back.overrideConfig.keys()]).toEqual([
      "lr",
      "rounds",
      "big",
      "on",
      "name",
      "raw",
      "__proto__",
    ]);
  });

  it("encodes a negative sint64 ConfigRecord value with zigzag", () => {
    const value = ConfigRecordValue.create({ value: { $case: "sint64", value: -5n } });
    // field 2, varint wire type: tag 0x10; zigzag(-5) = 9
    expect(Buffer.from(ConfigRecordValue.encode(value).finish()).toString("hex")).toBe("1009");
    const record = ConfigRecord.create({
      items: [
        { key: "neg", value },
        { key: "min", value: { value: { $case: "sint64", value: -(1n << 63n) } } },
        { key: "list", value: { value: { $case: "sintList", value: { vals: [-1n, 0n, 1n] } } } },
      ],
    });
    expect(roundTrip(ConfigRecord, record)).toEqual(record);
  });

  it("round-trips a RecordDict whose items are oneof unions", () => {
    const dict = RecordDict.create({
      items: [
        {
          key: "arrays",
          value: {
            $case: "arrayRecord",
            value: {
              items: [
                {
                  key: "w",
                  value: {
                    dtype: "float32",
                    shape: [2, 3],
                    stype: "numpy.ndarray",
                    data: Buffer.alloc(24, 1),
                  },
                },
              ],
            },
          },
        },
        {
          key: "metrics",
          value: {
            $case: "metricRecord",
            value: { items: [{ key: "acc", value: { value: { $case: "double", value: 0.75 } } }] },
          },
        },
      ],
    });
    const back = roundTrip(RecordDict, dict);
    expect(back).toEqual(dict);
    expect(back.items[0]?.value?.$case).toBe("arrayRecord");
  });

  it("keeps presence of proto3 optional fields (unset vs zero)", () => {
    expect(StartRunResponse.encode({ runId: undefined, federation: "" }).finish()).toHaveLength(0);
    const zero = StartRunResponse.encode({ runId: 0n, federation: "" }).finish();
    expect(Buffer.from(zero).toString("hex")).toBe("0800");
    expect(StartRunResponse.decode(zero).runId).toBe(0n);
    expect(StartRunResponse.decode(new Uint8Array()).runId).toBeUndefined();
  });

  it("round-trips maps with uint64 and string keys", () => {
    const runs = ListRunsResponse.create({
      runDict: new Map([[U64_MAX, Run.create({ runId: U64_MAX, fabId: "a/b" })]]),
      now: "2026-01-01T00:00:00Z",
    });
    const back = roundTrip(ListRunsResponse, runs);
    expect(back.runDict.get(U64_MAX)?.fabId).toBe("a/b");
    const pushed = PushMessagesResponse.create({
      reconnect: { reconnect: 5n },
      results: new Map([["msg-1", 0]]),
      objectsToPush: ["abc"],
    });
    expect(roundTrip(PushMessagesResponse, pushed)).toEqual(pushed);
  });

  it("rejects a uint64 that does not fit 64 bits", () => {
    expect(() => Node.encode({ nodeId: 1n << 64n })).toThrow(/too large/);
    expect(() => Node.encode({ nodeId: -1n })).toThrow(/too large/);
  });

  it("throws on truncated input instead of returning a partial message", () => {
    const bytes = Run.encode(Run.create({ runId: 7n, fabId: "flwrlabs/app" })).finish();
    expect(() => Run.decode(bytes.subarray(0, bytes.length - 3))).toThrow();
  });

  it("exposes services as generic definitions", () => {
    const m = FleetDefinition.methods.registerNode;
    expect(FleetDefinition.fullName).toBe("flwr.proto.Fleet");
    expect(m.name).toBe("RegisterNode");
    expect(m.requestStream).toBe(false);
    const req = m.requestType.decode(
      m.requestType.encode({ publicKey: Buffer.from("pem") }).finish(),
    );
    expect(req.publicKey.toString()).toBe("pem");
  });
});
