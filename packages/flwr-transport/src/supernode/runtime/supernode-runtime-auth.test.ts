/**
 * Hostile callers of the SuperNode's Runtime API (the real router on node:http, a real NodeState
 * and task table with one movable clock): a missing, forged, stale, body-mismatched or replayed
 * SuperExec signature on AcquireTask, and a missing, wrong, expired or finished task token on
 * the other routes, all get Flower 1.42's 401 `{"code":1008,"detail":"Authentication failed."}`,
 * never a 5xx, and claim nothing; a caller of another Flower release gets 412 {1001} naming the
 * SuperNode. Without a secret, AcquireTask is unchecked, as in 1.42.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { deflateMessage, Message, RecordDict } from "@flwr-ts/core";
import { Run } from "@flwr-ts/core/proto";
import {
  AcquireTaskRequest,
  AcquireTaskResponse,
  PullTaskInputRequest,
  PushTaskOutputRequest,
  SendTaskHeartbeatRequest,
} from "@flwr-ts/core/proto/runtime";
import { afterEach, describe, expect, test } from "vitest";
import { ACQUIRE_TASK_PATH } from "../../protocol/runtime/runtime-auth-middleware.js";
import {
  deriveAuthSecret,
  SUPEREXEC_AUTH_HEADERS,
  superExecAuthHeaders,
} from "../../protocol/runtime/superexec-auth.js";
import { NodeState, TOKEN_HEARTBEAT_TTL_S } from "../node-state.js";
import { createSuperNodeRuntimeRouter } from "./supernode-runtime-server.js";

const SECRET = Buffer.from("secret of the SuperNode\n");
const AUTH_FAILED = { code: 1008, detail: "Authentication failed." };
const RUN_ID = 5n;

interface Scene {
  state: NodeState;
  errors: unknown[];
  advance(seconds: number): void;
  now(): number;
  post(
    route: string,
    body: Uint8Array,
    headers?: Record<string, string>,
  ): Promise<{ status: number; json: unknown; bytes: Uint8Array }>;
  close(): Promise<void>;
}

let scene: Scene | undefined;
afterEach(async () => {
  await scene?.close();
  scene = undefined;
});

async function startScene(secret: Uint8Array | undefined): Promise<Scene> {
  let now = Date.now();
  const clock = () => now;
  const state = new NodeState(clock);
  const errors: unknown[] = [];
  const { router } = createSuperNodeRuntimeRouter({
    state,
    superExecAuthSecret: secret,
    clock,
    onError: (_m, e) => errors.push(e),
  });
  const server: Server = createServer(router.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    state,
    errors,
    advance: (s) => {
      now += s * 1000;
    },
    now: clock,
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

/** Stores one instruction of run {@link RUN_ID} (what the SuperNode's executor does). */
function waitingInstruction(state: NodeState): void {
  state.storeRun({ ...Run.fromPartial({}), runId: RUN_ID, fabHash: "h" });
  state.storeFab({ hashStr: "h", content: Buffer.from("fab"), verifications: new Map() });
  state.storeContext({
    runId: RUN_ID,
    nodeId: 3n,
    nodeConfig: new Map(),
    state: { items: [] },
    runConfig: new Map(),
    seriesId: 0n,
  });
  const ins = new Message(new RecordDict({}), 3n, "train");
  ins.metadata.runId = RUN_ID;
  const deflated = deflateMessage(ins);
  ins.metadata.messageId = deflated.messageId;
  state.storeInstruction(
    {
      metadata: {
        runId: RUN_ID,
        messageId: deflated.messageId,
        srcNodeId: 1n,
        dstNodeId: 3n,
        replyToMessageId: "",
        groupId: "",
        ttl: 3600,
        messageType: "train",
        createdAt: Date.now() / 1000,
      },
      content: { items: [] },
      error: undefined,
    },
    deflated.tree,
    deflated.objects,
  );
}

const ACQUIRE = AcquireTaskRequest.encode({
  supportedTaskTypes: ["flwr-clientapp"],
  agentappFabHashes: [],
}).finish();
const EMPTY_HEARTBEAT = SendTaskHeartbeatRequest.encode(
  SendTaskHeartbeatRequest.fromPartial({}),
).finish();

function signed(s: Scene, body: Uint8Array = ACQUIRE): Record<string, string> {
  return superExecAuthHeaders(deriveAuthSecret(SECRET), ACQUIRE_TASK_PATH, body, s.now);
}

async function expectRefused(
  s: Scene,
  route: string,
  body: Uint8Array,
  headers: Record<string, string>,
): Promise<void> {
  const answer = await s.post(route, body, headers);
  expect(answer.status).toBe(401);
  expect(answer.json).toEqual(AUTH_FAILED);
}

