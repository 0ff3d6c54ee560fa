import { describe, expect, test } from "vitest";
import { ObjectCache } from "./object-cache.js";

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

describe("ObjectCache", () => {
  test("returns what was stored and counts bytes", () => {
    const cache = new ObjectCache(1000);
    const a = bytes(100);
    cache.set("a", a);
    expect(cache.get("a")).toBe(a);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.totalBytes).toBe(100);
    cache.set("a", a);
    expect(cache.totalBytes).toBe(100);
    expect(cache.size).toBe(1);
  });

  test("evicts the least recently used objects beyond the byte budget", () => {
    const cache = new ObjectCache(1000);
    cache.set("a", bytes(200));
    cache.set("b", bytes(200));
    cache.set("c", bytes(200));
    cache.set("d", bytes(200));
    cache.get("a"); // a is now the most recent
    cache.set("e", bytes(250));
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBeDefined();
    expect(cache.get("e")).toBeDefined();
    expect(cache.totalBytes).toBeLessThanOrEqual(1000);
  });

  test("does not keep objects larger than a quarter of the budget", () => {
    const cache = new ObjectCache(1000);
    cache.set("big", bytes(251));
    expect(cache.get("big")).toBeUndefined();
    expect(cache.totalBytes).toBe(0);
  });
});
