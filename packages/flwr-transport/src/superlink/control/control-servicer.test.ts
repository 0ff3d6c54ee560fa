/** The Control API's SuperNode and federation rpcs over real TLS gRPC, and its HTTP error bodies. */
import { ControlDefinition } from "@flwr-ts/core/proto";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  newNodeKey,
  startTestSuperLink,
  type TestSuperLink,
} from "../../../test/superlink-test-kit.js";
import { NOOP_FEDERATION, NOOP_FLWR_AID, NodeStatus } from "../state/link-state.js";

let link: TestSuperLink;
beforeAll(async () => {
  link = await startTestSuperLink({ tls: true, enableSupernodeAuth: true });
});
afterAll(() => link?.stop());

describe("Control API: SuperNodes", () => {
  test("register → list (registered, owner <id:none>/none) → unregister", async () => {
    const control = link.control();
    const key = newNodeKey();
    const nodeId = (await control.registerNode({ publicKey: key.publicKeyPem })).nodeId ?? 0n;
    expect(nodeId).toBeGreaterThan(1n);
    const listed = await control.listNodes({});
    expect(listed.now).toMatch(/\+00:00$/);
    const info = listed.nodesInfo.find((n) => n.nodeId === nodeId)!;
    expect(info).toMatchObject({
      ownerAid: NOOP_FLWR_AID,
      ownerName: "none",
      status: NodeStatus.REGISTERED,
      heartbeatInterval: 30,
    });
    expect(Buffer.from(info.publicKey)).toEqual(key.publicKeyPem);
    await expect(control.unregisterNode({ nodeId })).resolves.toEqual({});
    const after = (await control.listNodes({})).nodesInfo.find((n) => n.nodeId === nodeId)!;
    expect(after.status).toBe(NodeStatus.UNREGISTERED);
    await expect(control.unregisterNode({ nodeId })).rejects.toMatchObject({
      code: status.NOT_FOUND,
      details: "Node ID not found for account",
    });
    // flwr-ts: the unregistered node's key registers again, as a new node superseding its row
    // (Flower refuses it forever); a registered node's key is still refused.
    const again = (await control.registerNode({ publicKey: key.publicKeyPem })).nodeId ?? 0n;
    expect(again).not.toBe(nodeId);
    const nodes = (await control.listNodes({})).nodesInfo.map((n) => n.nodeId);
    expect(nodes).toContain(again);
    expect(nodes).not.toContain(nodeId);
    await expect(control.registerNode({ publicKey: key.publicKeyPem })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: "Public key already in use",
    });
  });

  test("invalid public keys are refused with Flower's message", async () => {
    const control = link.control();
    const { generateKeyPairSync } = await import("node:crypto");
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({
      type: "spki",
      format: "pem",
    });
    const k1 = generateKeyPairSync("ec", { namedCurve: "secp256k1" }).publicKey.export({
      type: "spki",
      format: "pem",
    });
    for (const bad of ["", "ecdsa-sha2-nistp384 AAAA", rsa, k1, "-----BEGIN PUBLIC KEY-----\nx\n"])
      await expect(control.registerNode({ publicKey: Buffer.from(bad) })).rejects.toMatchObject({
        code: status.FAILED_PRECONDITION,
        details: "The provided public key is not valid",
      });
  });
});

describe("Control API over HTTP: Flower 1.42's error bodies", () => {
  const C = ControlDefinition.methods;
  const post = async (path: string, body: Uint8Array) => {
    const a = await link.httpPost(path, body);
    return [a.status, a.json];
  };

  test("duplicate key 412 {23}, invalid key 412 {22}, unknown node 404 {24}, no extra", async () => {
    const key = newNodeKey();
    const register = C.registerNode.requestType.encode({ publicKey: key.publicKeyPem }).finish();
    const [ok] = await post("/v1/control/register-node", register);
    expect(ok).toBe(200);
    expect(await post("/v1/control/register-node", register)).toEqual([
      412,
      { code: 23, detail: "Public key already in use." },
    ]);
    const bad = C.registerNode.requestType.encode({ publicKey: Buffer.from("x") }).finish();
    expect(await post("/v1/control/register-node", bad)).toEqual([
      412,
      { code: 22, detail: "The provided public key is not valid." },
    ]);
    const unknown = C.unregisterNode.requestType.encode({ nodeId: 12345n }).finish();
    expect(await post("/v1/control/unregister-node", unknown)).toEqual([
      404,
      { code: 24, detail: "Node ID not found for account." },
    ]);
  });
});

describe("Control API: federations and the rest", () => {
  test("the NoOp federation is listed and shown", async () => {
    const control = link.control();
    const { federations } = await control.listFederations({});
    expect(federations.map((f) => f.name)).toEqual([NOOP_FEDERATION]);
    const shown = await control.showFederation({ federationName: NOOP_FEDERATION });
    expect(shown.federation?.members[0]?.account?.id).toBe(NOOP_FLWR_AID);
    await expect(control.showFederation({ federationName: "@x/y" })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
  });

  test("federation management is UNIMPLEMENTED as in Flower OSS", async () => {
    const control = link.control();
    await expect(
      control.createFederation({ federationName: "f", description: "", simulation: false }),
    ).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
      details: "SuperLink does not support federation management.",
    });
    await expect(control.listInvitations({})).rejects.toMatchObject({ code: status.UNIMPLEMENTED });
  });

  test("login details are empty without account auth; artifacts are unimplemented", async () => {
    const control = link.control();
    await expect(control.getLoginDetails({})).resolves.toMatchObject({ authnType: "" });
    await expect(control.pullArtifacts({ runId: 1n })).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
    });
  });
});
