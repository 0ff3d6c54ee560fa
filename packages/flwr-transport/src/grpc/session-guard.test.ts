/**
 * Regression tests of issue #12 finding 2 on a real SuperLink (TLS, 127.0.0.1): metadata over
 * Flower's 16 KiB hard limit is answered RESOURCE_EXHAUSTED at once, and a header field so large
 * that HTTP/2's decoder gives up on the connection (over 64 KiB) gets that connection closed
 * instead of left open, unread, until keepalive.
 */
import { readFileSync } from "node:fs";
import { Metadata, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendRawHeaders } from "../../test/raw-http2.js";
import { startTestSuperLink, type TestSuperLink } from "../../test/superlink-test-kit.js";

const HEARTBEAT = { node: { nodeId: 1n }, heartbeatInterval: 30 };
let kit: TestSuperLink;
beforeAll(async () => {
  kit = await startTestSuperLink();
});
afterAll(() => kit.stop());

function bigMetadata(bytes: number): Metadata {
  const md = new Metadata();
  md.set("x-big", "a".repeat(bytes));
  return md;
}

async function codeOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return status.OK;
  } catch (error) {
    return (error as { code: number }).code;
  }
}

describe("metadata limits on gRPC servers", () => {
  it("answers metadata under the limit normally", async () => {
    const code = await codeOf(
      kit.fleet().sendNodeHeartbeat(HEARTBEAT, { metadata: bigMetadata(4000), timeoutMs: 10_000 }),
    );
    expect(code).toBe(status.UNAUTHENTICATED);
  });

  it.each([20_000, 60_000])("answers %i bytes of metadata RESOURCE_EXHAUSTED", async (bytes) => {
    for (const call of [
      kit.fleet().sendNodeHeartbeat(HEARTBEAT, { metadata: bigMetadata(bytes), timeoutMs: 10_000 }),
      kit.control().listNodes({}, { metadata: bigMetadata(bytes), timeoutMs: 10_000 }),
    ])
      expect(await codeOf(call)).toBe(status.RESOURCE_EXHAUSTED);
  });

  it("answers every oversized call of one connection RESOURCE_EXHAUSTED (not INTERNAL)", async () => {
    const control = kit.control();
    const codes = await Promise.all(
      [0, 20_000, 0, 20_000, 20_000].map((bytes) =>
        codeOf(control.listNodes({}, { metadata: bigMetadata(bytes), timeoutMs: 10_000 })),
      ),
    );
    expect(codes).toEqual([
      status.OK,
      status.RESOURCE_EXHAUSTED,
      status.OK,
      status.RESOURCE_EXHAUSTED,
      status.RESOURCE_EXHAUSTED,
    ]);
  });

  it("answers HTTP headers over 16 KiB 431 on the HTTP wire", async () => {
    const answer = await kit.httpPost("/v1/fleet/send-node-heartbeat", new Uint8Array(), {
      "x-big": "a".repeat(20_000),
    });
    expect(answer.status).toBe(431);
  });

  it("closes a connection whose header block HTTP/2 cannot decode (a 1 MB field)", async () => {
    const { socket } = await sendRawHeaders({
      port: kit.superlink.ports.fleetPort,
      ca: readFileSync(kit.caCertPath!),
      path: "/flwr.proto.Fleet/SendNodeHeartbeat",
      headers: { "x-big": "a".repeat(1_000_000) },
    });
    const closed = new Promise<string>((resolve) => socket.once("close", () => resolve("closed")));
    // Hang guard only: without the fix the server keeps the socket until keepalive (210 s).
    await expect(
      Promise.race([
        closed,
        new Promise((resolve) => setTimeout(() => resolve("still open"), 5000)),
      ]),
    ).resolves.toBe("closed");
    socket.destroy();
  });
});
