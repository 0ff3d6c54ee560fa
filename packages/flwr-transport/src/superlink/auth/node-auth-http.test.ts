/**
 * The hostile suite on the HTTP codec (Flower 1.40+'s `flwr-public-key` / `flwr-signature`
 * base64 headers): every forged, stale, replayed or malformed Fleet request over real HTTPS is
 * refused with 401 and a JSON body, as Flower 1.42 answers, and never reaches a 500. The gRPC
 * codec's suite is `node-auth-middleware.test.ts`; both feed the same verifier and replay cache.
 */
import { sign } from "node:crypto";
import { FleetDefinition } from "@flwr-ts/core/proto";
import { formatFlowerTimestamp } from "@flwr-ts/crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  newNodeKey,
  signedHttpHeaders,
  startTestSuperLink,
  type TestNodeKey,
  type TestSuperLink,
} from "../../../test/superlink-test-kit.js";
import { NOOP_ACCOUNT_NAME, NOOP_FLWR_AID } from "../state/link-state.js";

let link: TestSuperLink;
let alice: TestNodeKey;
let bob: TestNodeKey;
let aliceId: bigint;
let bobId: bigint;
const errors: string[] = [];

const M = FleetDefinition.methods;
const heartbeatBody = (nodeId: bigint) =>
  M.sendNodeHeartbeat.requestType.encode({ node: { nodeId }, heartbeatInterval: 30 }).finish();

const nowMicros = () => Date.now() * 1000;
const signTs = (key: TestNodeKey, ts: string) =>
  sign("sha256", Buffer.from(ts, "ascii"), { key: key.privateKey, dsaEncoding: "der" });
const b64 = (b: Buffer | string) => Buffer.from(b).toString("base64");

function headersAt(key: TestNodeKey, micros: number, signer: TestNodeKey = key) {
  const ts = formatFlowerTimestamp(micros);
  return {
    "flwr-public-key": b64(key.publicKeyPem),
    "flwr-timestamp": ts,
    "flwr-signature": b64(signTs(signer, ts)),
  };
}

const heartbeat = (headers: Record<string, string>, nodeId = aliceId) =>
  link.httpPost("/v1/fleet/send-node-heartbeat", heartbeatBody(nodeId), headers);

