/**
 * The per-call inline budget: at most 48 messages and the announced bytes per PushMessages or
 * PullMessages, the rest as objects — so many messages sharing big arrays never multiply them.
 */
import { ArrayRecord, ConfigRecord, Message, NdArray, RecordDict } from "@flwr-ts/core";
import { Metadata } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import { prepareOutgoingBatch } from "../app-runtime/object-transfer.js";
import type { CallContext } from "../grpc/server-handlers.js";
import { MemoryObjectStore } from "../object-store/memory-object-store.js";
import {
  announceInline,
  DEFAULT_INLINE_MAX_BYTES,
  inlinedIds,
  MAX_INLINED_PER_CALL,
} from "./inline-content.js";
import { inlinePullAnswer } from "./inline-server.js";

function instructions(n: number, floats: number): Message[] {
  const shared = new ArrayRecord({ w: NdArray.fromTypedArray(new Float32Array(floats).fill(0.5)) });
  return Array.from({ length: n }, (_, i) => {
    const m = new Message(
      new RecordDict({ arrays: shared, config: new ConfigRecord({ i: BigInt(i) }) }),
      BigInt(i + 10),
      "train",
    );
    m.metadata.runId = 7n;
    m.metadata.srcNodeId = 1n;
    return m;
  });
}

function context(inlineMax: number): CallContext {
  return {
    method: "/flwr.proto.ServerAppIo/PullMessages",
    protocol: "grpc",
    metadata: announceInline(new Metadata(), inlineMax),
    peer: "test",
    signal: new AbortController().signal,
    attributes: new Map(),
    responseMetadata: new Metadata(),
  };
}

describe("inline budget per call", () => {
  test(`a push inlines at most ${MAX_INLINED_PER_CALL} small messages`, () => {
    const out = prepareOutgoingBatch(instructions(60, 4), DEFAULT_INLINE_MAX_BYTES);
    expect(out.filter((o) => o.inlined)).toHaveLength(MAX_INLINED_PER_CALL);
    expect(out.slice(MAX_INLINED_PER_CALL).every((o) => !o.inlined)).toBe(true);
    expect(out.slice(MAX_INLINED_PER_CALL).every((o) => o.proto.content?.items.length === 0)).toBe(
      true,
    );
  });

  test("messages sharing a 300 KB array: only as many as the bytes allow are inlined", () => {
    const out = prepareOutgoingBatch(instructions(10, 75_000), DEFAULT_INLINE_MAX_BYTES);
    expect(out.filter((o) => o.inlined)).toHaveLength(3);
    expect(prepareOutgoingBatch(instructions(3, 75_000), 0).some((o) => o.inlined)).toBe(false);
  });

  test("a pull answer spends the client's budget the same way and lists what it inlined", () => {
    const store = new MemoryObjectStore();
    const out = prepareOutgoingBatch(instructions(5, 75_000), 0);
    for (const o of out) {
      for (const id of store.preregister(7n, o.deflated.tree))
        store.put(id, o.deflated.objects.get(id)!);
    }
    const ctx = context(DEFAULT_INLINE_MAX_BYTES);
    const { messages, inlined } = inlinePullAnswer(
      ctx,
      DEFAULT_INLINE_MAX_BYTES,
      store,
      out.map((o) => ({ message: o.proto, tree: o.deflated.tree })),
    );
    expect(inlined).toEqual(out.slice(0, 3).map((o) => o.deflated.messageId));
    expect(inlinedIds(ctx.responseMetadata)).toEqual(new Set(inlined));
    expect(messages.slice(0, 3).every((m) => (m.content?.items.length ?? 0) === 2)).toBe(true);
    expect(messages.slice(3).every((m) => m.content?.items.length === 0)).toBe(true);
    // A client that did not announce gets nothing inline.
    const plain = context(0);
    (plain.metadata as Metadata).remove("flwr-ts-inline-max-bytes");
    const none = inlinePullAnswer(
      plain,
      DEFAULT_INLINE_MAX_BYTES,
      store,
      out.map((o) => ({ message: o.proto, tree: o.deflated.tree })),
    );
    expect(none.inlined).toEqual([]);
    expect(plain.responseMetadata.get("flwr-ts-inlined")).toEqual([]);
  });
});
