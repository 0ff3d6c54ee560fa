/**
 * The SuperNode against an in-process flwr-ts SuperLink over TLS with SuperNode authentication:
 * activation, the full message path (PullMessages → PullObject → ConfirmMessageReceived →
 * error reply via PushMessages + PushObject), DeactivateNode on stop, and the clear failure for
 * an unregistered key.
 */
import { generateKeyPairSync } from "node:crypto";
import {
  ConfigRecord,
  deflateMessage,
  ErrorCode,
  Message,
  messageToProto,
  RecordDict,
} from "@flwr-ts/core";
import { publicKeyToPem } from "@flwr-ts/crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  newNodeKey,
  startTestSuperLink,
  type TestSuperLink,
} from "../../test/superlink-test-kit.js";
import { anotherSuperNodeOnlineLine } from "../protocol/node-session-errors.js";
import { NOOP_FEDERATION, RunStatusValue } from "../superlink/state/link-state.js";
import { EXECUTION_UNAVAILABLE_REASON } from "./error-reply.js";
import { NOT_REGISTERED_MESSAGE, SuperNodeFatalError } from "./errors.js";
import type { Logger } from "./log.js";
import { SuperNode } from "./supernode.js";

let link: TestSuperLink;
const lines: string[] = [];
const logger: Logger = { log: (level, message) => lines.push(`${level} ${message}`) };

beforeAll(async () => {
  link = await startTestSuperLink({ tls: true, enableSupernodeAuth: true });
}, 60_000);
afterAll(async () => {
  await link.stop();
});

function newKey() {
  return generateKeyPairSync("ec", { namedCurve: "secp384r1" }).privateKey;
}

function nodeStatus(nodeId: bigint): string | undefined {
  return link.superlink.state.getNodeInfo().find((n) => n.nodeId === nodeId)?.status;
}

