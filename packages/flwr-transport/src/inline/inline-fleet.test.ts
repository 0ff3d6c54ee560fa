/**
 * Inline content over a real Fleet API (in-process SuperLink, TLS + SuperNode auth): a flwr-ts
 * SuperNode connection pulls an instruction inline and pushes its reply inline (no object calls,
 * the SuperLink stores and releases objects itself); with inlining off it gets Flower's object
 * protocol unchanged; a forged inline reply is refused and leaves nothing stored.
 */
import {
  ConfigRecord,
  deflateMessage,
  inflateMessage,
  Message,
  MetricRecord,
  messageToProto,
  RecordDict,
} from "@flwr-ts/core";
import { publicKeyToPem } from "@flwr-ts/crypto";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  newNodeKey,
  startTestSuperLink,
  type TestSuperLink,
} from "../../test/superlink-test-kit.js";
import { prepareOutgoing, prepareOutgoingBatch } from "../app-runtime/object-transfer.js";
import { NOOP_FEDERATION, RunStatusValue } from "../superlink/state/link-state.js";
import { FleetConnection } from "../supernode/fleet-connection.js";
import { DEFAULT_INLINE_MAX_BYTES, receiveInlined } from "./inline-content.js";

let link: TestSuperLink;
let runId: bigint;

beforeAll(async () => {
  link = await startTestSuperLink({ tls: true, enableSupernodeAuth: true });
  const { state } = link.superlink;
  runId = state.createRun({
    fabId: "",
    fabVersion: "",
    fabHash: "",
    overrideConfig: new Map(),
    federation: NOOP_FEDERATION,
    flwrAid: "<id:none>",
    runType: "serverapp",
  });
  for (const status of [RunStatusValue.STARTING, RunStatusValue.RUNNING])
    state.updateRunStatus(runId, { status, subStatus: "", details: "" });
}, 60_000);
afterAll(async () => {
  await link.stop();
});

/** A registered node with a connection (inline limit as given) and an instruction waiting. */
async function nodeWithInstruction(inlineMaxBytes?: number) {
  const key = newNodeKey();
  const nodeId = (await link.control().registerNode({ publicKey: key.publicKeyPem })).nodeId!;
  const conn = new FleetConnection({
    address: `127.0.0.1:${link.superlink.ports.fleetPort}`,
    credentials: link.credentials(),
    privateKey: key.privateKey,
    ...(inlineMaxBytes === undefined ? {} : { inlineMaxBytes }),
  });
  expect(await conn.activateNode(30)).toBe(nodeId);
  const { state, store } = link.superlink;
  const ins = new Message(
    new RecordDict({ config: new ConfigRecord({ "server-round": 1n, node: String(nodeId) }) }),
    nodeId,
    "train",
    { groupId: "1" },
  );
  ins.metadata.runId = runId;
  ins.metadata.srcNodeId = 1n;
  const deflated = deflateMessage(ins);
  ins.metadata.messageId = deflated.messageId;
  for (const id of store.preregister(runId, deflated.tree))
    expect(store.put(id, deflated.objects.get(id)!)).toBe(true);
  expect(
    state.storeMessageIns(messageToProto(new Message(ins.metadata, new RecordDict()))),
  ).toMatchObject({ ok: true });
  return { conn, nodeId, ins: deflated };
}

function replyTo(instruction: Message, nodeId: bigint): Message {
  const reply = new Message(
    new RecordDict({ metrics: new MetricRecord({ "num-examples": 5n, node: nodeId }) }),
    { replyTo: instruction },
  );
  reply.metadata.srcNodeId = nodeId;
  return reply;
}

