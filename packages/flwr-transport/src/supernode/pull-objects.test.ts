import { ConfigRecord, deflateMessage, Message, RecordDict } from "@flwr-ts/core";
import { describe, expect, test } from "vitest";
import type { PulledObject } from "./fleet-connection.js";
import { ObjectPullError, pullObjects } from "./pull-objects.js";

function sample() {
  const content = new RecordDict({ config: new ConfigRecord({ lr: 0.1, "server-round": 1n }) });
  return deflateMessage(new Message(content, 7n, "train", { createdAt: 1_774_800_000 }));
}

const fast = { initialDelayMs: 1, maxDelayMs: 2 };

describe("pullObjects", () => {
  test("pulls every object of the tree, retrying those not yet available", async () => {
    const msg = sample();
    const tries = new Map<string, number>();
    const pulled = await pullObjects(
      msg.tree,
      async (id): Promise<PulledObject> => {
        const n = (tries.get(id) ?? 0) + 1;
        tries.set(id, n);
        if (n < 3) return { found: true, available: false, content: new Uint8Array() };
        return { found: true, available: true, content: msg.objects.get(id)! };
      },
      { limits: fast },
    );
    expect([...pulled.keys()].sort()).toEqual([...msg.objects.keys()].sort());
    for (const n of tries.values()) expect(n).toBe(3);
  });

  test("an object the SuperLink never preregistered is a permanent failure", async () => {
    const msg = sample();
    await expect(
      pullObjects(
        msg.tree,
        async () => ({ found: false, available: false, content: new Uint8Array() }),
        {
          limits: fast,
        },
      ),
    ).rejects.toThrow(/never preregistered/);
  });

  test("gives up after maxTriesPerObject", async () => {
    const msg = sample();
    let calls = 0;
    const err = await pullObjects(
      msg.tree,
      async () => {
        calls += 1;
        return { found: true, available: false, content: new Uint8Array() };
      },
      { limits: { ...fast, maxTriesPerObject: 3, concurrency: 1 } },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectPullError);
    expect((err as Error).message).toMatch(/not available after 3 tries/);
    expect(calls).toBe(3);
  });

  test("content whose hash does not match its id is rejected", async () => {
    const msg = sample();
    await expect(
      pullObjects(msg.tree, async () => ({
        found: true,
        available: true,
        content: new TextEncoder().encode("ConfigRecord  0\u0000"),
      })),
    ).rejects.toThrow(/is corrupt/);
  });
});
