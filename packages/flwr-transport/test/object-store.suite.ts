/**
 * Shared behavioural test suite of {@link ObjectStore} implementations. Every implementation
 * runs it: `objectStoreSuite("memory", () => new MemoryObjectStore())`.
 */
import {
  ArrayRecord,
  ConfigRecord,
  deflateMessage,
  encodeObjectHead,
  inflateMessage,
  Message,
  Metadata,
  NdArray,
  type ObjectTree,
  objectIdOf,
  RecordDict,
} from "@flwr-ts/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  InvalidObjectIdError,
  NoObjectInStoreError,
  type ObjectStore,
  ObjectStoreError,
  UnexpectedObjectContentError,
} from "../src/object-store/object-store.js";

const enc = new TextEncoder();

/** A raw object: `type children len \0 body`, with its ID. */
export function rawObject(
  type: string,
  childIds: readonly string[],
  body: Uint8Array | string,
): { id: string; bytes: Uint8Array } {
  const b = typeof body === "string" ? enc.encode(body) : body;
  const head = encodeObjectHead(type as "ConfigRecord", childIds, b.length);
  const bytes = new Uint8Array(head.length + b.length);
  bytes.set(head);
  bytes.set(b, head.length);
  return { id: objectIdOf(bytes), bytes };
}

/** Bytes hashed as they are (for malformed objects). */
function bytesObject(text: string | Uint8Array): { id: string; bytes: Uint8Array } {
  const bytes = typeof text === "string" ? enc.encode(text) : text;
  return { id: objectIdOf(bytes), bytes };
}

/** A Message → RecordDict → {ConfigRecord, ArrayRecord → Array → chunks} tree of real objects. */
export function realMessage(
  runId: bigint,
  dst: bigint,
  values: Float32Array,
  opts: { chunkSize?: number; lr?: number } = {},
) {
  const content = new RecordDict({
    arrays: new ArrayRecord({ w: NdArray.fromTypedArray(values) }),
    config: new ConfigRecord({ "server-round": 1n, lr: opts.lr ?? 0.1 }),
  });
  const message = new Message(
    new Metadata({
      runId,
      messageId: "",
      srcNodeId: 1n,
      dstNodeId: dst,
      replyToMessageId: "",
      groupId: "1",
      ttl: 43200,
      messageType: "train",
      createdAt: 1774800000.0,
    }),
    content,
  );
  return deflateMessage(message, opts.chunkSize ? { chunkSize: opts.chunkSize } : {});
}

function treeIds(tree: ObjectTree): string[] {
  const out: string[] = [];
  const walk = (t: ObjectTree) => {
    for (const c of t.children) walk(c);
    if (!out.includes(t.objectId)) out.push(t.objectId);
  };
  walk(tree);
  return out;
}

/** A two-level tree: parent(RecordDict) → [a(ConfigRecord), b(ConfigRecord)]. */
function smallTree(tag: string) {
  const a = rawObject("ConfigRecord", [], `a-${tag}`);
  const b = rawObject("ConfigRecord", [], `b-${tag}`);
  const parent = rawObject("RecordDict", [a.id, b.id], `{"a": "${a.id}", "b": "${b.id}"}`);
  const tree: ObjectTree = {
    objectId: parent.id,
    children: [
      { objectId: a.id, children: [] },
      { objectId: b.id, children: [] },
    ],
  };
  return { a, b, parent, tree };
}

const U64_MAX = (1n << 64n) - 1n;

