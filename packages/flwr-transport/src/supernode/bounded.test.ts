import { describe, expect, test } from "vitest";
import { forEachBounded } from "./bounded.js";

const tick = () => new Promise<void>((r) => setImmediate(r));

describe("forEachBounded", () => {
  test("runs every item with at most `limit` in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await tick();
      done.push(n);
      inFlight--;
    });
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
  });

  test("starts everything at once when the limit allows", async () => {
    let peak = 0;
    let inFlight = 0;
    await forEachBounded(
      Array.from({ length: 10 }, (_, i) => i),
      16,
      async () => {
        peak = Math.max(peak, ++inFlight);
        await tick();
        inFlight--;
      },
    );
    expect(peak).toBe(10);
  });

  test("rejects with the first error and starts nothing after it", async () => {
    const started: number[] = [];
    const err = await forEachBounded([1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      await tick();
      if (n === 1) throw new Error("first");
      if (n === 2) throw new Error("second");
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe("first");
    expect(started).toEqual([1, 2]);
  });

  test("an empty list resolves at once", async () => {
    await expect(forEachBounded([], 4, async () => {})).resolves.toBeUndefined();
  });
});
