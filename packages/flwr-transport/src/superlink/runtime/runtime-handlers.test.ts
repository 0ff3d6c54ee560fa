/**
 * The SuperLink's Runtime API handlers against real state, without a wire: each call goes
 * through the authentication middleware and the handler with a plain CallContext, over a
 * MemoryLinkState + MemoryObjectStore and a SQLite LinkState + ObjectStore. A ServerApp task's
 * whole life: acquire, input, nodes, an instruction pushed with its objects that reaches the
 * node's Fleet queue, the node's reply pulled back with its objects, logs, output, and the
 * errors Flower 1.42 answers (3002, 3004, 3013).
 */
import {
  ArrayRecord,
  Message,
  MetricRecord,
  NdArray,
  RecordDict,
  stampInstruction,
} from "@flwr-ts/core";
import { describe, expect, test } from "vitest";
import { prepareOutgoing } from "../../app-runtime/object-transfer.js";
import { MemoryObjectStore } from "../../object-store/memory-object-store.js";
import type { ObjectStore } from "../../object-store/object-store.js";
import { SqliteObjectStore } from "../../object-store/sqlite-object-store.js";
import {
  createRuntimeAuthMiddleware,
  TASK_TOKEN_HEADER,
} from "../../protocol/runtime/runtime-auth-middleware.js";
import type { CallContext } from "../../wire/call-context.js";
import { HeaderMetadata } from "../../wire/http/header-metadata.js";
import { RpcError } from "../../wire/rpc-error.js";
import {
  type LinkState,
  NOOP_FEDERATION,
  NOOP_FLWR_AID,
  SUPERLINK_NODE_ID,
} from "../state/link-state.js";
import { MemoryLinkState } from "../state/memory-link-state.js";
import { SqliteLinkState } from "../state/sqlite-link-state.js";
import { createRuntimeHandlers } from "./runtime-handlers.js";
import { SuperLinkRuntimeDefinition } from "./runtime-server-definition.js";

type Handlers = ReturnType<typeof createRuntimeHandlers>["handlers"];

const stores: [string, () => { state: LinkState; store: ObjectStore }][] = [
  ["memory", () => ({ state: new MemoryLinkState(), store: new MemoryObjectStore() })],
  [
    "sqlite",
    () => {
      const state = new SqliteLinkState({ location: ":memory:" });
      return { state, store: new SqliteObjectStore({ database: state.database }) };
    },
  ],
];

function context(method: string, token?: string): CallContext {
  return {
    method: `/flwr.proto.Runtime/${method}`,
    protocol: "http",
    metadata: new HeaderMetadata(token === undefined ? {} : { [TASK_TOKEN_HEADER]: token }),
    peer: "test",
    signal: new AbortController().signal,
    attributes: new Map(),
    responseMetadata: new HeaderMetadata(),
  };
}

function scene(make: () => { state: LinkState; store: ObjectStore }) {
  const { state, store } = make();
  const service = createRuntimeHandlers({ state, store });
  const auth = createRuntimeAuthMiddleware({ state });
  const call = async <K extends keyof Handlers>(
    key: K,
    request: Parameters<Handlers[K]>[0],
    token?: string,
  ): Promise<Awaited<ReturnType<Handlers[K]>>> => {
    const ctx = context(SuperLinkRuntimeDefinition.methods[key].name, token);
    await auth(request, ctx);
    const handler = service.handlers[key] as (r: unknown, c: CallContext) => unknown;
    return (await handler(request, ctx)) as Awaited<ReturnType<Handlers[K]>>;
  };
  const newRun = () => {
    const fabHash = state.storeFab({
      hashStr: "",
      content: Buffer.from("fab bytes"),
      verifications: new Map(),
    });
    const runId = state.createRun({
      fabId: "pub/app",
      fabVersion: "1.0.0",
      fabHash,
      overrideConfig: new Map(),
      federation: NOOP_FEDERATION,
      flwrAid: NOOP_FLWR_AID,
      runType: "serverapp",
    });
    state.setServerAppContext(runId, {
      runId,
      nodeId: SUPERLINK_NODE_ID,
      nodeConfig: new Map(),
      state: { items: [] },
      runConfig: new Map(),
      seriesId: 0n,
    });
    return { runId, fabHash };
  };
  const close = () => {
    service.close();
    state.close();
    store.close();
  };
  return { state, store, call, newRun, close };
}

