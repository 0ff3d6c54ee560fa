/** Bad object input raises typed ObjectError subclasses with clear messages; nothing crashes. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ArrayRecord,
  ConfigRecord,
  deflateLazy,
  deflateMessage,
  InvalidObjectContentError,
  inflateMessage,
  inflateObject,
  MalformedObjectHeadError,
  Message,
  Metadata,
  MissingObjectError,
  NdArray,
  ObjectBodyLengthError,
  ObjectError,
  ObjectIdMismatchError,
  objectIdOf,
  RecordDict,
  UnknownObjectTypeError,
  verifyObject,
} from "../src/index.js";
import { recordArb } from "./records-arbitraries.js";

const enc = (s: string) => new TextEncoder().encode(s);
const obj = (s: string) => enc(s);
const single = (content: Uint8Array) => new Map([[objectIdOf(content), content]]);
const inflateOne = (content: Uint8Array) => inflateObject(single(content), objectIdOf(content));

function sampleMessage(): Message {
  return new Message(
    new Metadata({
      runId: 1n,
      messageId: "",
      srcNodeId: 1n,
      dstNodeId: 2n,
      replyToMessageId: "",
      groupId: "",
      ttl: 10,
      createdAt: 1774800000,
      messageType: "train",
    }),
    new RecordDict({
      a: new ArrayRecord({ w: NdArray.fromTypedArray(new Float32Array(40)) }),
      c: new ConfigRecord({ x: 1n }),
    }),
  );
}

describe("inflate rejects bad objects with typed errors", () => {
  it("hash mismatch", () => {
    const d = deflateMessage(sampleMessage());
    const [firstId, bytes] = [...d.objects][0]!;
    const tampered = bytes.slice();
    tampered[tampered.length - 1]! ^= 1;
    d.objects.set(firstId, tampered);
    expect(() => inflateMessage(d.objects, d.messageId)).toThrow(ObjectIdMismatchError);
    expect(() => verifyObject(firstId, tampered)).toThrow(/hashes to [0-9a-f]{64}/);
  });

  it("malformed heads", () => {
    expect(() => inflateOne(obj("RecordDict  2{}"))).toThrow(MalformedObjectHeadError);
    expect(() => inflateOne(obj("RecordDict 2\0{}"))).toThrow(/3 space-separated parts/);
    expect(() => inflateOne(obj("RecordDict  2 x\0{}"))).toThrow(MalformedObjectHeadError);
    expect(() => inflateOne(obj("RecordDict zz 2\0{}"))).toThrow(/invalid child object ID/);
    expect(() => inflateOne(obj("RecordDict  0x2\0{}"))).toThrow(/not a decimal integer/);
    expect(() => inflateOne(new Uint8Array([0xff, 0x20, 0x20, 0x30, 0]))).toThrow(/UTF-8/);
  });

  it("wrong body length", () => {
    expect(() => inflateOne(obj("RecordDict  3\0{}"))).toThrow(ObjectBodyLengthError);
    expect(() => inflateOne(obj("RecordDict  1\0{}"))).toThrow(
      /announces a 1-byte body but the body has 2/,
    );
  });

  it("unknown type", () => {
    expect(() => inflateOne(obj("Tensor  2\0{}"))).toThrow(UnknownObjectTypeError);
  });

  it("missing root and missing child", () => {
    expect(() => inflateObject(new Map(), "a".repeat(64))).toThrow(MissingObjectError);
    const d = deflateMessage(sampleMessage());
    const chunkId = [...d.objects.keys()][0]!;
    d.objects.delete(chunkId);
    expect(() => inflateMessage(d.objects, d.messageId)).toThrow(MissingObjectError);
    expect(() => inflateMessage(d.objects, d.messageId)).toThrow(/referenced by/);
  });

  it("children that do not fit the parent or the body", () => {
    const cfg = deflateLazy(new ConfigRecord({ x: 1n }));
    const cfgBytes = cfg.objects.get(cfg.rootId)!.content();
    // A Message whose child is a ConfigRecord.
    const msgBody = deflateLazy(sampleMessage()).objects;
    const root = [...msgBody.values()].at(-1)!;
    const bad = new Uint8Array([
      ...enc(`Message ${cfg.rootId} ${root.body.length}\0`),
      ...root.body,
    ]);
    const map = new Map([
      [objectIdOf(bad), bad],
      [cfg.rootId, cfgBytes],
    ]);
    expect(() => inflateMessage(map, objectIdOf(bad))).toThrow(/cannot have a ConfigRecord child/);
    // A RecordDict whose JSON names an ID that is not in its head.
    const rd = obj(`RecordDict ${cfg.rootId} 10\0{"x": "y"}`);
    expect(() =>
      inflateObject(new Map([...single(rd), [cfg.rootId, cfgBytes]]), objectIdOf(rd)),
    ).toThrow(/differ from the children listed in the head/);
    // Not JSON.
    expect(() => inflateOne(obj("RecordDict  2\0{x"))).toThrow(InvalidObjectContentError);
    // An Array whose chunk index is out of range.
    const arr = obj(
      'Array  71\0{"dtype": "float32", "shape": [0], "stype": "s", "arraychunk_ids": [1]}',
    );
    expect(() => inflateOne(arr)).toThrow(/chunk index 1/);
    // A bare ArrayChunk is not a record.
    expect(() => inflateOne(obj("ArrayChunk  1\0x"))).toThrow(InvalidObjectContentError);
  });

  it("invalid protobuf bodies and invalid metadata", () => {
    expect(() => inflateOne(obj("ConfigRecord  2\0\n\x05"))).toThrow(/invalid ConfigRecord body/);
    expect(() => inflateOne(obj("MetricRecord  4\0\n\x02\x12\x00"))).toThrow(/no value set/);
    // Message body with message_type "nope".
    const body = new Uint8Array([0x0a, 0x06, 0x42, 0x04, ...enc("nope")]);
    const m = new Uint8Array([...enc(`Message  ${body.length}\0`), ...body]);
    expect(() => inflateMessage(single(m), objectIdOf(m))).toThrow(/invalid message type/);
  });

  it("inflateMessage of a non-Message root", () => {
    const rd = obj("RecordDict  2\0{}");
    expect(() => inflateMessage(single(rd), objectIdOf(rd))).toThrow(/expected a Message object/);
  });

  it("fuzz: corrupted (re-hashed) objects only ever raise ObjectError", () => {
    fc.assert(
      fc.property(
        recordArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat(),
        (rec, flips, cut) => {
          const r = deflateLazy(rec, { chunkSize: 32 });
          const objects = new Map([...r.objects].map(([id, o]) => [id, o.content()]));
          const root = objects.get(r.rootId)!.slice();
          for (const [pos, val] of flips) root[pos % root.length] = val;
          const mutated = cut % 3 === 0 ? root.subarray(0, cut % (root.length + 1)) : root;
          const id = objectIdOf(mutated);
          objects.set(id, mutated);
          try {
            inflateObject(objects, id);
          } catch (err) {
            expect(err).toBeInstanceOf(ObjectError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
