/**
 * The object IDs of protocol brief §6.1, computed by Python Flower; verified unchanged under the
 * pinned flwr 1.29.0 (see interop tests for vectors generated at test time).
 */
import { describe, expect, it } from "vitest";
import {
  ArrayRecord,
  ConfigRecord,
  deflateLazy,
  deflateMessage,
  inflateMessage,
  Message,
  Metadata,
  MetricRecord,
  NdArray,
  RecordDict,
} from "../src/index.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("latin1");

function vectors() {
  const config = new ConfigRecord({ "server-round": 1n, lr: 0.1 });
  const metrics = new MetricRecord({ "num-examples": 10n, loss: 0.5 });
  const array = NdArray.fromTypedArray(new Float32Array([1, 2]));
  const arrays = new ArrayRecord({ w: array });
  const content = new RecordDict({ arrays, config });
  const message = new Message(
    new Metadata({
      runId: 123n,
      messageId: "",
      srcNodeId: 1n,
      dstNodeId: 456n,
      replyToMessageId: "",
      groupId: "1",
      ttl: 43200,
      messageType: "train",
      createdAt: 1774800000.0,
    }),
    content,
  );
  return { config, metrics, array, arrays, content, message };
}

describe("protocol brief §6.1 object IDs (unchanged in flwr 1.29.0)", () => {
  it("ConfigRecord{server-round: 1 (sint64), lr: 0.1}", () => {
    const r = deflateLazy(vectors().config);
    expect(r.rootId).toBe("99b7eb9d995efdc256ff913edd42d12b3f4ec41fdedf889165f92aa02fa0fb8f");
    expect(hex(r.objects.get(r.rootId)!.content())).toBe(
      "ConfigRecord  37\0\n\x12\n\x0cserver-round\x12\x02\x10\x02\n\x0f\n\x02lr\x12\t\t\x9a\x99\x99\x99\x99\x99\xb9?",
    );
  });

  it("MetricRecord{num-examples: 10, loss: 0.5}", () => {
    expect(deflateLazy(vectors().metrics).rootId).toBe(
      "774e484fca5b41799eeb0ee11484ef780f1194e442b05cbf3207d51a428f5236",
    );
  });

  it("empty RecordDict is `RecordDict  2\\0{}`", () => {
    const r = deflateLazy(new RecordDict());
    expect(hex(r.objects.get(r.rootId)!.content())).toBe("RecordDict  2\0{}");
    expect(r.rootId).toBe("a5fc9cb09319dc373f7a8f11a799fd0d90c359120fd6241c230de34a4f93be3e");
  });

  it("float32 [1, 2]: 136-byte .npy, chunk, Array, ArrayRecord, RecordDict, Message", () => {
    const v = vectors();
    expect(v.array.data.length).toBe(136);
    const a = deflateLazy(v.array);
    expect([...a.objects.keys()]).toEqual([
      "98cf989024fca817c43ef779fbd3be783fb93ad32cc470e064f82efb506377d6",
      "c6eb924741274b78d8d2f566698064fffeaa0189b313a730d2e40ad2bdb1c9c2",
    ]);
    expect(hex(a.objects.get(a.rootId)!.content())).toBe(
      'Array 98cf989024fca817c43ef779fbd3be783fb93ad32cc470e064f82efb506377d6 83\0{"dtype": "float32", "shape": [2], "stype": "numpy.ndarray", "arraychunk_ids": [0]}',
    );
    expect(deflateLazy(v.arrays).rootId).toBe(
      "9cc27e52b16e582ac34013441ac0e361efdbf601d640bcc535be992da2c17612",
    );
    expect(deflateLazy(v.content).rootId).toBe(
      "f334152d4aeb6c93e7b1ccaa22507e9ca6af36e33e0772749510867ae6fafc3c",
    );
    const d = deflateMessage(v.message);
    expect(d.messageId).toBe("86cdd9b2b833c7ae0a22fbc43e0620ed9cec5448c126d05987830c2ff4027d8e");
    expect(d.tree).toEqual({
      objectId: d.messageId,
      children: [
        {
          objectId: "f334152d4aeb6c93e7b1ccaa22507e9ca6af36e33e0772749510867ae6fafc3c",
          children: [
            {
              objectId: "9cc27e52b16e582ac34013441ac0e361efdbf601d640bcc535be992da2c17612",
              children: [
                {
                  objectId: "c6eb924741274b78d8d2f566698064fffeaa0189b313a730d2e40ad2bdb1c9c2",
                  children: [
                    {
                      objectId: "98cf989024fca817c43ef779fbd3be783fb93ad32cc470e064f82efb506377d6",
                      children: [],
                    },
                  ],
                },
              ],
            },
            {
              objectId: "99b7eb9d995efdc256ff913edd42d12b3f4ec41fdedf889165f92aa02fa0fb8f",
              children: [],
            },
          ],
        },
      ],
    });
    // Post-order: children before parents.
    expect([...d.objects.keys()].at(-1)).toBe(d.messageId);
    expect(d.objects.size).toBe(6);
  });

  it("message ID ignores message_id and inflates back", () => {
    const v = vectors();
    v.message.metadata.messageId = "something";
    const d = deflateMessage(v.message);
    expect(d.messageId).toBe("86cdd9b2b833c7ae0a22fbc43e0620ed9cec5448c126d05987830c2ff4027d8e");
    const back = inflateMessage(d.objects, d.messageId);
    expect(back.metadata.messageId).toBe(d.messageId);
    expect(back.metadata.runId).toBe(123n);
    expect(back.content.get("config")).toEqual(v.config);
    expect((back.content.get("arrays") as ArrayRecord).get("w")!.toTypedArray("float32")).toEqual(
      new Float32Array([1, 2]),
    );
  });
});
