/**
 * The SuperNode's Runtime API on the real HTTP router (node:http on 127.0.0.1:0) over a real
 * NodeState and the SuperNode's real message executor: a signed AcquireTask claims the waiting
 * instruction as a `flwr-clientapp` task, then the calls Python 1.42's `flwr-clientapp` makes
 * (PullTaskInput, PullMessages, PullObject, ConfirmMessageReceived, PushMessages, PushObject,
 * PushLogs, PushTaskOutput) deliver the reply to the executor and the context to the state,
 * exactly as a ClientAppIo ClientApp would. Also: one instruction is never handed to both a
 * Runtime and a ClientAppIo SuperExec; 1.42's error codes for bad calls; GetNodes refused.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  ArrayRecord,
  ConfigRecord,
  Context,
  contextToProto,
  deflateMessage,
  inflateMessage,
  Message,
  MetricRecord,
  NdArray,
  RecordDict,
} from "@flwr-ts/core";
import {
  ConfirmMessageReceivedRequest,
  type ObjectTree,
  PullObjectRequest,
  PullObjectResponse,
  PushLogsRequest,
  PushObjectRequest,
  PushObjectResponse,
  Run,
} from "@flwr-ts/core/proto";
import {
  AcquireTaskRequest,
  AcquireTaskResponse,
  GetNodesRequest,
  PullAppMessagesRequest,
  PullAppMessagesResponse,
  PullTaskInputRequest,
  PullTaskInputResponse,
  PushAppMessagesRequest,
  PushAppMessagesResponse,
  PushTaskOutputRequest,
  SendTaskHeartbeatRequest,
  SendTaskHeartbeatResponse,
} from "@flwr-ts/core/proto/runtime";
import { afterEach, describe, expect, test } from "vitest";
import { prepareOutgoing } from "../../app-runtime/object-transfer.js";
import { createClientAppIoHandlers } from "../../clientappio/clientappio-servicer.js";
import {
  createMessageExecutor,
  type ExecutionEnvironment,
} from "../../clientappio/message-executor.js";
import { ACQUIRE_TASK_PATH } from "../../protocol/runtime/runtime-auth-middleware.js";
import { deriveAuthSecret, superExecAuthHeaders } from "../../protocol/runtime/superexec-auth.js";
import { NodeState } from "../node-state.js";
import type { NodeTasks } from "./node-tasks.js";
import { createSuperNodeRuntimeRouter } from "./supernode-runtime-server.js";

const SECRET = Buffer.from("the SuperNode's SuperExec secret");
const RUN_ID = 21n;
const NODE_ID = 77n;
const FAB = { hashStr: "abc", content: Buffer.from("fab bytes"), verifications: new Map() };

interface Scene {
  state: NodeState;
  tasks: NodeTasks;
  errors: unknown[];
  post(route: string, body: Uint8Array, headers?: Record<string, string>): Promise<Answer>;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  json: unknown;
  bytes: Uint8Array;
}

let scene: Scene | undefined;
afterEach(async () => {
  await scene?.close();
  scene = undefined;
});

async function startScene(): Promise<Scene> {
  const state = new NodeState();
  const errors: unknown[] = [];
  const { router, tasks } = createSuperNodeRuntimeRouter({
    state,
    superExecAuthSecret: SECRET,
    onError: (_m, e) => errors.push(e),
  });
  const server: Server = createServer(router.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    state,
    tasks,
    errors,
    post: async (route, body, headers = {}) => {
      const res = await fetch(`${url}/v1/runtime/${route}`, {
        method: "POST",
        headers: { "content-type": "application/protobuf", ...headers },
        body,
      });
      const bytes = new Uint8Array(await res.arrayBuffer());
      const type = res.headers.get("content-type") ?? "";
      const json = type.startsWith("application/json")
        ? JSON.parse(Buffer.from(bytes).toString())
        : undefined;
      return { status: res.status, json, bytes };
    },
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      state.close();
    },
  };
}

function instruction() {
  const ins = new Message(
    new RecordDict({
      arrays: new ArrayRecord({ w: NdArray.fromTypedArray(new Float32Array([1, 2, 3])) }),
      config: new ConfigRecord({ "server-round": 3n }),
    }),
    NODE_ID,
    "train",
  );
  ins.metadata.runId = RUN_ID;
  ins.metadata.srcNodeId = 1n;
  const deflated = deflateMessage(ins);
  ins.metadata.messageId = deflated.messageId;
  return { ins, deflated };
}

const RUN: Run = {
  ...Run.fromPartial({}),
  runId: RUN_ID,
  fabId: "pub/app",
  fabVersion: "1.0.0",
  fabHash: FAB.hashStr,
};

/** Runs the real executor on one instruction (the SuperNode's side); resolves with its reply. */
function execute(state: NodeState, run: Run = RUN) {
  const { ins, deflated } = instruction();
  const env: ExecutionEnvironment = {
    nodeId: NODE_ID,
    nodeConfig: { "partition-id": 1n },
    signal: new AbortController().signal,
    getRun: async () => run,
    getFab: async () => undefined,
    received: { tree: deflated.tree, objects: deflated.objects },
  };
  state.storeRun(run);
  state.storeFab(FAB);
  state.storeContext({
    runId: RUN_ID,
    nodeId: NODE_ID,
    nodeConfig: new Map(),
    state: { items: [] },
    runConfig: new Map(),
    seriesId: 0n,
  });
  return { ins, reply: createMessageExecutor(state)(ins, env) };
}