/** Registers the shared ObjectStore tests for one implementation. */
export function objectStoreSuite(name: string, factory: () => ObjectStore): void {
  describe(`ObjectStore (${name})`, () => {
    let store: ObjectStore;
    beforeEach(() => {
      store = factory();
    });
    afterEach(() => {
      store.close();
    });

    it("preregister returns every new ID, children first, as unavailable placeholders", () => {
      const { a, b, parent, tree } = smallTree("1");
      expect(store.preregister(7n, tree)).toEqual([a.id, b.id, parent.id]);
      for (const o of [a, b, parent]) {
        expect(store.has(o.id)).toBe(true);
        expect(store.get(o.id)).toEqual({ found: true, available: false });
        expect(store.contentLength(o.id)).toBe(0);
      }
      expect(store.stats()).toEqual({ objects: 3, availableObjects: 0, bytes: 0 });
    });

    it("preregister again returns only the IDs not pushed yet", () => {
      const { a, b, parent, tree } = smallTree("2");
      store.preregister(7n, tree);
      expect(store.put(a.id, a.bytes)).toBe(true);
      expect(store.preregister(7n, tree)).toEqual([b.id, parent.id]);
      expect(store.put(b.id, b.bytes)).toBe(true);
      expect(store.put(parent.id, parent.bytes)).toBe(true);
      expect(store.preregister(8n, tree)).toEqual([]);
    });

    it("lists a repeated ID once", () => {
      const a = rawObject("ConfigRecord", [], "dup");
      const tree: ObjectTree = {
        objectId: a.id,
        children: [],
      };
      const parent = rawObject("RecordDict", [a.id], "{}");
      const t2: ObjectTree = { objectId: parent.id, children: [tree, tree] };
      expect(store.preregister(1n, t2)).toEqual([a.id, parent.id]);
      expect(store.children(parent.id)).toEqual([a.id]);
      // the child is referenced once by its one parent: deleting the parent frees it
      store.deleteMessage(parent.id);
      expect(store.has(a.id)).toBe(false);
    });

    it("put stores the exact bytes and is idempotent", () => {
      const { a, tree } = smallTree("3");
      store.preregister(1n, tree);
      expect(store.put(a.id, a.bytes)).toBe(true);
      const got = store.get(a.id);
      expect(got.found && got.available).toBe(true);
      if (got.available) expect(Buffer.from(got.content).equals(Buffer.from(a.bytes))).toBe(true);
      expect(store.put(a.id, a.bytes)).toBe(true);
      expect(store.contentLength(a.id)).toBe(a.bytes.length);
      expect(store.stats()).toEqual({ objects: 3, availableObjects: 1, bytes: a.bytes.length });
    });

    it("put returns false when the bytes do not hash to the ID", () => {
      const { a, b, tree } = smallTree("4");
      store.preregister(1n, tree);
      expect(store.put(a.id, b.bytes)).toBe(false);
      expect(store.get(a.id)).toEqual({ found: true, available: false });
      const tampered = Uint8Array.from(a.bytes);
      tampered[tampered.length - 1] = (tampered.at(-1) ?? 0) ^ 1;
      expect(store.put(a.id, tampered)).toBe(false);
      expect(store.stats().availableObjects).toBe(0);
    });

    it("put returns false for an object never preregistered", () => {
      const x = rawObject("ConfigRecord", [], "stranger");
      expect(store.put(x.id, x.bytes)).toBe(false);
      expect(store.has(x.id)).toBe(false);
      expect(store.get(x.id)).toEqual({ found: false, available: false });
      expect(store.contentLength(x.id)).toBeUndefined();
    });

    it.each([
      ["no divider", "ConfigRecord  3abc"],
      ["two head parts", "ConfigRecord 3\0abc"],
      ["four head parts", "ConfigRecord  3 x\0abc"],
      ["unknown type", "Banana  3\0abc"],
      ["wrong body length", "ConfigRecord  4\0abc"],
      ["bad child ID", "RecordDict nothex 3\0abc"],
      ["non-decimal length", "ConfigRecord  x\0abc"],
    ])("put of a malformed object (%s) throws UnexpectedObjectContentError", (_why, text) => {
      const o = bytesObject(text);
      store.preregister(1n, { objectId: o.id, children: [] });
      expect(() => store.put(o.id, o.bytes)).toThrow(UnexpectedObjectContentError);
      expect(store.get(o.id)).toEqual({ found: true, available: false });
    });

    it("rejects bytes whose head children differ from the preregistered tree", () => {
      const { a, b } = smallTree("5");
      const parent = rawObject("RecordDict", [a.id, b.id], "{}");
      // tree claims only one child
      store.preregister(1n, {
        objectId: parent.id,
        children: [{ objectId: a.id, children: [] }],
      });
      expect(() => store.put(parent.id, parent.bytes)).toThrow(UnexpectedObjectContentError);
      expect(store.get(parent.id).available).toBe(false);
    });

    it("preregister rejects an invalid ID and registers nothing", () => {
      const { a } = smallTree("6");
      const bad: ObjectTree = {
        objectId: a.id,
        children: [{ objectId: "not-a-sha256", children: [] }],
      };
      expect(() => store.preregister(1n, bad)).toThrow(InvalidObjectIdError);
      expect(store.has(a.id)).toBe(false);
      expect(store.stats().objects).toBe(0);
      expect(() => store.preregister(1n, { objectId: "", children: [] })).toThrow(
        InvalidObjectIdError,
      );
    });

    it("deleteMessage removes the root and descendants whose refcount drops to 0", () => {
      const shared = rawObject("ConfigRecord", [], "shared");
      const own1 = rawObject("ConfigRecord", [], "own1");
      const own2 = rawObject("ConfigRecord", [], "own2");
      const m1 = rawObject("Message", [shared.id, own1.id], "m1");
      const m2 = rawObject("Message", [shared.id, own2.id], "m2");
      const leaf = (o: { id: string }) => ({ objectId: o.id, children: [] });
      store.preregister(1n, { objectId: m1.id, children: [leaf(shared), leaf(own1)] });
      expect(
        store.preregister(1n, { objectId: m2.id, children: [leaf(shared), leaf(own2)] }),
      ).toEqual([shared.id, own2.id, m2.id]);
      for (const o of [shared, own1, own2, m1, m2]) expect(store.put(o.id, o.bytes)).toBe(true);

      // A referenced object is not deleted.
      store.deleteMessage(shared.id);
      expect(store.has(shared.id)).toBe(true);

      store.deleteMessage(m1.id);
      expect(store.has(m1.id)).toBe(false);
      expect(store.has(own1.id)).toBe(false);
      expect(store.has(shared.id)).toBe(true);
      expect(store.has(m2.id)).toBe(true);

      store.deleteMessage(m2.id);
      expect(store.stats()).toEqual({ objects: 0, availableObjects: 0, bytes: 0 });

      // Unknown IDs are ignored.
      store.deleteMessage(m2.id);
      store.deleteMessage("f".repeat(64));
    });

    it("a real message: preregister, push, pull, rebuild the tree, inflate, delete", () => {
      const d = realMessage(42n, 9n, new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]), { chunkSize: 8 });
      const missing = store.preregister(42n, d.tree);
      expect(new Set(missing)).toEqual(new Set(d.objects.keys()));
      expect(missing.at(-1)).toBe(d.messageId);
      for (const [id, bytes] of d.objects) expect(store.put(id, bytes)).toBe(true);
      expect(store.getObjectTree(d.messageId)).toEqual(d.tree);
      const pulled = new Map<string, Uint8Array>();
      for (const id of treeIds(d.tree)) {
        const got = store.get(id);
        if (!got.available) throw new Error(`object ${id} not available`);
        pulled.set(id, got.content);
      }
      const msg = inflateMessage(pulled, d.messageId);
      const rd = msg.content!;
      expect(rd.configRecords.get("config")?.get("lr")).toBe(0.1);
      store.deleteMessage(d.messageId);
      expect(store.stats().objects).toBe(0);
    });

    it("identical chunks are one object referenced once by their array", () => {
      // 4 identical 8-byte chunks after the 128-byte .npy preamble: chunk size 8
      const d = realMessage(1n, 9n, new Float32Array(64).fill(3), { chunkSize: 8 });
      store.preregister(1n, d.tree);
      for (const [id, bytes] of d.objects) expect(store.put(id, bytes)).toBe(true);
      expect(store.getObjectTree(d.messageId)).toEqual(d.tree);
      store.deleteMessage(d.messageId);
      expect(store.stats()).toEqual({ objects: 0, availableObjects: 0, bytes: 0 });
    });

    it("getObjectTree and children on unknown IDs", () => {
      expect(() => store.getObjectTree("a".repeat(64))).toThrow(NoObjectInStoreError);
      expect(store.children("a".repeat(64))).toBeUndefined();
      const { a, b, parent, tree } = smallTree("7");
      store.preregister(1n, tree);
      expect(store.children(parent.id)).toEqual([a.id, b.id]);
      expect(store.children(a.id)).toEqual([]);
      expect(store.getObjectTree(parent.id)).toEqual(tree);
    });

    it("deleteRun removes the run's messages and keeps objects another run still references", () => {
      const shared = rawObject("ConfigRecord", [], "shared-run");
      const leaf = { objectId: shared.id, children: [] };
      const mA = rawObject("Message", [shared.id], "run A");
      const mB = rawObject("Message", [shared.id], "run B");
      store.preregister(U64_MAX, { objectId: mA.id, children: [leaf] });
      store.preregister(5n, { objectId: mB.id, children: [leaf] });
      for (const o of [shared, mA, mB]) expect(store.put(o.id, o.bytes)).toBe(true);
      store.deleteRun(U64_MAX);
      expect(store.has(mA.id)).toBe(false);
      expect(store.has(shared.id)).toBe(true);
      expect(store.has(mB.id)).toBe(true);
      store.deleteRun(U64_MAX); // twice: no-op
      store.deleteRun(5n);
      expect(store.stats().objects).toBe(0);
      store.deleteRun(123n); // unknown run: no-op
    });

    it("run ids across the whole uint64 range are kept apart", () => {
      const low = smallTree("low");
      const high = smallTree("high");
      store.preregister(1n << 63n, high.tree); // would be negative as int64
      store.preregister((1n << 63n) - 1n, low.tree);
      store.deleteRun(1n << 63n);
      expect(store.has(high.parent.id)).toBe(false);
      expect(store.has(low.parent.id)).toBe(true);
    });

    it("large objects round-trip byte-exactly", () => {
      const body = new Uint8Array(12 * 1024 * 1024);
      for (let i = 0; i < body.length; i += 4096) body[i] = i & 0xff;
      const big = rawObject("ArrayChunk", [], body);
      store.preregister(1n, { objectId: big.id, children: [] });
      expect(store.put(big.id, big.bytes)).toBe(true);
      const got = store.get(big.id);
      if (!got.available) throw new Error("not available");
      expect(got.content.byteLength).toBe(big.bytes.byteLength);
      expect(objectIdOf(got.content)).toBe(big.id);
      expect(store.contentLength(big.id)).toBe(big.bytes.byteLength);
    });

    it("clear removes everything; a closed store refuses calls", () => {
      const { tree, parent } = smallTree("8");
      store.preregister(1n, tree);
      store.clear();
      expect(store.has(parent.id)).toBe(false);
      expect(store.stats().objects).toBe(0);
      store.close();
      store.close(); // idempotent
      expect(() => store.has(parent.id)).toThrow(ObjectStoreError);
    });
  });
}