async function expectUnauthenticated(
  answer: Promise<{ status: number; json: unknown }>,
  detail?: string,
) {
  const a = await answer;
  expect(a.status).toBe(401);
  if (detail) expect(a.json).toEqual({ detail });
  else expect(a.json).toMatchObject({ detail: expect.any(String) });
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

describe("Fleet over HTTP: hostile requests", () => {
  test("a correctly signed request passes", async () => {
    const a = await heartbeat(signedHttpHeaders(alice.signer));
    expect(a.status).toBe(200);
    expect(M.sendNodeHeartbeat.responseType.decode(a.body)).toEqual({ success: true });
  });

  test("missing headers (each, and all)", async () => {
    const full = headersAt(alice, nowMicros());
    await expectUnauthenticated(heartbeat({}), "Missing authentication metadata");
    for (const name of Object.keys(full)) {
      const partial: Record<string, string> = { ...full };
      delete partial[name];
      await expectUnauthenticated(heartbeat(partial), "Missing authentication metadata");
    }
  });

  test("gRPC's -bin header names are not HTTP's", async () => {
    const h = headersAt(alice, nowMicros());
    await expectUnauthenticated(
      heartbeat({
        "flwr-public-key-bin": h["flwr-public-key"],
        "flwr-timestamp": h["flwr-timestamp"],
        "flwr-signature-bin": h["flwr-signature"],
      }),
      "Missing authentication metadata",
    );
  });

  test("a foreign signature, and a signature over another timestamp", async () => {
    await expectUnauthenticated(heartbeat(headersAt(alice, nowMicros(), bob)), "Invalid signature");
    const now = nowMicros();
    const h = headersAt(alice, now);
    h["flwr-signature"] = b64(signTs(alice, formatFlowerTimestamp(now - 1000)));
    await expectUnauthenticated(heartbeat(h), "Invalid signature");
  });

  test("another node's key claims alice's node id", async () => {
    await expectUnauthenticated(
      heartbeat(signedHttpHeaders(bob.signer), aliceId),
      "Invalid node ID",
    );
  });

  test("stale (306 s) and future (6 s) timestamps", async () => {
    await expectUnauthenticated(
      heartbeat(headersAt(alice, nowMicros() - 306_000_000)),
      "Invalid timestamp",
    );
    await expectUnauthenticated(
      heartbeat(headersAt(alice, nowMicros() + 6_000_000)),
      "Invalid timestamp",
    );
  });

  test("a replay is accepted once, on either wire's cache (one cache)", async () => {
    const h = signedHttpHeaders(alice.signer);
    expect((await heartbeat(h)).status).toBe(200);
    await expectUnauthenticated(heartbeat(h), "Replayed request");
  });

  test("base64 that is not base64, and a malformed PEM, are 401, never 500", async () => {
    const h = headersAt(alice, nowMicros());
    await expectUnauthenticated(heartbeat({ ...h, "flwr-public-key": "not base64 !!" }));
    await expectUnauthenticated(heartbeat({ ...h, "flwr-signature": "%%%%" }));
    await expectUnauthenticated(heartbeat({ ...h, "flwr-public-key": b64("garbage") }));
    await expectUnauthenticated(
      heartbeat({
        ...h,
        "flwr-public-key": b64(
          "-----BEGIN PUBLIC KEY-----\nnot base64 !!\n-----END PUBLIC KEY-----\n",
        ),
      }),
    );
  });

  test("malformed timestamps, correctly signed", async () => {
    for (const ts of ["yesterday", "2026-13-45T99:00:00+00:00", "2026-03-29T20:47:21"]) {
      await expectUnauthenticated(
        heartbeat({
          "flwr-public-key": b64(alice.publicKeyPem),
          "flwr-timestamp": ts,
          "flwr-signature": b64(signTs(alice, ts)),
        }),
        "Invalid timestamp",
      );
    }
  });

  test("a node-id mismatch on every route that names a node", async () => {
    const wrong = { nodeId: bobId };
    const bodies: [string, Uint8Array][] = [
      [
        "pull-messages",
        M.pullMessages.requestType.encode({ node: wrong, messageIds: [] }).finish(),
      ],
      [
        "push-messages",
        M.pushMessages.requestType
          .encode({
            node: wrong,
            messagesList: [],
            messageObjectTrees: [],
            clientappRuntimeList: [],
          })
          .finish(),
      ],
      ["get-run", M.getRun.requestType.encode({ node: wrong, runId: 1n }).finish()],
      ["get-fab", M.getFab.requestType.encode({ node: wrong, runId: 1n, hashStr: "" }).finish()],
      [
        "push-object",
        M.pushObject.requestType
          .encode({
            node: wrong,
            runId: 1n,
            objectId: "",
            objectContent: Buffer.alloc(0),
            sessionId: "",
          })
          .finish(),
      ],
      [
        "pull-object",
        M.pullObject.requestType.encode({ node: wrong, runId: 1n, objectId: "" }).finish(),
      ],
      [
        "confirm-message-received",
        M.confirmMessageReceived.requestType
          .encode({ node: wrong, runId: 1n, messageObjectId: "" })
          .finish(),
      ],
      ["deactivate-node", M.deactivateNode.requestType.encode({ nodeId: bobId }).finish()],
      ["unregister-node", M.unregisterNode.requestType.encode({ nodeId: bobId }).finish()],
      ["send-node-heartbeat", new Uint8Array()],
    ];
    for (const [route, body] of bodies)
      await expectUnauthenticated(
        link.httpPost(`/v1/fleet/${route}`, body, signedHttpHeaders(alice.signer)),
        "Invalid node ID",
      );
  });

  test("register/activate must carry the signing key; an unknown key gets 412 code 2004", async () => {
    const activate = (key: Buffer) =>
      M.activateNode.requestType.encode({ publicKey: key, heartbeatInterval: 30 }).finish();
    await expectUnauthenticated(
      link.httpPost(
        "/v1/fleet/activate-node",
        activate(alice.publicKeyPem),
        signedHttpHeaders(bob.signer),
      ),
      "Invalid public key",
    );
    const stranger = newNodeKey();
    const a = await link.httpPost(
      "/v1/fleet/activate-node",
      activate(stranger.publicKeyPem),
      signedHttpHeaders(stranger.signer),
    );
    expect(a.status).toBe(412);
    expect(a.json).toEqual({
      code: 2004,
      detail: "Failed to activate SuperNode.",
      extra: "No SuperNode found with the given public key.",
    });
  });

  test("Fleet self-registration with auth enabled: 412 code 2001 after authentication", async () => {
    const carol = newNodeKey();
    const a = await link.httpPost(
      "/v1/fleet/register-node",
      M.registerNode.requestType.encode({ publicKey: carol.publicKeyPem }).finish(),
      signedHttpHeaders(carol.signer),
    );
    expect(a.status).toBe(412);
    expect(a.json).toMatchObject({ code: 2001 });
  });

  test("a run that does not exist: 403 code 2008 on get-run", async () => {
    const a = await link.httpPost(
      "/v1/fleet/get-run",
      M.getRun.requestType.encode({ node: { nodeId: aliceId }, runId: 999n }).finish(),
      signedHttpHeaders(alice.signer),
    );
    expect(a.status).toBe(403);
    expect(a.json).toMatchObject({ code: 2008, detail: "Failed to get run." });
  });
});
