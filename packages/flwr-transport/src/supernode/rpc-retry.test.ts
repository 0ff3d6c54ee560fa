import { Metadata, status } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import { Backoff } from "./backoff.js";
import {
  callWithRetry,
  classifyRpcError,
  RetriesExhaustedError,
  rpcErrorDetails,
  ShutdownError,
} from "./rpc-retry.js";

/** An error shaped like grpc-js's ServiceError. */
function rpcError(code: status, details: string) {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), {
    code,
    details,
    metadata: new Metadata(),
  });
}

const noWait = (maxRetries?: number) =>
  new Backoff({ initialDelayMs: 0, maxDelayMs: 0, jitter: "none", maxRetries });

describe("classifyRpcError", () => {
  test.each([
    [status.UNAVAILABLE, "connect ECONNREFUSED 127.0.0.1:9092", "unavailable"],
    [
      status.UNAVAILABLE,
      "No connection established. Last error: Error: unable to verify the first certificate",
      "tls",
    ],
    [status.UNAVAILABLE, "self-signed certificate in certificate chain", "tls"],
    [status.DEADLINE_EXCEEDED, "Deadline exceeded", "deadline"],
    [status.PERMISSION_DENIED, "Run is finished.", "run-not-running"],
    [status.UNAUTHENTICATED, "Invalid node ID", "unauthenticated"],
    [
      status.FAILED_PRECONDITION,
      "No SuperNode found with the given public key.",
      "failed-precondition",
    ],
    [status.INTERNAL, "boom", "other"],
  ] as const)("%s %s → %s", (code, details, kind) => {
    expect(classifyRpcError(rpcError(code, details))).toBe(kind);
  });

  test("non-gRPC errors are 'other'; details are cleaned of grpc-js wrapping", () => {
    expect(classifyRpcError(new TypeError("x"))).toBe("other");
    expect(
      rpcErrorDetails(
        rpcError(
          status.UNAVAILABLE,
          "No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1 (2026-01-01T00:00:00.000Z). Resolution note: ",
        ),
      ),
    ).toBe("connect ECONNREFUSED 127.0.0.1:1");
    // Flower 1.37+'s gRPC servers send a FlowerError as JSON: the SuperNode shows its text.
    expect(
      rpcErrorDetails(
        rpcError(
          status.FAILED_PRECONDITION,
          '{"code": 2004, "public_message": "Failed to activate SuperNode.", "public_details": null}',
        ),
      ),
    ).toBe("Failed to activate SuperNode.");
  });
});

describe("callWithRetry", () => {
  test("retries UNAVAILABLE until success and reports the recovery", async () => {
    let calls = 0;
    const recovered: number[] = [];
    const result = await callWithRetry(
      async () => {
        calls += 1;
        if (calls < 3) throw rpcError(status.UNAVAILABLE, "down");
        return "ok";
      },
      { backoff: noWait(), onRecovered: (tries) => recovered.push(tries) },
    );
    expect(result).toBe("ok");
    expect(calls).toBe(3);
    expect(recovered).toEqual([3]);
  });

  test("does not retry other failures (TLS, auth, run not running)", async () => {
    for (const e of [
      rpcError(status.UNAVAILABLE, "unable to verify the first certificate"),
      rpcError(status.UNAUTHENTICATED, "Invalid signature"),
      rpcError(status.PERMISSION_DENIED, "Run is finished."),
    ]) {
      let calls = 0;
      await expect(
        callWithRetry(
          async () => {
            calls += 1;
            throw e;
          },
          { backoff: noWait() },
        ),
      ).rejects.toBe(e);
      expect(calls).toBe(1);
    }
  });

  test("gives up after maxRetries with RetriesExhaustedError", async () => {
    let calls = 0;
    const err = await callWithRetry(
      async () => {
        calls += 1;
        throw rpcError(status.UNAVAILABLE, "down");
      },
      { backoff: noWait(2) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetriesExhaustedError);
    expect((err as RetriesExhaustedError).retries).toBe(2);
    expect((err as Error).message).toMatch(/Giving up reconnection after .* and 3 tries/);
    expect(calls).toBe(3);
  });

  test("an abort during the wait ends with ShutdownError", async () => {
    const controller = new AbortController();
    const backoff = new Backoff({ initialDelayMs: 60_000, jitter: "none" });
    const pending = callWithRetry(
      async () => {
        throw rpcError(status.UNAVAILABLE, "down");
      },
      { backoff, signal: controller.signal, onRetry: () => controller.abort() },
    );
    await expect(pending).rejects.toBeInstanceOf(ShutdownError);
  });
});
