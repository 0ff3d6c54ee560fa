/**
 * Inline content: rebuilt objects equal the sender's, tampering and oversize are caught, headers
 * parse strictly, and the limit comes from the environment with a clear error.
 */
import {
  ArrayRecord,
  ConfigRecord,
  deflateMessage,
  ErrorCode,
  Message,
  MessageError,
  MetricRecord,
  NdArray,
  RecordDict,
} from "@flwr-ts/core";
import { Metadata } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import { prepareOutgoing, prepareOutgoingBatch } from "../app-runtime/object-transfer.js";
import {
  announcedInlineMax,
  announceInline,
  DEFAULT_INLINE_MAX_BYTES,
  INLINE_ACCEPT_HEADER,
  INLINE_MAX_ENV,
  InlineContentError,
  inlinedIds,
  inlineFromMessage,
  inlineFromObjects,
  inlineMaxFromEnv,
  MAX_INLINE_MAX_BYTES,
  markInlined,
  receiveInlined,
} from "./inline-content.js";

function instruction(values = 1000): Message {
  const weights = new Float32Array(values).map((_, i) => Math.sin(i) * 3);
  const msg = new Message(
    new RecordDict({
      arrays: new ArrayRecord({
        w: NdArray.fromTypedArray(weights, [values]),
        b: NdArray.fromTypedArray(new Int32Array([-1, 0, 7]), [3]),
      }),
      config: new ConfigRecord({ "server-round": 3n, lr: 0.1, name: "ünï", flag: true }),
      metrics: new MetricRecord({ "num-examples": 12n, loss: -0.25 }),
    }),
    42n,
    "train",
    { groupId: "3" },
  );
  msg.metadata.runId = 9_223_372_036_854_775_900n;
  msg.metadata.srcNodeId = 1n;
  return msg;
}

describe("inline content round trip", () => {
  test("the receiver rebuilds exactly the sender's objects from the content", () => {
    const out = prepareOutgoingBatch([instruction()], DEFAULT_INLINE_MAX_BYTES)[0]!;
    expect(out.inlined).toBe(true);
    expect(out.proto.content?.items.length).toBe(3);
    const { message, objects } = receiveInlined(out.proto, out.deflated.tree);
    expect(message.metadata.messageId).toBe(out.deflated.messageId);
    expect([...objects.keys()].sort()).toEqual([...out.deflated.objects.keys()].sort());
    for (const [id, bytes] of out.deflated.objects)
      expect(Buffer.from(objects.get(id)!).equals(Buffer.from(bytes))).toBe(true);
    expect(message.content.metricRecords.get("metrics")?.get("loss")).toBe(-0.25);
  });

  test("a server holding only objects inlines the same content", () => {
    const out = prepareOutgoing(instruction());
    expect(out.inlined).toBe(false);
    const inline = inlineFromObjects(
      out.deflated.tree,
      (id) => out.deflated.objects.get(id),
      DEFAULT_INLINE_MAX_BYTES,
    );
    expect(inline?.content?.items.length).toBe(3);
    const { objects } = receiveInlined(
      { ...out.proto, content: inline!.content },
      out.deflated.tree,
    );
    expect(objects.size).toBe(out.deflated.objects.size);
  });

  test("an error reply travels inline (no content) and rebuilds to its id", () => {
    const ins = instruction();
    ins.metadata.messageId = deflateMessage(ins).messageId;
    const reply = new Message(new MessageError(ErrorCode.UNKNOWN, "boom"), { replyTo: ins });
    const out = prepareOutgoingBatch([reply], DEFAULT_INLINE_MAX_BYTES)[0]!;
    expect(out.inlined).toBe(true);
    expect(out.proto.content).toBeUndefined();
    expect(receiveInlined(out.proto, out.deflated.tree).message.error.reason).toBe("boom");
  });

  test("messages over the limit, or with a missing object, travel as objects", () => {
    const out = prepareOutgoing(instruction(10_000));
    let total = 0;
    for (const bytes of out.deflated.objects.values()) total += bytes.length;
    const get = (id: string) => out.deflated.objects.get(id);
    expect(inlineFromObjects(out.deflated.tree, get, total - 1)).toBeUndefined();
    expect(inlineFromObjects(out.deflated.tree, get, total)).toBeDefined();
    expect(inlineFromObjects(out.deflated.tree, get, 0)).toBeUndefined();
    const missing = out.deflated.tree.children[0]!.objectId;
    expect(
      inlineFromObjects(out.deflated.tree, (id) => (id === missing ? undefined : get(id)), total),
    ).toBeUndefined();
    expect(prepareOutgoingBatch([instruction(10_000)], total - 1)[0]!.inlined).toBe(false);
  });

  test("an array split into several chunks is not inlined (it would rebuild as one chunk)", () => {
    const msg = instruction(4096);
    msg.metadata.messageId = "";
    const chunked = deflateMessage(msg, { chunkSize: 1024 });
    let total = 0;
    for (const bytes of chunked.objects.values()) total += bytes.length;
    expect(inlineFromMessage(msg, chunked.tree, total, MAX_INLINE_MAX_BYTES)).toBeUndefined();
    expect(
      inlineFromObjects(chunked.tree, (id) => chunked.objects.get(id), MAX_INLINE_MAX_BYTES),
    ).toBeUndefined();
  });

  test("content that does not match the tree is refused", () => {
    const out = prepareOutgoingBatch([instruction()], DEFAULT_INLINE_MAX_BYTES)[0]!;
    const items = out.proto.content!.items.map((item) =>
      item.key === "metrics"
        ? {
            ...item,
            value: {
              $case: "metricRecord" as const,
              value: {
                items: [{ key: "loss", value: { value: { $case: "double" as const, value: 9 } } }],
              },
            },
          }
        : item,
    );
    expect(() =>
      receiveInlined({ ...out.proto, content: { items } } as typeof out.proto, out.deflated.tree),
    ).toThrow(InlineContentError);
    // A different message's tree.
    const other = prepareOutgoingBatch([instruction(999)], DEFAULT_INLINE_MAX_BYTES)[0]!;
    expect(() => receiveInlined(out.proto, other.deflated.tree)).toThrow(/does not match/);
    // Neither content nor error.
    expect(() => receiveInlined({ ...out.proto, content: undefined }, out.deflated.tree)).toThrow(
      /malformed/,
    );
  });
});