async function apiError(promise: Promise<unknown>): Promise<{ code?: number; details: string }> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RpcError);
    const e = error as RpcError;
    return {
      ...(e.apiErrorCode === undefined ? {} : { code: e.apiErrorCode }),
      details: e.details,
    };
  }
  throw new Error("expected the call to fail");
}

describe.each(stores)("Runtime handlers over %s state", (_name, make) => {
  test("a ServerApp task from AcquireTask to PushTaskOutput, messages through Fleet's queues", async () => {
    const s = scene(make);
    try {
      const nodeId = s.state.createNode(NOOP_FLWR_AID, "none", Buffer.from("key-1"), 30);
      expect(s.state.activateNode(nodeId, 30)).toBe(true);
      const { runId, fabHash } = s.newRun();

      expect(
        await s.call("acquireTask", {
          supportedTaskTypes: ["flwr-clientapp"],
          agentappFabHashes: [],
        }),
      ).toEqual({ task: undefined, token: "" });
      const { task, token } = await s.call("acquireTask", {
        supportedTaskTypes: ["flwr-serverapp", "flwr-clientapp", "flwr-agentapp"],
        agentappFabHashes: [],
      });
      expect(task).toMatchObject({ runId, type: "flwr-serverapp", fabHash });
      expect(s.state.getRun(runId)?.status?.status).toBe("starting");

      const input = await s.call("pullTaskInput", {}, token);
      expect(input.taskId).toBe(task!.taskId);
      expect(input.run?.runId).toBe(runId);
      expect(input.run?.status?.status).toBe("running");
      expect(input.fab?.hashStr).toBe(fabHash);
      expect(input.context?.runId).toBe(runId);
      expect(await apiError(s.call("pullTaskInput", {}, token))).toEqual({
        code: 3002,
        details: "Failed to start task.",
      });

      expect(await s.call("sendTaskHeartbeat", {}, token)).toEqual({ success: true });
      const nodes = await s.call("getNodes", {}, token);
      expect(nodes.nodes.map((n) => n.nodeId)).toEqual([nodeId]);
      expect(nodes.nodes[0]?.status).toBe("online");

      // An instruction: registered, staged until its objects arrive, then in the node's queue.
      const content = new RecordDict({
        arrays: new ArrayRecord({ w: NdArray.fromTypedArray(new Float32Array([1, 2, 3])) }),
      });
      const instruction = new Message(content, nodeId, "train");
      stampInstruction(instruction, runId);
      const out = prepareOutgoing(instruction);
      const pushed = await s.call(
        "pushMessages",
        { messagesList: [out.proto], messageObjectTrees: [out.deflated.tree] },
        token,
      );
      expect(pushed.messageIds).toEqual([out.deflated.messageId]);
      expect(new Set(pushed.objectsToPush)).toEqual(new Set(out.deflated.objects.keys()));
      expect(pushed.sessionId).toMatch(/^[0-9a-f]{32}$/);
      expect(s.state.getMessageIns(nodeId, 10)).toEqual([]);
      expect(
        await apiError(
          s.call(
            "pushObject",
            {
              node: { nodeId },
              runId: 0n,
              objectId: pushed.objectsToPush[0]!,
              objectContent: Buffer.alloc(0),
              sessionId: "",
            },
            token,
          ),
        ),
      ).toEqual({ code: 3004, details: "Unexpected node ID." });
      for (const id of pushed.objectsToPush) {
        const res = await s.call(
          "pushObject",
          {
            node: { nodeId: SUPERLINK_NODE_ID },
            // The run is the task's, whatever the request says.
            runId: 12345n,
            objectId: id,
            objectContent: Buffer.from(out.deflated.objects.get(id)!),
            sessionId: pushed.sessionId,
          },
          token,
        );
        expect(res.stored).toBe(true);
      }
      const delivered = s.state.getMessageIns(nodeId, 10);
      expect(delivered.map((m) => m.metadata?.messageId)).toEqual([out.deflated.messageId]);

      // Nothing back yet; then the node's reply, its objects stored as Fleet stores them.
      expect(
        (await s.call("pullMessages", { messageIds: [out.deflated.messageId] }, token))
          .messagesList,
      ).toEqual([]);
      const reply = new Message(new RecordDict({ metrics: new MetricRecord({ n: 2n }) }), {
        replyTo: instruction,
      });
      reply.metadata.srcNodeId = nodeId;
      const replyOut = prepareOutgoing(reply);
      for (const id of s.store.preregister(runId, replyOut.deflated.tree))
        s.store.put(id, replyOut.deflated.objects.get(id)!);
      expect(s.state.storeMessageRes(replyOut.proto)).toMatchObject({ ok: true });
      const pulled = await s.call("pullMessages", { messageIds: [out.deflated.messageId] }, token);
      expect(pulled.messagesList.map((m) => m.metadata?.messageId)).toEqual([
        replyOut.deflated.messageId,
      ]);
      expect(pulled.messageObjectTrees[0]?.objectId).toBe(replyOut.deflated.messageId);
      for (const id of replyOut.deflated.objects.keys()) {
        const obj = await s.call(
          "pullObject",
          { node: { nodeId: SUPERLINK_NODE_ID }, runId: 0n, objectId: id },
          token,
        );
        expect(obj.objectFound && obj.objectAvailable).toBe(true);
        expect(Buffer.from(obj.objectContent)).toEqual(
          Buffer.from(replyOut.deflated.objects.get(id)!),
        );
      }
      await s.call(
        "confirmMessageReceived",
        {
          node: { nodeId: SUPERLINK_NODE_ID },
          runId: 0n,
          messageObjectId: replyOut.deflated.messageId,
        },
        token,
      );
      expect(s.store.get(replyOut.deflated.messageId).found).toBe(false);

      expect(
        await apiError(s.call("pushMessages", { messagesList: [], messageObjectTrees: [] }, token)),
      ).toEqual({ code: 3013, details: "Invalid number of messages or message object trees." });

      await s.call(
        "pushLogs",
        { node: undefined, runId: 0n, logs: ["line 1\n", "line 2\n"] },
        token,
      );
      expect(s.state.getServerAppLog(runId).logs).toBe("line 1\nline 2\n");

      const finalContext = {
        ...input.context!,
        runConfig: new Map([["k", { scalar: { $case: "string" as const, value: "v" } }]]),
      };
      await s.call(
        "pushTaskOutput",
        { context: finalContext, subStatus: "completed", details: "", clientappRuntime: 1.5 },
        token,
      );
      expect(s.state.getRun(runId)?.status).toEqual({
        status: "finished",
        subStatus: "completed",
        details: "",
      });
      expect(s.state.getRun(runId)?.clientappRuntime).toBe(1.5);
      expect(s.state.getServerAppContext(runId)?.runConfig.get("k")).toEqual({
        scalar: { $case: "string", value: "v" },
      });
      // The token died with the task.
      expect(await apiError(s.call("sendTaskHeartbeat", {}, token))).toEqual({
        code: 1008,
        details: "Authentication failed.",
      });
    } finally {
      s.close();
    }
  });

  test("a failed ServerApp's output fails the run with its details; a bad sub-status changes nothing", async () => {
    const s = scene(make);
    try {
      const { runId } = s.newRun();
      const { token } = await s.call("acquireTask", {
        supportedTaskTypes: ["flwr-serverapp"],
        agentappFabHashes: [],
      });
      await s.call("pullTaskInput", {}, token);
      await s.call(
        "pushTaskOutput",
        { context: undefined, subStatus: "bogus", details: "", clientappRuntime: undefined },
        token,
      );
      expect(s.state.getRun(runId)?.status?.status).toBe("running");
      await s.call(
        "pushTaskOutput",
        {
          context: undefined,
          subStatus: "failed",
          details: "ServerApp failed with exception: boom",
          clientappRuntime: undefined,
        },
        token,
      );
      expect(s.state.getRun(runId)?.status).toEqual({
        status: "finished",
        subStatus: "failed",
        details: "ServerApp failed with exception: boom",
      });
    } finally {
      s.close();
    }
  });

  test("a task without its FAB cannot start (412 {3002}) and stays starting", async () => {
    const s = scene(make);
    try {
      const runId = s.state.createRun({
        fabId: "",
        fabVersion: "",
        fabHash: "00".repeat(32),
        overrideConfig: new Map(),
        federation: NOOP_FEDERATION,
        flwrAid: NOOP_FLWR_AID,
        runType: "serverapp",
      });
      const { token } = await s.call("acquireTask", {
        supportedTaskTypes: ["flwr-serverapp"],
        agentappFabHashes: [],
      });
      expect(await apiError(s.call("pullTaskInput", {}, token))).toMatchObject({ code: 3002 });
      expect(s.state.getRun(runId)?.status?.status).toBe("starting");
    } finally {
      s.close();
    }
  });
});
