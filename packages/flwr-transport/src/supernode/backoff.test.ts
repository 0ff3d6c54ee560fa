import { describe, expect, test } from "vitest";
import { Backoff } from "./backoff.js";

/** A clock the test moves by hand. */
function manualClock(start = 1000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function take(b: Backoff, n: number): (number | undefined)[] {
  return Array.from({ length: n }, () => b.next());
}

describe("Backoff", () => {
  test("without jitter: exponential from the initial delay, capped", () => {
    const b = new Backoff({ jitter: "none", initialDelayMs: 1000, maxDelayMs: 20_000 });
    expect(take(b, 7)).toEqual([1000, 2000, 4000, 8000, 16_000, 20_000, 20_000]);
    expect(b.attempts).toBe(7);
  });

  test("full jitter scales the capped delay by random()", () => {
    const randoms = [0.5, 0, 0.999, 0.25];
    const b = new Backoff({ random: () => randoms.shift()!, maxDelayMs: 3000 });
    expect(take(b, 4)).toEqual([500, 0, 0.999 * 3000, 750]);
  });

  test("ratio jitter stays within ±ratio of the delay", () => {
    const lo = new Backoff({ jitter: { ratio: 0.2 }, random: () => 0 });
    const hi = new Backoff({ jitter: { ratio: 0.2 }, random: () => 1 });
    expect(take(lo, 3).map((d) => Math.round(d!))).toEqual([800, 1600, 3200]);
    expect(take(hi, 3).map((d) => Math.round(d!))).toEqual([1200, 2400, 4800]);
  });

  test("maxRetries: gives up after that many retries (Flower's max_tries = retries + 1)", () => {
    const b = new Backoff({ jitter: "none", maxRetries: 2 });
    expect(take(b, 3)).toEqual([1000, 2000, undefined]);
    expect(new Backoff({ maxRetries: 0 }).next()).toBeUndefined();
  });

  test("maxWaitTime: waits are clipped to the time left, then it gives up", () => {
    const clock = manualClock();
    const b = new Backoff({ jitter: "none", maxWaitTimeMs: 5000, now: clock.now });
    expect(b.next()).toBe(1000);
    clock.advance(1000);
    expect(b.next()).toBe(2000);
    clock.advance(2000);
    expect(b.next()).toBe(2000); // 4000 clipped to the 2000 ms left
    clock.advance(2000);
    expect(b.elapsedMs).toBe(5000);
    expect(b.next()).toBeUndefined();
  });

  test("reset starts the schedule and the budgets over", () => {
    const clock = manualClock();
    const b = new Backoff({ jitter: "none", maxRetries: 2, maxWaitTimeMs: 10_000, now: clock.now });
    take(b, 2);
    clock.advance(20_000);
    expect(b.next()).toBeUndefined();
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.elapsedMs).toBe(0);
    expect(take(b, 3)).toEqual([1000, 2000, undefined]);
  });

  test("an initial delay above the cap starts at the cap", () => {
    expect(new Backoff({ jitter: "none", initialDelayMs: 50, maxDelayMs: 10 }).next()).toBe(10);
  });

  test.each([
    [{ initialDelayMs: -1 }],
    [{ maxDelayMs: Number.NaN }],
    [{ multiplier: 0.5 }],
    [{ maxRetries: 1.5 }],
    [{ maxRetries: -1 }],
    [{ maxWaitTimeMs: -5 }],
    [{ jitter: { ratio: 2 } }],
  ])("rejects invalid options %j", (options) => {
    expect(() => new Backoff(options)).toThrow(RangeError);
  });
});
