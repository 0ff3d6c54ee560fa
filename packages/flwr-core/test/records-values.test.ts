/** Record value rules (integer/float rule, allowed kinds, ordering) and message construction. */
import { describe, expect, it } from "vitest";
import {
  ArrayRecord,
  ConfigRecord,
  DEFAULT_TTL,
  deflateLazy,
  ErrorCode,
  isValidMessageType,
  Message,
  MessageError,
  MessageValidationError,
  Metadata,
  MetricRecord,
  NdArray,
  RecordDict,
  RecordValueError,
  UINT64_MAX,
} from "../src/index.js";

describe("integer/float rule", () => {
  it("bigint is an integer (sint64/uint64), number is a float (double)", () => {
    const r = new MetricRecord({ "num-examples": 10n, loss: 0.5, ten: 10 });
    const body = deflateLazy(r).objects.get(deflateLazy(r).rootId)!.body;
    // num-examples → field 2 (sint64) zigzag 20; ten → field 1 (double).
    expect(Buffer.from(body).toString("hex")).toContain(
      Buffer.from([0x12, 0x02, 0x10, 0x14]).toString("hex"),
    );
    expect(Buffer.from(body).toString("hex")).toContain("09" + "0000000000002440");
  });

  it("integers above 2^63-1 use uint64; the range is -2^63 … 2^64-1", () => {
    expect(() => new MetricRecord({ x: UINT64_MAX })).not.toThrow();
    expect(() => new MetricRecord({ x: UINT64_MAX + 1n })).toThrow(RecordValueError);
    expect(() => new MetricRecord({ x: -(1n << 63n) - 1n })).toThrow(/out of range/);
    expect(() => new MetricRecord({ x: [UINT64_MAX, -1n] })).toThrow(/cannot mix/);
  });
});

describe("record values", () => {
  it("MetricRecord allows only numbers, bigints and homogeneous lists", () => {
    expect(() => new MetricRecord({ x: true as never })).toThrow(RecordValueError);
    expect(() => new MetricRecord({ x: "s" as never })).toThrow(/MetricRecord values are/);
    expect(() => new MetricRecord({ x: [1n, 0.5] as never })).toThrow(/same type/);
    expect(() => new MetricRecord({ x: [[1]] as never })).toThrow(RecordValueError);
    expect(() => new MetricRecord({ x: null as never })).toThrow(/got null/);
    expect(() => new MetricRecord({ x: [] })).not.toThrow();
  });

  it("ConfigRecord allows bool, string, bytes and their lists too", () => {
    const c = new ConfigRecord({
      b: true,
      s: "x",
      y: new Uint8Array([1]),
      bl: [true, false],
      sl: ["a", ""],
      yl: [new Uint8Array(0)],
      i: -1n,
      f: Number.NaN,
    });
    expect([...c.keys()]).toEqual(["b", "s", "y", "bl", "sl", "yl", "i", "f"]);
    expect(() => c.set("bad", [true, "x"] as never)).toThrow(/same type/);
    expect(() => c.set("bad", { a: 1 } as never)).toThrow(/got Object/);
    expect(() => c.set("bad", "\ud800")).toThrow(/lone UTF-16 surrogate/);
    expect(() => c.set("\udc00", 1)).toThrow(/record key/);
  });

  it("lists are copied and frozen", () => {
    const list = [1n, 2n];
    const m = new MetricRecord({ l: list });
    list.push(3n);
    expect(m.get("l")).toEqual([1n, 2n]);
    expect(Object.isFrozen(m.get("l"))).toBe(true);
  });

  it("keeps insertion order, re-setting keeps position; pairs control integer-like keys", () => {
    const c = new ConfigRecord([
      ["b", 1n],
      ["1", 2n],
      ["a", 3n],
    ]);
    c.set("b", 4n);
    expect([...c.keys()]).toEqual(["b", "1", "a"]);
    expect(c.get("b")).toBe(4n);
  });

  it("ArrayRecord and RecordDict check their value types", () => {
    expect(() => new ArrayRecord({ w: new Float32Array(2) as never })).toThrow(/NdArray/);
    expect(() => new RecordDict({ x: new Map() as never })).toThrow(/RecordDict values/);
    const d = new RecordDict({
      a: ArrayRecord.fromTypedArrays([["w", new Float32Array([1])]]),
      m: new MetricRecord({ x: 1n }),
      c: new ConfigRecord({ y: "z" }),
    });
    expect([...d.arrayRecords.keys()]).toEqual(["a"]);
    expect([...d.metricRecords.keys()]).toEqual(["m"]);
    expect([...d.configRecords.keys()]).toEqual(["c"]);
    expect((d.get("a") as ArrayRecord).get("w")).toBeInstanceOf(NdArray);
  });
});

