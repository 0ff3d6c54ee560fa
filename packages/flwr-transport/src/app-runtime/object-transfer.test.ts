/** Pulling a message over an AppIo API, with the object cache of warm app processes. */
import {
  ArrayRecord,
  ConfigRecord,
  deflateMessage,
  Message,
  NdArray,
  RecordDict,
} from "@flwr-ts/core";
import { describe, expect, test } from "vitest";
import type { PulledObject } from "../supernode/fleet-connection.js";
import { ObjectCache } from "../supernode/object-cache.js";
import { pullMessage } from "./object-transfer.js";

function message(round: bigint) {
  const m = new Message(
    new RecordDict({
      arrays: new ArrayRecord({ w: NdArray.fromTypedArray(new Float32Array([1, 2, 3, 4])) }),
      config: new ConfigRecord({ "server-round": round }),
    }),
    3n,
    "train",
  );
  m.metadata.runId = 1n;
  m.metadata.srcNodeId = 1n;
  return deflateMessage(m);
}

describe("pullMessage", () => {
  test("objects in the cache are not pulled again; pulled ones are cached", async () => {
    const cache = new ObjectCache();
    const pulled: string[] = [];
    const confirmed: string[] = [];
    const run = async (d: ReturnType<typeof message>) =>
      pullMessage(
        d.tree,
        async (id): Promise<PulledObject> => {
          pulled.push(id);
          return { found: true, available: true, content: d.objects.get(id)! };
        },
        async (id) => {
          confirmed.push(id);
        },
        undefined,
        cache,
      );
    const first = message(1n);
    const m1 = await run(first);
    expect(m1.metadata.messageId).toBe(first.messageId);
    expect(new Set(pulled)).toEqual(new Set(first.objects.keys()));
    pulled.length = 0;
    const second = message(2n); // same arrays, new config: only the changed objects are pulled
    const m2 = await run(second);
    const shared = [...second.objects.keys()].filter((id) => first.objects.has(id));
    expect(shared.length).toBeGreaterThan(0);
    expect(pulled.sort()).toEqual(
      [...second.objects.keys()].filter((id) => !first.objects.has(id)).sort(),
    );
    expect(m2.content.configRecords.get("config")?.get("server-round")).toBe(2n);
    expect(confirmed).toEqual([first.messageId, second.messageId]);
  });

  test("corrupt bytes are rejected and not cached", async () => {
    const cache = new ObjectCache();
    const d = message(1n);
    await expect(
      pullMessage(
        d.tree,
        async () => ({ found: true, available: true, content: new Uint8Array([1, 2, 3]) }),
        async () => {},
        undefined,
        cache,
      ),
    ).rejects.toThrow(/corrupt/);
    expect(cache.size).toBe(0);
  });
});
