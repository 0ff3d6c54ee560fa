/**
 * The hostile suite: every forged, stale, replayed or malformed Fleet request is rejected with
 * UNAUTHENTICATED (or Flower's exact code), over real TLS gRPC, and never reaches INTERNAL.
 */
import { sign } from "node:crypto";
import {
  formatFlowerTimestamp,
  PUBLIC_KEY_HEADER,
  ReplayCache,
  SIGNATURE_HEADER,
  SignatureVerifier,
  TIMESTAMP_HEADER,
} from "@flwr-ts/crypto";
import { Metadata, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  newNodeKey,
  signedMetadata,
  startTestSuperLink,
  type TestNodeKey,
  type TestSuperLink,
} from "../../../test/superlink-test-kit.js";
import type { CallContext } from "../../wire/call-context.js";
import { NOOP_ACCOUNT_NAME, NOOP_FLWR_AID } from "../state/link-state.js";
import { createNodeAuthMiddleware } from "./node-auth-middleware.js";

let link: TestSuperLink;
let alice: TestNodeKey;
let bob: TestNodeKey;
let aliceId: bigint;
let bobId: bigint;
const errors: string[] = [];

function metadata(entries: {
  key?: Buffer | string;
  timestamp?: string;
  signature?: Buffer;
}): Metadata {
  const md = new Metadata();
  if (entries.key !== undefined) md.set(PUBLIC_KEY_HEADER, Buffer.from(entries.key));
  if (entries.timestamp !== undefined) md.set(TIMESTAMP_HEADER, entries.timestamp);
  if (entries.signature !== undefined) md.set(SIGNATURE_HEADER, entries.signature);
  return md;
}

const nowMicros = () => Date.now() * 1000;
const signTs = (key: TestNodeKey, ts: string) =>
  sign("sha256", Buffer.from(ts, "ascii"), { key: key.privateKey, dsaEncoding: "der" });

function signedAt(key: TestNodeKey, micros: number): Metadata {
  const ts = formatFlowerTimestamp(micros);
  return metadata({ key: key.publicKeyPem, timestamp: ts, signature: signTs(key, ts) });
}

beforeAll(async () => {
  link = await startTestSuperLink({
    tls: true,
    enableSupernodeAuth: true,
    log: (level, message) => {
      if (level === "ERROR" && message.startsWith("Unexpected")) errors.push(message);
    },
  });
  alice = newNodeKey();
  bob = newNodeKey();
  const state = link.superlink.state;
  aliceId = state.createNode(NOOP_FLWR_AID, NOOP_ACCOUNT_NAME, alice.publicKeyPem, 30);
  bobId = state.createNode(NOOP_FLWR_AID, NOOP_ACCOUNT_NAME, bob.publicKeyPem, 30);
  state.activateNode(aliceId, 30);
  state.activateNode(bobId, 30);
});

afterAll(async () => {
  await link?.stop();
  expect(errors).toEqual([]);
});

const heartbeat = (md: Metadata, nodeId = aliceId) =>
  link.fleet().sendNodeHeartbeat({ node: { nodeId }, heartbeatInterval: 30 }, { metadata: md });

const unauthenticated = (details: string) => ({ code: status.UNAUTHENTICATED, details });

