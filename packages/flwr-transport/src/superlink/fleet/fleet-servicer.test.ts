/** The Fleet API over real TLS gRPC: node lifecycle, messages and objects, run gating. */
import {
  ConfigRecord,
  deflateMessage,
  Message,
  MetricRecord,
  messageToProto,
  RecordDict,
} from "@flwr-ts/core";
import type { Message as ProtoMessage } from "@flwr-ts/core/proto";
import { Metadata, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  newNodeKey,
  startTestSuperLink,
  type TestNodeKey,
  type TestSuperLink,
} from "../../../test/superlink-test-kit.js";
import { anotherSuperNodeOnlineDetails } from "../../protocol/node-session-errors.js";
import {
  NOOP_ACCOUNT_NAME,
  NOOP_FEDERATION,
  NOOP_FLWR_AID,
  NodeStatus,
} from "../state/link-state.js";
import { PULL_WAIT_HEADER, REGISTER_DISABLED_MESSAGE } from "./fleet-servicer.js";

const failed = (code: status, details?: string | RegExp) =>
  details === undefined
    ? { code }
    : { code, details: typeof details === "string" ? details : expect.stringMatching(details) };

describe("Fleet API with --enable-supernode-auth (TLS)", () => {
  let link: TestSuperLink;
  let key: TestNodeKey;
  let nodeId: bigint;

  beforeAll(async () => {
    link = await startTestSuperLink({ tls: true, enableSupernodeAuth: true });
    key = newNodeKey();
    nodeId = link.superlink.state.createNode(
      NOOP_FLWR_AID,
      NOOP_ACCOUNT_NAME,
      key.publicKeyPem,
      30,
    );
  });
  afterAll(() => link?.stop());

  const status_ = () => link.superlink.state.getNodeInfo({ nodeIds: [nodeId] })[0]!.status;

  test("self-registration and self-unregistration are refused", async () => {
    const stranger = newNodeKey();
    await expect(
      link.fleet(stranger).registerNode({ publicKey: stranger.publicKeyPem }),
    ).rejects.toMatchObject(failed(status.FAILED_PRECONDITION, REGISTER_DISABLED_MESSAGE));
    await expect(link.fleet(key).unregisterNode({ nodeId })).rejects.toMatchObject(
      failed(status.FAILED_PRECONDITION, /must be unregistered via the CLI/),
    );
  });

  test("lifecycle: activate, heartbeat, deactivate, activate again", async () => {
    const fleet = link.fleet(key);
    await expect(
      fleet.activateNode({ publicKey: key.publicKeyPem, heartbeatInterval: 5 }),
    ).rejects.toMatchObject(failed(status.INVALID_ARGUMENT, "Invalid heartbeat interval"));
    expect(status_()).toBe(NodeStatus.REGISTERED);
    await expect(
      fleet.activateNode({ publicKey: key.publicKeyPem, heartbeatInterval: 30 }),
    ).resolves.toEqual({ nodeId });
    expect(status_()).toBe(NodeStatus.ONLINE);
    await expect(
      fleet.sendNodeHeartbeat({ node: { nodeId }, heartbeatInterval: 1801 }),
    ).rejects.toMatchObject(failed(status.INVALID_ARGUMENT, "Invalid heartbeat interval"));
    await expect(
      fleet.sendNodeHeartbeat({ node: { nodeId }, heartbeatInterval: 1800 }),
    ).resolves.toEqual({ success: true });
    await expect(fleet.deactivateNode({ nodeId })).resolves.toEqual({});
    expect(status_()).toBe(NodeStatus.OFFLINE);
    await expect(fleet.deactivateNode({ nodeId })).rejects.toMatchObject(
      failed(
        status.FAILED_PRECONDITION,
        `SuperNode with node ID ${nodeId} could not be deactivated.`,
      ),
    );
    await expect(
      fleet.activateNode({ publicKey: key.publicKeyPem, heartbeatInterval: 30 }),
    ).resolves.toEqual({ nodeId });
    fleet.close();
  });

  test("fast restart vs a second live SuperNode: refused while the first's connection is open", async () => {
    const activate = (client: ReturnType<typeof link.fleet>) =>
      client.activateNode({ publicKey: key.publicKeyPem, heartbeatInterval: 30 });
    // Until the server has seen the last test's connection close, its session is alive.
    const eventually = async (client: ReturnType<typeof link.fleet>) => {
      const t0 = performance.now();
      for (;;) {
        try {
          return { answer: await activate(client), ms: performance.now() - t0 };
        } catch (error) {
          if (performance.now() - t0 > 5000) throw error;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const first = link.fleet(key);
    expect(status_()).toBe(NodeStatus.ONLINE);
    expect((await eventually(first)).answer).toEqual({ nodeId });
    await expect(
      first.sendNodeHeartbeat({ node: { nodeId }, heartbeatInterval: 30 }),
    ).resolves.toEqual({ success: true });
    const second = link.fleet(key);
    await expect(activate(second)).rejects.toMatchObject(
      failed(status.FAILED_PRECONDITION, anotherSuperNodeOnlineDetails(nodeId)),
    );
    // The first keeps its session (and may activate again over its own connection).
    await expect(activate(first)).resolves.toEqual({ nodeId });
    await expect(activate(second)).rejects.toMatchObject(failed(status.FAILED_PRECONDITION));
    // The first "crashes": its connection closes, and the second comes in at once.
    const before = link.superlink.state.getNodeInfo({ nodeIds: [nodeId] })[0]!.lastActivatedAt;
    first.close();
    const { answer, ms } = await eventually(second);
    expect(answer).toEqual({ nodeId });
    expect(ms).toBeLessThan(5000);
    const after = link.superlink.state.getNodeInfo({ nodeIds: [nodeId] })[0]!.lastActivatedAt;
    expect(after! > before!).toBe(true);
    // A graceful stop ends the session: a new SuperNode activates at once.
    await second.deactivateNode({ nodeId });
    await expect(activate(link.fleet(key))).resolves.toEqual({ nodeId });
  });

  describe("messages and objects", () => {
    let runId: bigint;
    const state = () => link.superlink.state;
    const store = () => link.superlink.store;

    beforeAll(() => {
      runId = state().createRun({
        fabId: "flwrlabs/app",
        fabVersion: "1.0.0",
        fabHash: "",
        overrideConfig: new Map(),
        federation: NOOP_FEDERATION,
        flwrAid: NOOP_FLWR_AID,
        runType: "serverapp",
      });
    });

    /** What the ServerAppIo API will do: store an instruction and its objects. */
    function sendInstruction(): { proto: ProtoMessage; objects: Map<string, Uint8Array> } {
      const msg = new Message(
        new RecordDict({ config: new ConfigRecord({ lr: 0.1 }) }),
        nodeId,
        "train",
        { groupId: "1" },
      );
      msg.metadata.runId = runId;
      msg.metadata.srcNodeId = 1n;
      const deflated = deflateMessage(msg);
      msg.metadata.messageId = deflated.messageId;
      const proto = { ...messageToProto(msg), content: { items: [] } };
      store().preregister(runId, deflated.tree);
      for (const [id, bytes] of deflated.objects) store().put(id, bytes);
      const stored = state().storeMessageIns(proto);
      expect(stored.ok).toBe(true);
      return { proto, objects: deflated.objects };
    }

    test("run gating: a pending run refuses object traffic with PERMISSION_DENIED", async () => {
      const fleet = link.fleet(key);
      await expect(
        fleet.pullObject({ node: { nodeId }, runId, objectId: "a".repeat(64) }),
      ).rejects.toMatchObject(failed(status.PERMISSION_DENIED, "Run is pending."));
      await expect(fleet.getRun({ node: { nodeId }, runId: 42n })).rejects.toMatchObject(
        failed(status.PERMISSION_DENIED, "Run ID not found: 42"),
      );
      state().updateRunStatus(runId, { status: "starting", subStatus: "", details: "" });
      state().updateRunStatus(runId, { status: "running", subStatus: "", details: "" });
      const { run } = await fleet.getRun({ node: { nodeId }, runId });
      expect(run?.runId).toBe(runId);
      expect(run?.status?.status).toBe("running");
    });

    test("pull an instruction with its tree, pull its objects, confirm, push a reply", async () => {
      const fleet = link.fleet(key);
      const { proto, objects } = sendInstruction();
      const pulled = await fleet.pullMessages({ node: { nodeId }, messageIds: [] });
      expect(pulled.messagesList).toHaveLength(1);
      expect(pulled.messagesList[0]!.metadata).toEqual(proto.metadata);
      const tree = pulled.messageObjectTrees[0]!;
      expect(tree.objectId).toBe(proto.metadata!.messageId);
      for (const [id, bytes] of objects) {
        const got = await fleet.pullObject({ node: { nodeId }, runId, objectId: id });
        expect(got.objectFound && got.objectAvailable).toBe(true);
        expect(Buffer.from(got.objectContent)).toEqual(Buffer.from(bytes));
      }
      await expect(
        fleet.pullObject({ node: { nodeId }, runId, objectId: "b".repeat(64) }),
      ).resolves.toMatchObject({ objectFound: false, objectAvailable: false });
      await fleet.confirmMessageReceived({
        node: { nodeId },
        runId,
        messageObjectId: tree.objectId,
      });
      expect(store().has(tree.objectId)).toBe(false);
      // Nothing more to pull.
      expect((await fleet.pullMessages({ node: { nodeId }, messageIds: [] })).messagesList).toEqual(
        [],
      );

      // The reply.
      const instruction = new Message(
        new RecordDict({ config: new ConfigRecord({ lr: 0.1 }) }),
        nodeId,
        "train",
      );
      Object.assign(instruction.metadata, proto.metadata);
      const reply = new Message(new RecordDict({ metrics: new MetricRecord({ loss: 0.5 }) }), {
        replyTo: instruction,
      });
      const deflated = deflateMessage(reply);
      reply.metadata.messageId = deflated.messageId;
      const replyProto = { ...messageToProto(reply), content: { items: [] } };

      // A reply whose source is another node is refused.
      await expect(
        fleet.pushMessages({
          node: { nodeId },
          messagesList: [{ ...replyProto, metadata: { ...replyProto.metadata!, srcNodeId: 77n } }],
          messageObjectTrees: [deflated.tree],
          clientappRuntimeList: [],
        }),
      ).rejects.toMatchObject(failed(status.INVALID_ARGUMENT));

      const pushed = await fleet.pushMessages({
        node: { nodeId },
        messagesList: [replyProto],
        messageObjectTrees: [deflated.tree],
        clientappRuntimeList: [1.25],
      });
      expect(pushed.reconnect).toEqual({ reconnect: 5n });
      expect(pushed.results).toEqual(new Map([[deflated.messageId, 0]]));
      expect(new Set(pushed.objectsToPush)).toEqual(new Set(deflated.objects.keys()));
      for (const [id, bytes] of deflated.objects) {
        // The reply reaches the state (and the ServerApp) only once all its objects are stored.
        expect(state().getMessageRes([proto.metadata!.messageId])).toEqual([]);
        const r = await fleet.pushObject({
          node: { nodeId },
          runId,
          objectId: id,
          objectContent: Buffer.from(bytes),
          sessionId: "",
        });
        expect(r.stored).toBe(true);
      }
      const replies = state().getMessageRes([proto.metadata!.messageId]);
      expect(replies).toHaveLength(1);
      expect(replies[0]!.metadata!.messageId).toBe(deflated.messageId);
      const run = state().getRun(runId)!;
      expect(run.bytesSent).toBeGreaterThan(0n);
      expect(run.bytesRecv).toBeGreaterThan(0n);
      expect(run.clientappRuntime).toBe(1.25);
    });

    test("PushObject: wrong hash → stored=false; malformed object → FAILED_PRECONDITION", async () => {
      const fleet = link.fleet(key);
      const bad = Buffer.from("not an object");
      const { createHash } = await import("node:crypto");
      const badId = createHash("sha256").update(bad).digest("hex");
      store().preregister(runId, { objectId: badId, children: [] });
      await expect(
        fleet.pushObject({
          node: { nodeId },
          runId,
          objectId: "c".repeat(64),
          objectContent: bad,
          sessionId: "",
        }),
      ).resolves.toEqual({ stored: false });
      await expect(
        fleet.pushObject({
          node: { nodeId },
          runId,
          objectId: badId,
          objectContent: bad,
          sessionId: "",
        }),
      ).rejects.toMatchObject(failed(status.FAILED_PRECONDITION));
    });

    test("long-polling PullMessages returns as soon as an instruction arrives", async () => {
      const fleet = link.fleet(key);
      const md = new Metadata();
      md.set(PULL_WAIT_HEADER, "20000");
      const pending = fleet.pullMessages({ node: { nodeId }, messageIds: [] }, { metadata: md });
      const sent = await new Promise<ReturnType<typeof sendInstruction>>((resolve) =>
        setTimeout(() => resolve(sendInstruction()), 50),
      );
      const pulled = await pending;
      expect(pulled.messagesList[0]?.metadata?.messageId).toBe(sent.proto.metadata!.messageId);
      // Sent 50 ms after the call started: without waiting, the call would have returned empty.
    });

    test("without the wait header PullMessages answers at once, as Flower does", async () => {
      const fleet = link.fleet(key);
      const pulled = await fleet.pullMessages({ node: { nodeId }, messageIds: [] });
      expect(pulled.messagesList).toEqual([]);
    });

    test("a finished (stopped) run refuses with Flower's message", async () => {
      state().updateRunStatus(runId, { status: "finished", subStatus: "stopped", details: "" });
      await expect(link.fleet(key).getRun({ node: { nodeId }, runId })).rejects.toMatchObject(
        failed(status.PERMISSION_DENIED, "Run is finished. Stopped by user."),
      );
    });
  });
});

describe("Fleet API without --enable-supernode-auth (plaintext)", () => {
  let link: TestSuperLink;
  beforeAll(async () => {
    link = await startTestSuperLink({ tls: false, enableSupernodeAuth: false });
  });
  afterAll(() => link?.stop());

  test("self-register, activate, unregister; then the key registers again as a new node", async () => {
    const key = newNodeKey();
    const fleet = link.fleet(key);
    const { nodeId } = await fleet.registerNode({ publicKey: key.publicKeyPem });
    expect(nodeId).toBeGreaterThan(1n);
    await expect(fleet.registerNode({ publicKey: key.publicKeyPem })).rejects.toMatchObject(
      failed(status.FAILED_PRECONDITION, "Public key already in use"),
    );
    await expect(
      fleet.activateNode({ publicKey: key.publicKeyPem, heartbeatInterval: 30 }),
    ).resolves.toEqual({ nodeId });
    await fleet.deactivateNode({ nodeId });
    await expect(fleet.unregisterNode({ nodeId })).resolves.toEqual({});
    const [info] = link.superlink.state.getNodeInfo({ nodeIds: [nodeId] });
    expect(info!.status).toBe(NodeStatus.UNREGISTERED);
    expect(info!.ownerAid).toBe(NOOP_FLWR_AID);
    await expect(
      fleet.activateNode({ publicKey: key.publicKeyPem, heartbeatInterval: 30 }),
    ).rejects.toMatchObject(failed(status.FAILED_PRECONDITION));
    const again = await fleet.registerNode({ publicKey: key.publicKeyPem });
    expect(again.nodeId).not.toBe(nodeId);
    await expect(
      fleet.activateNode({ publicKey: key.publicKeyPem, heartbeatInterval: 30 }),
    ).resolves.toEqual({ nodeId: again.nodeId });
  });
});
