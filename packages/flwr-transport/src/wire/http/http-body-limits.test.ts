/**
 * Regression tests of issue #12 finding 2c (i) on a real SuperLink's HTTP API (TLS, 127.0.0.1):
 * a request body over the limit is answered 413 from its Content-Length, without being read, and
 * a large Fleet body from a caller that is not a registered SuperNode is answered 401 before the
 * body is read. The client sends the headers and one chunk, then waits: without the limits the
 * server waits for the rest of the body and the hang guard fires.
 */
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  newNodeKey,
  signedHttpHeaders,
  startTestSuperLink,
  type TestSuperLink,
} from "../../../test/superlink-test-kit.js";
import { DEFAULT_MAX_BODY_BYTES } from "./http-router.js";

let kit: TestSuperLink;
beforeAll(async () => {
  kit = await startTestSuperLink();
});
afterAll(() => kit.stop());

/** Declares `declared` bytes, sends 64 KiB of them, and resolves with the status answered. */
function partialPost(path: string, declared: number, headers: Record<string, string> = {}) {
  return new Promise<number | string>((resolve) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: kit.httpPort,
        path,
        method: "POST",
        servername: "localhost",
        ca: readFileSync(kit.caCertPath!),
        headers: {
          "content-type": "application/protobuf",
          "content-length": String(declared),
          ...headers,
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      },
    );
    req.on("error", () => {});
    req.write(Buffer.alloc(64 * 1024));
    // Hang guard only (generous): without the limits no answer comes until the body is complete.
    setTimeout(() => {
      resolve("no answer");
      req.destroy();
    }, 5000);
  });
}

describe("HTTP body limits", () => {
  it("has a bounded default body limit (Flower's FAB cap with room)", () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBeLessThanOrEqual(64 * 1024 * 1024);
  });

  it("answers 413 at once for a 500 MB body", async () => {
    expect(await partialPost("/v1/fleet/push-object", 500_000_000)).toBe(413);
    expect(await partialPost("/v1/control/start-run", 500_000_000)).toBe(413);
  });

  it("answers 401 before reading a large Fleet body without auth headers", async () => {
    expect(await partialPost("/v1/fleet/push-object", 10_000_000)).toBe(401);
  });

  it("answers 401 before reading a large Fleet body signed by an unregistered key", async () => {
    const key = newNodeKey();
    expect(
      await partialPost("/v1/fleet/push-object", 10_000_000, signedHttpHeaders(key.signer)),
    ).toBe(401);
  });
});