describe("Fleet authentication: hostile requests", () => {
  test("a correctly signed request passes", async () => {
    await expect(heartbeat(signedMetadata(alice.signer))).resolves.toEqual({ success: true });
  });

  test("missing metadata (each entry, and all)", async () => {
    const ts = formatFlowerTimestamp(nowMicros());
    const sig = signTs(alice, ts);
    for (const md of [
      metadata({}),
      metadata({ timestamp: ts, signature: sig }),
      metadata({ key: alice.publicKeyPem, signature: sig }),
      metadata({ key: alice.publicKeyPem, timestamp: ts }),
    ])
      await expect(heartbeat(md)).rejects.toMatchObject(
        unauthenticated("Missing authentication metadata"),
      );
  });

  test("a foreign signature (bob signs, alice's key presented)", async () => {
    const ts = formatFlowerTimestamp(nowMicros());
    await expect(
      heartbeat(metadata({ key: alice.publicKeyPem, timestamp: ts, signature: signTs(bob, ts) })),
    ).rejects.toMatchObject(unauthenticated("Invalid signature"));
  });

  test("a signature over another timestamp", async () => {
    // One clock reading: two could be 1 ms apart and make `other` equal `ts`.
    const now = nowMicros();
    const ts = formatFlowerTimestamp(now);
    const other = formatFlowerTimestamp(now - 1000);
    await expect(
      heartbeat(
        metadata({ key: alice.publicKeyPem, timestamp: ts, signature: signTs(alice, other) }),
      ),
    ).rejects.toMatchObject(unauthenticated("Invalid signature"));
  });

  test("another node's key: bob, correctly signed, claims alice's node id", async () => {
    await expect(heartbeat(signedMetadata(bob.signer), aliceId)).rejects.toMatchObject(
      unauthenticated("Invalid node ID"),
    );
  });

  test("a stale timestamp (306 s old) and a future one (6 s ahead)", async () => {
    await expect(heartbeat(signedAt(alice, nowMicros() - 306_000_000))).rejects.toMatchObject(
      unauthenticated("Invalid timestamp"),
    );
    await expect(heartbeat(signedAt(alice, nowMicros() + 6_000_000))).rejects.toMatchObject(
      unauthenticated("Invalid timestamp"),
    );
  });

  test("a replayed request is accepted once", async () => {
    const md = signedMetadata(alice.signer);
    await expect(heartbeat(md.clone())).resolves.toEqual({ success: true });
    await expect(heartbeat(md.clone())).rejects.toMatchObject(unauthenticated("Replayed request"));
  });

  test("a malformed PEM gives UNAUTHENTICATED, not INTERNAL", async () => {
    const ts = formatFlowerTimestamp(nowMicros());
    for (const key of [
      "-----BEGIN PUBLIC KEY-----\nnot base64 !!\n-----END PUBLIC KEY-----\n",
      "garbage",
      Buffer.from([0xff, 0x00, 0x80]),
    ])
      await expect(
        heartbeat(metadata({ key, timestamp: ts, signature: signTs(alice, ts) })),
      ).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });

  test("a malformed timestamp, correctly signed, gives UNAUTHENTICATED", async () => {
    for (const ts of ["yesterday", "2026-13-45T99:00:00+00:00", "2026-03-29T20:47:21"]) {
      await expect(
        heartbeat(
          metadata({ key: alice.publicKeyPem, timestamp: ts, signature: signTs(alice, ts) }),
        ),
      ).rejects.toMatchObject(unauthenticated("Invalid timestamp"));
    }
  });

  test("a node-id mismatch on every rpc that names a node", async () => {
    const client = link.fleet(alice);
    const wrong = { nodeId: bobId };
    const calls = [
      () => client.sendNodeHeartbeat({ node: wrong, heartbeatInterval: 30 }),
      () => client.pullMessages({ node: wrong, messageIds: [] }),
      () =>
        client.pushMessages({
          node: wrong,
          messagesList: [],
          messageObjectTrees: [],
          clientappRuntimeList: [],
        }),
      () => client.getRun({ node: wrong, runId: 1n }),
      () => client.getFab({ node: wrong, runId: 1n, hashStr: "" }),
      () =>
        client.pushObject({
          node: wrong,
          runId: 1n,
          objectId: "",
          objectContent: Buffer.alloc(0),
          sessionId: "",
        }),
      () => client.pullObject({ node: wrong, runId: 1n, objectId: "" }),
      () => client.confirmMessageReceived({ node: wrong, runId: 1n, messageObjectId: "" }),
      () => client.deactivateNode({ nodeId: bobId }),
      () => client.unregisterNode({ nodeId: bobId }),
      () => client.sendNodeHeartbeat({ node: undefined, heartbeatInterval: 30 }),
    ];
    for (const call of calls)
      await expect(call()).rejects.toMatchObject(unauthenticated("Invalid node ID"));
  });

  test("an unregistered key: Invalid node ID, and ActivateNode gets Flower's FAILED_PRECONDITION", async () => {
    const stranger = newNodeKey();
    const client = link.fleet(stranger);
    await expect(
      client.sendNodeHeartbeat({ node: { nodeId: aliceId }, heartbeatInterval: 30 }),
    ).rejects.toMatchObject(unauthenticated("Invalid node ID"));
    await expect(
      client.activateNode({ publicKey: stranger.publicKeyPem, heartbeatInterval: 30 }),
    ).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: "No SuperNode found with the given public key.",
    });
  });

  test("a key unregistered via the CLI stops working at once", async () => {
    const carol = newNodeKey();
    const state = link.superlink.state;
    const carolId = state.createNode(NOOP_FLWR_AID, NOOP_ACCOUNT_NAME, carol.publicKeyPem, 30);
    const client = link.fleet(carol);
    await expect(
      client.sendNodeHeartbeat({ node: { nodeId: carolId }, heartbeatInterval: 30 }),
    ).resolves.toEqual({ success: true });
    state.deleteNode(NOOP_FLWR_AID, carolId);
    await expect(
      client.sendNodeHeartbeat({ node: { nodeId: carolId }, heartbeatInterval: 30 }),
    ).rejects.toMatchObject(unauthenticated("Invalid node ID"));
  });

  test("ActivateNode/RegisterNode must carry the signing key itself", async () => {
    const client = link.fleet(bob);
    await expect(
      client.activateNode({ publicKey: alice.publicKeyPem, heartbeatInterval: 30 }),
    ).rejects.toMatchObject(unauthenticated("Invalid public key"));
    await expect(client.registerNode({ publicKey: alice.publicKeyPem })).rejects.toMatchObject(
      unauthenticated("Invalid public key"),
    );
  });

  test("a duplicated timestamp entry is rejected (HTTP/2 joins it into one unsigned value)", async () => {
    const md = signedMetadata(alice.signer);
    md.add(TIMESTAMP_HEADER, formatFlowerTimestamp(nowMicros()));
    await expect(heartbeat(md)).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });
});