describe("messages", () => {
  const ins = () =>
    new Message(new RecordDict(), 5n, "train", { groupId: "3", createdAt: 1000, ttl: 100 });

  it("instructions get defaults like Python", () => {
    const m = new Message(new RecordDict(), 5n, "evaluate");
    expect(m.metadata.ttl).toBe(DEFAULT_TTL);
    expect(m.metadata.runId).toBe(0n);
    expect(m.metadata.srcNodeId).toBe(0n);
    expect(m.metadata.messageId).toBe("");
    expect(Math.abs(m.metadata.createdAt - Date.now() / 1000)).toBeLessThan(60);
    expect(m.hasContent()).toBe(true);
    expect(() => m.error).toThrow(MessageValidationError);
  });

  it("replies swap src/dst, copy run/group/type and cap the TTL", () => {
    const i = ins();
    i.metadata.runId = 9n;
    i.metadata.srcNodeId = 1n;
    i.metadata.messageId = "ab".repeat(32);
    const r = new Message(new RecordDict(), { replyTo: i, createdAt: 1010 });
    expect(r.metadata.srcNodeId).toBe(5n);
    expect(r.metadata.dstNodeId).toBe(1n);
    expect(r.metadata.runId).toBe(9n);
    expect(r.metadata.groupId).toBe("3");
    expect(r.metadata.messageType).toBe("train");
    expect(r.metadata.replyToMessageId).toBe("ab".repeat(32));
    expect(r.metadata.ttl).toBe(90);
    expect(
      new Message(new RecordDict(), { replyTo: i, createdAt: 1010, ttl: 500 }).metadata.ttl,
    ).toBe(90);
    expect(
      new Message(new RecordDict(), { replyTo: i, createdAt: 1010, ttl: 20 }).metadata.ttl,
    ).toBe(20);
    const e = new Message(new MessageError(ErrorCode.CLIENT_APP_RAISED_EXCEPTION, "boom"), {
      replyTo: i,
    });
    expect(e.hasError()).toBe(true);
    expect(e.error.code).toBe(2n);
    expect(() => e.content).toThrow(/carries an error/);
  });

  it("validates message types and arguments", () => {
    for (const t of ["train", "evaluate.x1", "query._a", "system", "get_parameters", "reconnect"]) {
      expect(isValidMessageType(t), t).toBe(true);
    }
    for (const t of ["", "fit", "train.", "train.1a", "train.a.b", "train.a-b"]) {
      expect(isValidMessageType(t), t).toBe(false);
    }
    expect(() => new Message(new RecordDict(), 1n, "fit")).toThrow(/invalid message type/);
    expect(() => new Message(new RecordDict(), {} as never)).toThrow(MessageValidationError);
    expect(
      () =>
        new Metadata({
          runId: -1n,
          messageId: "",
          srcNodeId: 0n,
          dstNodeId: 0n,
          replyToMessageId: "",
          groupId: "",
          createdAt: 0,
          ttl: 0,
          messageType: "train",
        }),
    ).toThrow(/runId/);
    expect(() => new MessageError(1.5)).toThrow(MessageValidationError);
  });
});
