/** Property-based round trips: records → objects → records is lossless and deterministic. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  deflateLazy,
  deflateMessage,
  inflateMessage,
  inflateObject,
  iterateObjectTree,
  verifyObject,
} from "../src/index.js";
import { messageArb, recordArb } from "./records-arbitraries.js";
import { messageToDesc } from "./records-desc.js";

describe("TS → objects → TS round trip (fast-check)", () => {
  it("messages inflate to equal messages, with stable IDs and a consistent tree", () => {
    fc.assert(
      fc.property(messageArb, fc.integer({ min: 1, max: 300 }), (msg, chunkSize) => {
        const d = deflateMessage(msg, { chunkSize });
        for (const [id, bytes] of d.objects) verifyObject(id, bytes);
        const treeIds = new Set([...iterateObjectTree(d.tree)].map((n) => n.objectId));
        expect(treeIds).toEqual(new Set(d.objects.keys()));
        const back = inflateMessage(new Map(d.objects), d.messageId, { consume: true });
        expect(back.metadata.messageId).toBe(d.messageId);
        expect(messageToDesc(back)).toEqual(messageToDesc(msg));
        expect(deflateMessage(back, { chunkSize }).objects).toEqual(d.objects);
      }),
      { numRuns: 150 },
    );
  });

  it("records inflate to equal records of the same class", () => {
    fc.assert(
      fc.property(recordArb, (rec) => {
        const r = deflateLazy(rec, { chunkSize: 64 });
        const objects = new Map([...r.objects].map(([id, o]) => [id, o.content()]));
        const back = inflateObject(objects, r.rootId);
        expect(back.constructor).toBe(rec.constructor);
        expect([...(back as Map<string, unknown>).keys()]).toEqual([...rec.keys()]);
        expect(deflateLazy(back, { chunkSize: 64 }).rootId).toBe(r.rootId);
      }),
      { numRuns: 150 },
    );
  });
});
