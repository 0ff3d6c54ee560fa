import { Metadata, status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { type HeartbeatLost, HeartbeatSender, nextHeartbeatDelayMs } from "./heartbeat.js";

function rpcError(code: status, details: string) {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

describe("nextHeartbeatDelayMs", () => {
  test("(30 − 5) × U(0.7, 0.9) s", () => {
    expect(nextHeartbeatDelayMs(() => 0)).toBeCloseTo(17_500, 6);
    expect(nextHeartbeatDelayMs(() => 0.5)).toBeCloseTo(20_000, 6);
    expect(nextHeartbeatDelayMs(() => 0.999999)).toBeCloseTo(22_500, 0);
  });
});

describe("HeartbeatSender", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test("beats every interval with Flower's 5 s deadline and 30 s interval semantics", async () => {
    const calls: number[] = [];
    const hb = new HeartbeatSender({
      send: async (timeoutMs) => {
        calls.push(timeoutMs);
        return true;
      },
      onLost: () => {
        throw new Error("unexpected");
      },
      random: () => 0.5,
    });
    hb.start();
    await vi.advanceTimersByTimeAsync(19_999);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([5000]);
    await vi.advanceTimersByTimeAsync(40_000);
    expect(calls).toHaveLength(3);
    await hb.stop();
    await vi.advanceTimersByTimeAsync(100_000);
    expect(calls).toHaveLength(3);
  });

  test("beatNow sends at once", async () => {
    let n = 0;
    const hb = new HeartbeatSender({
      send: async () => {
        n += 1;
        return true;
      },
      onLost: () => {},
    });
    hb.start();
    await vi.advanceTimersByTimeAsync(0);
    hb.beatNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(n).toBe(1);
    await hb.stop();
  });

  test("UNAVAILABLE and DEADLINE_EXCEEDED are retried with backoff; success=false is lost", async () => {
    const results: (Error | boolean)[] = [
      rpcError(status.UNAVAILABLE, "down"),
      rpcError(status.DEADLINE_EXCEEDED, "slow"),
      true,
      false,
    ];
    const lost: HeartbeatLost[] = [];
    let calls = 0;
    const hb = new HeartbeatSender({
      send: async () => {
        calls += 1;
        const r = results.shift()!;
        if (r instanceof Error) throw r;
        return r;
      },
      onLost: (l) => lost.push(l),
      random: () => 0.5,
    });
    hb.start();
    await vi.advanceTimersByTimeAsync(20_000 + 500 + 1000); // first beat, then two jittered retries
    expect(calls).toBe(3);
    expect(hb.running).toBe(true);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(calls).toBe(4);
    expect(lost).toEqual([{ reason: "rejected" }]);
    expect(hb.running).toBe(false);
  });

  test("UNAUTHENTICATED stops the sender and reports it", async () => {
    const lost: HeartbeatLost[] = [];
    const hb = new HeartbeatSender({
      send: async () => {
        throw rpcError(status.UNAUTHENTICATED, "Invalid node ID");
      },
      onLost: (l) => lost.push(l),
      random: () => 0.5,
    });
    hb.start();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(lost.map((l) => l.reason)).toEqual(["unauthenticated"]);
    expect(hb.running).toBe(false);
  });
});