async function until<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("SuperNode against a flwr-ts SuperLink (TLS + auth)", () => {
  test.each(["grpc", "http"] as const)(
    "activates, answers an instruction with Flower's error reply, deactivates on stop (%s)",
    async (wire) => {
      const key = newKey();
      const reg = await link
        .control()
        .registerNode({ publicKey: Buffer.from(publicKeyToPem(key), "ascii") });
      const registeredId = reg.nodeId!;
      lines.length = 0;
      const node = new SuperNode({
        ...(wire === "grpc"
          ? {
              superlink: `127.0.0.1:${link.superlink.ports.fleetPort}`,
              credentials: link.credentials(),
            }
          : {
              superlink: `127.0.0.1:${link.httpPort}`,
              wire: "http",
              insecure: false,
              rootCertificates: link.caCertPath,
            }),
        privateKey: key,
        logger,
        polling: { longPollWaitMs: 2000 },
      });
      const running = node.run();
      await until(() => node.nodeId);
      expect(node.nodeId).toBe(registeredId);
      expect(nodeStatus(registeredId)).toBe("online");

      // A running run with one instruction for the node; its content travels as objects.
      const { state, store } = link.superlink;
      const runId = state.createRun({
        fabId: "",
        fabVersion: "",
        fabHash: "",
        overrideConfig: new Map(),
        federation: NOOP_FEDERATION,
        flwrAid: "<id:none>",
        runType: "serverapp",
      });
      for (const status of [RunStatusValue.STARTING, RunStatusValue.RUNNING]) {
        expect(state.updateRunStatus(runId, { status, subStatus: "", details: "" })).toBe(true);
      }
      const ins = new Message(
        new RecordDict({ config: new ConfigRecord({ "server-round": 1n }) }),
        registeredId,
        "train",
        { groupId: "1" },
      );
      ins.metadata.runId = runId;
      ins.metadata.srcNodeId = 1n;
      const deflated = deflateMessage(ins);
      ins.metadata.messageId = deflated.messageId;
      for (const id of store.preregister(runId, deflated.tree)) {
        expect(store.put(id, deflated.objects.get(id)!)).toBe(true);
      }
      const proto = messageToProto(new Message(ins.metadata, new RecordDict()));
      expect(state.storeMessageIns(proto)).toMatchObject({ ok: true });

      const [reply] = await until(() => {
        const r = state.getMessageRes([deflated.messageId]);
        return r.length > 0 ? r : undefined;
      });
      const md = reply!.metadata!;
      expect(md.srcNodeId).toBe(registeredId);
      expect(md.dstNodeId).toBe(1n);
      expect(md.runId).toBe(runId);
      expect(md.groupId).toBe("1");
      expect(md.messageType).toBe("train");
      expect(md.replyToMessageId).toBe(deflated.messageId);
      expect(reply!.error).toEqual({
        code: ErrorCode.LOAD_CLIENT_APP_EXCEPTION,
        reason: EXECUTION_UNAVAILABLE_REASON,
      });
      // The SuperLink hands the reply over once its objects are stored: pullable at once.
      expect(store.get(md.messageId).available).toBe(true);
      await until(() => (lines.includes("INFO Sent successfully") ? true : undefined));
      expect(lines).toContain("INFO Received successfully");

      await node.stop();
      await running;
      expect(nodeStatus(registeredId)).toBe("offline");
    },
    30_000,
  );

  test("an unregistered key ends run() with the register hint", async () => {
    const node = new SuperNode({
      superlink: `127.0.0.1:${link.superlink.ports.fleetPort}`,
      credentials: link.credentials(),
      privateKey: newKey(),
      logger,
    });
    const err = await node.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SuperNodeFatalError);
    expect((err as Error).message).toBe(NOT_REGISTERED_MESSAGE);
  });

  test("a SuperNode refused for another live session with its key ends run() with one line", async () => {
    const nodeKey = newNodeKey();
    const publicKey = nodeKey.publicKeyPem;
    const reg = await link.control().registerNode({ publicKey });
    // The first "SuperNode": a Fleet client on its own connection (grpc-js shares a connection
    // between channels of one process with equal options, so not a second SuperNode here).
    const first = link.fleet(nodeKey);
    await first.activateNode({ publicKey, heartbeatInterval: 30 });
    const second = new SuperNode({
      superlink: `127.0.0.1:${link.superlink.ports.fleetPort}`,
      credentials: link.credentials(),
      privateKey: nodeKey.privateKey,
      logger,
    });
    const err = await second.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SuperNodeFatalError);
    expect((err as Error).message).toBe(anotherSuperNodeOnlineLine(reg.nodeId!));
    expect(second.nodeId).toBeUndefined();
    expect(nodeStatus(reg.nodeId!)).toBe("online");
    first.close();
  });

  test("without a key, self-registration is refused while auth is enforced", async () => {
    const node = new SuperNode({
      superlink: `127.0.0.1:${link.superlink.ports.fleetPort}`,
      credentials: link.credentials(),
      logger,
    });
    const err = await node.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SuperNodeFatalError);
    expect((err as Error).message).toMatch(/refused self-registration .* flwr supernode register/);
  });

  test("a SuperLink port of the other wire ends run() with the flag to use", async () => {
    const grpcToHttp = new SuperNode({
      superlink: `127.0.0.1:${link.httpPort}`,
      credentials: link.credentials(),
      privateKey: newKey(),
      logger,
    });
    const a = await grpcToHttp.run().catch((e: unknown) => e);
    expect(a).toBeInstanceOf(SuperNodeFatalError);
    expect((a as Error).message).toMatch(/speaks Flower's protobuf-over-HTTP API/);
    expect((a as Error).message).toMatch(/--fleet-api-type http/);
    const httpToGrpc = new SuperNode({
      superlink: `127.0.0.1:${link.superlink.ports.fleetPort}`,
      wire: "http",
      insecure: false,
      rootCertificates: link.caCertPath,
      privateKey: newKey(),
      logger,
    });
    const b = await httpToGrpc.run().catch((e: unknown) => e);
    expect(b).toBeInstanceOf(SuperNodeFatalError);
    expect((b as Error).message).toMatch(/speaks gRPC/);
    expect((b as Error).message).toMatch(/--fleet-api-type grpc-rere/);
  });
});