describe("inline content on the Fleet API", () => {
  test("a flwr-ts SuperNode pulls and replies inline; the SuperLink stores and releases objects", async () => {
    const { conn, nodeId, ins } = await nodeWithInstruction();
    expect(conn.serverInlineMax).toBe(DEFAULT_INLINE_MAX_BYTES);
    const { store, state } = link.superlink;

    const pulled = await conn.pullMessage(nodeId);
    expect(pulled?.inlined).toBe(true);
    const { message } = receiveInlined(pulled!.message, pulled!.tree);
    expect(message.metadata.messageId).toBe(ins.messageId);
    expect(message.content.configRecords.get("config")?.get("node")).toBe(String(nodeId));
    // Delivered with its content: released at once, as after ConfirmMessageReceived.
    expect(store.get(ins.messageId).found).toBe(false);

    const out = prepareOutgoingBatch([replyTo(message, nodeId)], conn.serverInlineMax)[0]!;
    expect(out.inlined).toBe(true);
    const res = await conn.pushMessage(nodeId, out.proto, out.deflated.tree, 0.01, {
      inlined: true,
    });
    expect(res.objectsToPush).toEqual([]);
    expect(res.results.get(out.deflated.messageId)).toBe(0);
    const [stored] = state.getMessageRes([ins.messageId]);
    expect(stored?.metadata?.messageId).toBe(out.deflated.messageId);
    expect(stored?.content).toEqual({ items: [] }); // stored as Flower stores it
    for (const id of out.deflated.objects.keys()) expect(store.get(id).available).toBe(true);
    conn.close();
  });

  test("with inlining off, the node gets Flower's object protocol unchanged", async () => {
    const { conn, nodeId, ins } = await nodeWithInstruction(0);
    expect(conn.serverInlineMax).toBe(0);
    const pulled = await conn.pullMessage(nodeId);
    expect(pulled?.inlined).toBe(false);
    expect(pulled?.message.content).toEqual({ items: [] });
    const obj = await conn.pullObject(nodeId, runId, ins.messageId);
    expect(obj.available).toBe(true);
    await conn.confirmMessageReceived(nodeId, runId, ins.messageId);

    const instruction = inflateMessage(ins.objects, ins.messageId);
    const out = prepareOutgoing(replyTo(instruction, nodeId));
    const res = await conn.pushMessage(nodeId, out.proto, out.deflated.tree, 0.01);
    expect(new Set(res.objectsToPush)).toEqual(new Set(out.deflated.objects.keys()));
    for (const id of res.objectsToPush)
      expect(await conn.pushObject(nodeId, runId, id, out.deflated.objects.get(id)!)).toBe(true);
    expect(link.superlink.state.getMessageRes([ins.messageId])).toHaveLength(1);
    conn.close();
  });

  test("an inline reply whose content does not match its tree is refused, nothing stored", async () => {
    const { conn, nodeId } = await nodeWithInstruction();
    const pulled = await conn.pullMessage(nodeId);
    const { message } = receiveInlined(pulled!.message, pulled!.tree);
    const honest = prepareOutgoingBatch([replyTo(message, nodeId)], DEFAULT_INLINE_MAX_BYTES)[0]!;
    const forged = replyTo(message, nodeId);
    forged.content.metricRecords.get("metrics")!.set("acc", 1.0);
    const forgedOut = prepareOutgoingBatch([forged], DEFAULT_INLINE_MAX_BYTES)[0]!;
    const error = await conn
      .pushMessage(
        nodeId,
        { ...honest.proto, content: forgedOut.proto.content },
        honest.deflated.tree,
        0.01,
        { inlined: true },
      )
      .then(
        () => undefined,
        (e: { code: number; details: string }) => e,
      );
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(error?.details).toMatch(/does not match its object tree/);
    expect(link.superlink.state.getMessageRes([message.metadata.messageId])).toHaveLength(0);
    expect(link.superlink.store.get(honest.deflated.messageId).found).toBe(false);
    conn.close();
  });
});

test("a registered key's PEM is what the connection announces", () => {
  const key = newNodeKey();
  expect(key.publicKeyPem.toString("ascii")).toBe(publicKeyToPem(key.privateKey));
});

test("an inline reply larger than the SuperLink's limit is refused with what to do", async () => {
  const { superlink } = link;
  const { conn, nodeId } = await nodeWithInstruction();
  const pulled = await conn.pullMessage(nodeId);
  const { message } = receiveInlined(pulled!.message, pulled!.tree);
  const big = new Message(
    new RecordDict({
      metrics: new MetricRecord({ node: nodeId, blob: Array.from({ length: 200_000 }, () => 1.5) }),
    }),
    { replyTo: message },
  );
  big.metadata.srcNodeId = nodeId;
  const out = prepareOutgoingBatch([big], 16 << 20)[0]!;
  expect(out.inlined).toBe(true);
  const error = await conn
    .pushMessage(nodeId, out.proto, out.deflated.tree, 0.01, { inlined: true })
    .then(
      () => undefined,
      (e: { code: number; details: string }) => e,
    );
  expect(error?.code).toBe(status.INVALID_ARGUMENT);
  expect(error?.details).toMatch(
    /more than the 1048576 this server accepts inline; push it as objects/,
  );
  expect(superlink.state.getMessageRes([message.metadata.messageId])).toHaveLength(0);
  conn.close();
});