describe("Fleet authentication: nothing kept for anonymous callers", () => {
  test("calls signed with self-made keys leave the replay cache empty", async () => {
    const replayCache = new ReplayCache();
    const verifier = new SignatureVerifier();
    const registered = newNodeKey();
    const state = {
      getNodeIdByPublicKey: (key: Uint8Array) =>
        Buffer.compare(Buffer.from(key), registered.publicKeyPem) === 0 ? 7n : undefined,
    };
    const guard = createNodeAuthMiddleware({ state, verifier, replayCache });
    const ctx = (method: string, md: Metadata): CallContext => ({
      method,
      protocol: "grpc",
      metadata: md,
      peer: "test",
      signal: new AbortController().signal,
      attributes: new Map(),
      responseMetadata: new Metadata(),
    });
    for (let i = 0; i < 50; i++) {
      const stranger = newNodeKey();
      await expect(
        guard(
          { node: { nodeId: 7n }, heartbeatInterval: 30 },
          ctx("/flwr.proto.Fleet/SendNodeHeartbeat", signedMetadata(stranger.signer)),
        ),
      ).rejects.toMatchObject(unauthenticated("Invalid node ID"));
      await expect(
        guard(
          { publicKey: stranger.publicKeyPem, heartbeatInterval: 30 },
          ctx("/flwr.proto.Fleet/ActivateNode", signedMetadata(stranger.signer)),
        ),
      ).resolves.toBeUndefined(); // refused by the handler: no node has that key
    }
    expect(replayCache.size).toBe(0);
    // The registered node's calls are remembered (and a replay refused).
    const md = signedMetadata(registered.signer);
    await guard(
      { node: { nodeId: 7n }, heartbeatInterval: 30 },
      ctx("/flwr.proto.Fleet/SendNodeHeartbeat", md.clone()),
    );
    expect(replayCache.size).toBe(1);
    await expect(
      guard(
        { node: { nodeId: 7n }, heartbeatInterval: 30 },
        ctx("/flwr.proto.Fleet/SendNodeHeartbeat", md.clone()),
      ),
    ).rejects.toMatchObject(unauthenticated("Replayed request"));
  });
});