describe("inline headers and limit", () => {
  test("announcements parse as plain decimal numbers, capped", () => {
    const md = (v?: string) => {
      const m = new Metadata();
      if (v !== undefined) m.set(INLINE_ACCEPT_HEADER, v);
      return m;
    };
    expect(announcedInlineMax(md())).toBe(0);
    expect(announcedInlineMax(md("4096"))).toBe(4096);
    expect(announcedInlineMax(md("-1"))).toBe(0);
    expect(announcedInlineMax(md("1e6"))).toBe(0);
    expect(announcedInlineMax(md("99999999999"))).toBe(0);
    expect(announcedInlineMax(md(String(MAX_INLINE_MAX_BYTES * 4)))).toBe(MAX_INLINE_MAX_BYTES);
    expect(announcedInlineMax(announceInline(new Metadata(), 123))).toBe(123);
  });

  test("only well-formed message ids are taken from the inlined list", () => {
    const a = "a".repeat(64);
    const b = "0123456789abcdef".repeat(4);
    const md = markInlined(new Metadata(), [a, "not-an-id", b, "A".repeat(64)]);
    expect([...inlinedIds(md)]).toEqual([a, b]);
    expect(markInlined(new Metadata(), []).get("flwr-ts-inlined")).toEqual([]);
  });

  test(`${INLINE_MAX_ENV} sets the limit; 0 turns inlining off; garbage is named`, () => {
    expect(inlineMaxFromEnv({})).toBe(DEFAULT_INLINE_MAX_BYTES);
    expect(inlineMaxFromEnv({ [INLINE_MAX_ENV]: "0" })).toBe(0);
    expect(inlineMaxFromEnv({ [INLINE_MAX_ENV]: " 2048 " })).toBe(2048);
    expect(inlineMaxFromEnv({ [INLINE_MAX_ENV]: "999999999" })).toBe(MAX_INLINE_MAX_BYTES);
    expect(() => inlineMaxFromEnv({ [INLINE_MAX_ENV]: "1MB" })).toThrow(
      /FLWR_TS_INLINE_MAX_BYTES must be a number of bytes/,
    );
  });
});
