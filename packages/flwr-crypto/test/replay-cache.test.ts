import { describe, expect, it } from "vitest";
import { formatFlowerTimestamp, ReplayCache } from "../src/index.js";

const T0 = Date.parse("2026-03-29T20:47:21.000Z");
const KEY_A = "-----BEGIN PUBLIC KEY-----\nA\n-----END PUBLIC KEY-----\n";
const KEY_B = Buffer.from("-----BEGIN PUBLIC KEY-----\nB\n-----END PUBLIC KEY-----\n");
const ts = (offsetMs: number) => formatFlowerTimestamp((T0 + offsetMs) * 1000);

describe("ReplayCache", () => {
  it("accepts a (key, timestamp) pair once; other keys or timestamps are independent", () => {
    let now = T0;
    const cache = new ReplayCache({ clock: () => now });
    expect(cache.checkAndRemember(KEY_A, ts(0))).toBe(true);
    expect(cache.checkAndRemember(KEY_A, ts(0))).toBe(false);
    expect(cache.checkAndRemember(Buffer.from(KEY_A), ts(0))).toBe(false); // bytes or text alike
    expect(cache.checkAndRemember(KEY_B, ts(0))).toBe(true);
    expect(cache.checkAndRemember(KEY_A, ts(1))).toBe(true);
    now += 100_000;
    expect(cache.checkAndRemember(KEY_A, ts(0))).toBe(false);
    expect(cache.size).toBe(3);
  });

  it("forgets a pair once its timestamp has left the 305 s window, and sweeps it", () => {
    let now = T0;
    const cache = new ReplayCache({ clock: () => now });
    cache.checkAndRemember(KEY_A, ts(0));
    now = T0 + 304_999;
    expect(cache.checkAndRemember(KEY_A, ts(0))).toBe(false);
    now = T0 + 305_000;
    expect(cache.checkAndRemember(KEY_B, ts(305_000))).toBe(true); // sweeps the expired entry
    expect(cache.size).toBe(1);
    expect(cache.checkAndRemember(KEY_A, ts(0))).toBe(true); // outside the window: not stored
    expect(cache.size).toBe(1);
  });

  it("keeps memory bounded under a flood and counts forced evictions", () => {
    let now = T0;
    const cache = new ReplayCache({ clock: () => now, maxEntries: 1000 });
    for (let i = 0; i < 5000; i++) {
      now = T0 + i;
      expect(cache.checkAndRemember(KEY_A, ts(i))).toBe(true);
    }
    expect(cache.size).toBe(1000);
    expect(cache.forcedEvictions).toBe(4000);
    expect(cache.checkAndRemember(KEY_A, ts(4999))).toBe(false);
    // entries expire in time order: after the window the cache empties
    now = T0 + 5000 + 305_000;
    cache.checkAndRemember(KEY_B, ts(5000 + 305_000));
    expect(cache.size).toBe(1);
  });

  it("uses the arrival time for unparsable timestamps and validates options", () => {
    let now = T0;
    const cache = new ReplayCache({ clock: () => now, windowMs: 1000 });
    expect(cache.checkAndRemember(KEY_A, "garbage")).toBe(true);
    expect(cache.checkAndRemember(KEY_A, "garbage")).toBe(false);
    now += 1000;
    expect(cache.checkAndRemember(KEY_A, "garbage")).toBe(true);
    expect(() => new ReplayCache({ maxEntries: 0 })).toThrow(
      /maxEntries must be a positive integer/,
    );
    expect(() => new ReplayCache({ windowMs: -1 })).toThrow(/windowMs must be positive/);
  });
});
