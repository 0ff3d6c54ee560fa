/**
 * Regression test of issue #12 finding 2c (iv): the replay cache lives in memory, so a SuperLink
 * that restarted would accept a call captured before the restart once more. A call signed before
 * this SuperLink started is now refused UNAVAILABLE ("sign it again"), which SuperNodes (ours and
 * Python's) retry with a fresh signature; one signed after the start passes.
 */
import { ReplayCache } from "@flwr-ts/crypto";
import { Metadata, status } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import { newNodeKey, signedMetadata } from "../../../test/superlink-test-kit.js";
import type { CallContext } from "../../wire/call-context.js";
import { createNodeAuthMiddleware } from "./node-auth-middleware.js";

const ctx = (md: Metadata): CallContext => ({
  method: "/flwr.proto.Fleet/SendNodeHeartbeat",
  protocol: "grpc",
  metadata: md,
  peer: "test",
  signal: new AbortController().signal,
  attributes: new Map(),
  responseMetadata: new Metadata(),
});

describe("Fleet authentication across a SuperLink restart", () => {
  test("a call captured before the restart is refused once the SuperLink runs again", async () => {
    const node = newNodeKey();
    const state = {
      getNodeIdByPublicKey: (key: Uint8Array) =>
        Buffer.compare(Buffer.from(key), node.publicKeyPem) === 0 ? 7n : undefined,
    };
    const request = { node: { nodeId: 7n }, heartbeatInterval: 30 };
    const before = createNodeAuthMiddleware({ state, replayCache: new ReplayCache() });
    const captured = signedMetadata(node.signer);
    await before(request, ctx(captured.clone()));
    // The restart: a new process, a new (empty) replay cache, a later start.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const after = createNodeAuthMiddleware({ state, replayCache: new ReplayCache() });
    await expect(after(request, ctx(captured.clone()))).rejects.toMatchObject({
      code: status.UNAVAILABLE,
    });
    await expect(after(request, ctx(signedMetadata(node.signer)))).resolves.toBeUndefined();
  });
});