describe("SuperNode Runtime API authentication", () => {
  test("AcquireTask: missing, forged, stale, future, body-mismatched and replayed signatures", async () => {
    scene = await startScene(SECRET);
    const s = scene;
    waitingInstruction(s.state);
    await expectRefused(s, "acquire-task", ACQUIRE, {});
    const forged = {
      ...signed(s),
      [SUPEREXEC_AUTH_HEADERS.signature]: "0".repeat(64),
    };
    await expectRefused(s, "acquire-task", ACQUIRE, forged);
    const wrongKey = superExecAuthHeaders(
      deriveAuthSecret(Buffer.from("another secret")),
      ACQUIRE_TASK_PATH,
      ACQUIRE,
      s.now,
    );
    await expectRefused(s, "acquire-task", ACQUIRE, wrongKey);
    const stale = signed(s);
    s.advance(306);
    await expectRefused(s, "acquire-task", ACQUIRE, stale);
    const future = superExecAuthHeaders(
      deriveAuthSecret(SECRET),
      ACQUIRE_TASK_PATH,
      ACQUIRE,
      () => s.now() + 10_000,
    );
    await expectRefused(s, "acquire-task", ACQUIRE, future);
    const otherBody = AcquireTaskRequest.encode({
      supportedTaskTypes: ["flwr-serverapp"],
      agentappFabHashes: [],
    }).finish();
    await expectRefused(s, "acquire-task", ACQUIRE, signed(s, otherBody));
    // Nothing was claimed by the refused calls.
    expect(s.state.runIdsWithPendingMessages()).toEqual([RUN_ID]);
    const good = signed(s);
    const first = await s.post("acquire-task", ACQUIRE, good);
    expect(first.status).toBe(200);
    expect(AcquireTaskResponse.decode(first.bytes).task?.runId).toBe(RUN_ID);
    await expectRefused(s, "acquire-task", ACQUIRE, good);
    expect(s.errors).toEqual([]);
  });

  test("task tokens: missing, wrong, repeated, expired and finished", async () => {
    scene = await startScene(SECRET);
    const s = scene;
    waitingInstruction(s.state);
    const { token } = AcquireTaskResponse.decode(
      (await s.post("acquire-task", ACQUIRE, signed(s))).bytes,
    );
    const pull = PullTaskInputRequest.encode(PullTaskInputRequest.fromPartial({})).finish();
    await expectRefused(s, "pull-task-input", pull, {});
    await expectRefused(s, "pull-task-input", pull, { "flwr-task-token": "f".repeat(256) });
    // Two values of the header (fetch joins them with ", ") are not the token.
    await expectRefused(s, "send-task-heartbeat", EMPTY_HEARTBEAT, {
      "flwr-task-token": `${token}, ${token}`,
    });
    const ok = await s.post("send-task-heartbeat", EMPTY_HEARTBEAT, { "flwr-task-token": token });
    expect(ok.status).toBe(200);
    // The heartbeat keeps it 60 s; after that it is gone.
    s.advance(TOKEN_HEARTBEAT_TTL_S + 1);
    await expectRefused(s, "send-task-heartbeat", EMPTY_HEARTBEAT, { "flwr-task-token": token });
    // The run is pending again (the instruction got its CLIENT_APP_CRASHED reply); a new task.
    waitingInstruction(s.state);
    const second = AcquireTaskResponse.decode(
      (await s.post("acquire-task", ACQUIRE, signed(s))).bytes,
    );
    expect(second.token).not.toBe(token);
    const auth = { "flwr-task-token": second.token };
    expect((await s.post("pull-task-input", pull, auth)).status).toBe(200);
    const output = PushTaskOutputRequest.encode({
      context: undefined,
      subStatus: "completed",
      details: "",
    }).finish();
    expect((await s.post("push-task-output", output, auth)).status).toBe(200);
    await expectRefused(s, "push-task-output", output, auth);
    await expectRefused(s, "send-task-heartbeat", EMPTY_HEARTBEAT, auth);
    expect(s.errors).toEqual([]);
  });

  test("without a secret AcquireTask is not checked; another release is 412 {1001}", async () => {
    scene = await startScene(undefined);
    const s = scene;
    waitingInstruction(s.state);
    const old = await s.post("acquire-task", ACQUIRE, {
      "flwr-package-name": "flwr",
      "flwr-package-version": "1.29.0",
      "flwr-component-name": "SuperExec",
    });
    expect(old.status).toBe(412);
    expect((old.json as { code: number; extra: string }).code).toBe(1001);
    expect(JSON.stringify(old.json)).toContain("SuperNode version 1.42.0");
    const answer = await s.post("acquire-task", ACQUIRE, {
      "flwr-package-name": "flwr",
      "flwr-package-version": "1.42.0",
      "flwr-component-name": "SuperExec",
    });
    expect(answer.status).toBe(200);
    expect(AcquireTaskResponse.decode(answer.bytes).task?.type).toBe("flwr-clientapp");
    expect(s.errors).toEqual([]);
  });
});