const ACQUIRE = AcquireTaskRequest.encode({
  supportedTaskTypes: ["flwr-serverapp", "flwr-clientapp", "flwr-simulation"],
  agentappFabHashes: [],
}).finish();

async function acquire(s: Scene): Promise<AcquireTaskResponse> {
  const answer = await s.post(
    "acquire-task",
    ACQUIRE,
    superExecAuthHeaders(deriveAuthSecret(SECRET), ACQUIRE_TASK_PATH, ACQUIRE),
  );
  expect(answer.status).toBe(200);
  return AcquireTaskResponse.decode(answer.bytes);
}

function flatten(tree: ObjectTree): string[] {
  return [...tree.children.flatMap(flatten), tree.objectId];
}

describe("the SuperNode's Runtime API", () => {
  test("a flwr-clientapp task: the instruction out, the reply back to the executor", async () => {
    scene = await startScene();
    const s = scene;
    // Nothing waiting: no task.
    expect((await acquire(s)).task).toBeUndefined();
    const { ins, reply } = execute(s.state);
    const acquired = await acquire(s);
    expect(acquired.task?.type).toBe("flwr-clientapp");
    expect(acquired.task?.runId).toBe(RUN_ID);
    expect(acquired.task?.fabHash).toBe(FAB.hashStr);
    expect(acquired.task?.status?.status).toBe("starting");
    expect(acquired.token).toMatch(/^[0-9a-f]{256}$/);
    // Claimed once: a second AcquireTask and a ClientAppIo SuperExec see nothing.
    expect((await acquire(s)).task).toBeUndefined();
    const appIo = createClientAppIoHandlers(s.state);
    const listed = await appIo.listAppsToLaunch({}, {
      metadata: { get: () => [] },
      signal: new AbortController().signal,
      responseMetadata: new Map(),
    } as never);
    expect(listed.runIds).toEqual([]);

    const auth = { "flwr-task-token": acquired.token };
    const heartbeat = await s.post(
      "send-task-heartbeat",
      SendTaskHeartbeatRequest.encode(SendTaskHeartbeatRequest.fromPartial({})).finish(),
      auth,
    );
    expect(SendTaskHeartbeatResponse.decode(heartbeat.bytes).success).toBe(true);

    const input = PullTaskInputResponse.decode(
      (
        await s.post(
          "pull-task-input",
          PullTaskInputRequest.encode(PullTaskInputRequest.fromPartial({})).finish(),
          auth,
        )
      ).bytes,
    );
    expect(input.taskId).toBe(acquired.task?.taskId);
    expect(input.run?.runId).toBe(RUN_ID);
    expect(input.context?.nodeId).toBe(NODE_ID);
    expect(Buffer.from(input.fab!.content).toString()).toBe("fab bytes");
    // A task starts once.
    const again = await s.post(
      "pull-task-input",
      PullTaskInputRequest.encode(PullTaskInputRequest.fromPartial({})).finish(),
      auth,
    );
    expect(again.status).toBe(412);
    expect(again.json).toEqual({ code: 3002, detail: "Failed to start task." });

    const pulled = PullAppMessagesResponse.decode(
      (
        await s.post(
          "pull-messages",
          PullAppMessagesRequest.encode(PullAppMessagesRequest.fromPartial({})).finish(),
          auth,
        )
      ).bytes,
    );
    expect(pulled.messagesList).toHaveLength(1);
    const tree = pulled.messageObjectTrees[0]!;
    expect(tree.objectId).toBe(ins.metadata.messageId);
    const objects = new Map<string, Uint8Array>();
    for (const id of flatten(tree)) {
      const answer = PullObjectResponse.decode(
        (
          await s.post(
            "pull-object",
            PullObjectRequest.encode({
              node: { nodeId: NODE_ID },
              runId: RUN_ID,
              objectId: id,
            }).finish(),
            auth,
          )
        ).bytes,
      );
      expect(answer.objectAvailable).toBe(true);
      objects.set(id, answer.objectContent);
    }
    const received = inflateMessage(objects, tree.objectId);
    expect(received.content.configRecords.get("config")?.get("server-round")).toBe(3n);
    await s.post(
      "confirm-message-received",
      ConfirmMessageReceivedRequest.encode({
        node: { nodeId: NODE_ID },
        runId: RUN_ID,
        messageObjectId: tree.objectId,
      }).finish(),
      auth,
    );
    // Only one instruction per task.
    const none = PullAppMessagesResponse.decode(
      (
        await s.post(
          "pull-messages",
          PullAppMessagesRequest.encode(PullAppMessagesRequest.fromPartial({})).finish(),
          auth,
        )
      ).bytes,
    );
    expect(none.messagesList).toEqual([]);

    received.metadata.messageId = tree.objectId;
    const out = prepareOutgoing(
      new Message(new RecordDict({ metrics: new MetricRecord({ "num-examples": 9n }) }), {
        replyTo: received,
      }),
    );
    const pushed = PushAppMessagesResponse.decode(
      (
        await s.post(
          "push-messages",
          PushAppMessagesRequest.encode({
            messagesList: [out.proto],
            messageObjectTrees: [out.deflated.tree],
          }).finish(),
          auth,
        )
      ).bytes,
    );
    expect(pushed.messageIds).toEqual([out.proto.metadata!.messageId]);
    expect(pushed.sessionId).toMatch(/^[0-9a-f]{32}$/);
    expect(pushed.objectsToPush.length).toBeGreaterThan(0);
    for (const id of pushed.objectsToPush) {
      const stored = PushObjectResponse.decode(
        (
          await s.post(
            "push-object",
            PushObjectRequest.encode({
              node: { nodeId: NODE_ID },
              runId: RUN_ID,
              objectId: id,
              objectContent: Buffer.from(out.deflated.objects.get(id)!),
              sessionId: pushed.sessionId,
            }).finish(),
            auth,
          )
        ).bytes,
      );
      expect(stored.stored).toBe(true);
    }
    const executed = await reply;
    expect(executed.message.metadata.replyToMessageId).toBe(ins.metadata.messageId);
    const replied = inflateMessage(executed.deflated.objects, executed.deflated.messageId);
    expect(replied.content.metricRecords.get("metrics")?.get("num-examples")).toBe(9n);

    await s.post(
      "push-logs",
      PushLogsRequest.encode({ node: undefined, runId: RUN_ID, logs: ["fit done\n"] }).finish(),
      auth,
    );
    expect(s.tasks.logsOf(acquired.token)).toBe("fit done\n");

    const context = new Context({
      runId: RUN_ID,
      nodeId: NODE_ID,
      nodeConfig: {},
      state: new RecordDict({ metrics: new MetricRecord({ seen: 1n }) }),
      runConfig: {},
    });
    const output = await s.post(
      "push-task-output",
      PushTaskOutputRequest.encode({
        context: contextToProto(context),
        subStatus: "completed",
        details: "",
      }).finish(),
      auth,
    );
    expect(output.status).toBe(200);
    expect(s.state.getContext(RUN_ID)?.state?.items.length).toBe(1);
    // The task is finished: its token is gone.
    const after = await s.post(
      "send-task-heartbeat",
      SendTaskHeartbeatRequest.encode(SendTaskHeartbeatRequest.fromPartial({})).finish(),
      auth,
    );
    expect(after.status).toBe(401);
    expect(s.errors).toEqual([]);
  });

  test("1.42's answers to bad calls: message count, run mismatch, GetNodes", async () => {
    scene = await startScene();
    const s = scene;
    const { ins } = execute(s.state);
    const { token } = await acquire(s);
    const auth = { "flwr-task-token": token };
    await s.post(
      "pull-task-input",
      PullTaskInputRequest.encode(PullTaskInputRequest.fromPartial({})).finish(),
      auth,
    );
    const empty = await s.post(
      "push-messages",
      PushAppMessagesRequest.encode({ messagesList: [], messageObjectTrees: [] }).finish(),
      auth,
    );
    expect(empty.status).toBe(400);
    expect((empty.json as { code: number }).code).toBe(3013);
    const other = prepareOutgoing(new Message(new RecordDict({}), { replyTo: ins }));
    other.proto.metadata!.runId = RUN_ID + 1n;
    const mismatch = await s.post(
      "push-messages",
      PushAppMessagesRequest.encode({
        messagesList: [other.proto],
        messageObjectTrees: [other.deflated.tree],
      }).finish(),
      auth,
    );
    expect(mismatch.status).toBe(403);
    expect((mismatch.json as { code: number }).code).toBe(3014);
    const nodes = await s.post(
      "get-nodes",
      GetNodesRequest.encode(GetNodesRequest.fromPartial({})).finish(),
      auth,
    );
    expect(nodes.status).toBe(403);
    expect((nodes.json as { code: number }).code).toBe(3005);
    expect(s.errors).toEqual([]);
  });

  test("a task whose FAB is not in the state cannot start (404 {3012})", async () => {
    scene = await startScene();
    const s = scene;
    execute(s.state, { ...RUN, fabHash: "not-stored" });
    const { token } = await acquire(s);
    const answer = await s.post(
      "pull-task-input",
      PullTaskInputRequest.encode(PullTaskInputRequest.fromPartial({})).finish(),
      {
        "flwr-task-token": token,
      },
    );
    expect(answer.status).toBe(404);
    expect(answer.json).toEqual({ code: 3012, detail: "FAB not found." });
    expect(s.errors).toEqual([]);
  });
});
