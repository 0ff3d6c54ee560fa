/**
 * The Runtime API's authentication on the real HTTP router (node:http on 127.0.0.1:0, the
 * SuperLink's Runtime handlers over a MemoryLinkState with a movable clock): SuperExec HMAC
 * signatures on AcquireTask (missing, forged, stale, future, body-mismatched, replayed, bad
 * timestamp) and task tokens on every other route (missing, wrong, repeated, expired, of a
 * finished task) are all Flower 1.42's 401 `{"code":1008,"detail":"Authentication failed."}`,
 * never a 500; without a secret AcquireTask is not checked, as in 1.42.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AcquireTaskRequest, AcquireTaskResponse } from "@flwr-ts/core/proto/runtime";
import { afterEach, describe, expect, test } from "vitest";
import { MemoryObjectStore } from "../../object-store/memory-object-store.js";
import { createRuntimeHandlers } from "../../superlink/runtime/runtime-handlers.js";
import {
  ACQUIRE_TASK_PATH,
  SuperLinkRuntimeDefinition,
} from "../../superlink/runtime/runtime-server-definition.js";
import { NOOP_FEDERATION, NOOP_FLWR_AID } from "../../superlink/state/link-state.js";
import { MemoryLinkState } from "../../superlink/state/memory-link-state.js";
import { HttpRpcRouter } from "../../wire/http/http-router.js";
import { createRuntimeAuthMiddleware, TASK_TOKEN_HEADER } from "./runtime-auth-middleware.js";
import { deriveAuthSecret, superExecAuthHeaders } from "./superexec-auth.js";

const SECRET = Buffer.from("a SuperExec secret\n");
const AUTH_FAILED = { code: 1008, detail: "Authentication failed." };

interface Scene {
  state: MemoryLinkState;
  url: string;
  advance(seconds: number): void;
  now(): number;
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
  const state = new MemoryLinkState({ clock });
  const store = new MemoryObjectStore();
  const runtime = createRuntimeHandlers({ state, store });
  const errors: unknown[] = [];
  const router = new HttpRpcRouter().addService(SuperLinkRuntimeDefinition, runtime.handlers, {
    middleware: [createRuntimeAuthMiddleware({ state, superExecAuthSecret: secret, clock })],
    onError: (_m, e) => errors.push(e),
  });
  const server: Server = createServer(router.handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    state,
    url: `http://127.0.0.1:${port}`,
    advance: (s) => {
      now += s * 1000;
    },
    now: clock,
    close: async () => {
      runtime.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      expect(errors).toEqual([]);
    },
  };
}

function newRun(state: MemoryLinkState): bigint {
  const fabHash = state.storeFab({
    hashStr: "",
    content: Buffer.from("fab"),
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
    nodeId: 1n,
    nodeConfig: new Map(),
    state: { items: [] },
    runConfig: new Map(),
    seriesId: 0n,
  });
  return runId;
}

async function post(
  s: Scene,
  route: string,
  body: Uint8Array,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown; bytes: Uint8Array }> {
  const res = await fetch(`${s.url}/v1/runtime/${route}`, {
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
}

const acquireBody = AcquireTaskRequest.encode({
  supportedTaskTypes: ["flwr-serverapp", "flwr-clientapp"],
  agentappFabHashes: [],
}).finish();

const signed = (s: Scene, body: Uint8Array = acquireBody, at = s.now()) =>
  superExecAuthHeaders(deriveAuthSecret(SECRET), ACQUIRE_TASK_PATH, body, () => at);

describe("SuperExec signatures on AcquireTask (--superexec-auth-secret-file)", () => {
  test("a valid signature acquires the pending task; the same nonce again is refused", async () => {
    scene = await startScene(SECRET);
    const runId = newRun(scene.state);
    const headers = signed(scene);
    const ok = await post(scene, "acquire-task", acquireBody, headers);
    expect(ok.status).toBe(200);
    const res = AcquireTaskResponse.decode(ok.bytes);
    expect(res.task?.runId).toBe(runId);
    expect(res.task?.type).toBe("flwr-serverapp");
    expect(res.token).toMatch(/^[0-9a-f]{256}$/);
    const replay = await post(scene, "acquire-task", acquireBody, headers);
    expect(replay).toMatchObject({ status: 401, json: AUTH_FAILED });
  });

  test("missing, forged, stale, future, mismatched and malformed signatures are 401 {1008}", async () => {
    scene = await startScene(SECRET);
    newRun(scene.state);
    const s = scene;
    const good = () => signed(s);
    const cases: [string, Record<string, string>, Uint8Array?][] = [
      ["no headers", {}],
      ["no signature", { ...good(), "flwr-superexec-signature": "" }],
      ["no nonce", (({ "flwr-superexec-nonce": _, ...rest }) => rest)(good())],
      ["forged signature", { ...good(), "flwr-superexec-signature": "0".repeat(64) }],
      [
        "signature of another secret",
        superExecAuthHeaders(
          deriveAuthSecret(Buffer.from("other")),
          ACQUIRE_TASK_PATH,
          acquireBody,
        ),
      ],
      ["stale timestamp (306 s)", signed(s, acquireBody, s.now() - 306_000)],
      ["future timestamp (+6 s)", signed(s, acquireBody, s.now() + 6_000)],
      [
        "body of another request",
        signed(
          s,
          AcquireTaskRequest.encode({
            supportedTaskTypes: ["flwr-clientapp"],
            agentappFabHashes: [],
          }).finish(),
        ),
      ],
      ["non-integer timestamp", { ...good(), "flwr-superexec-ts": "12.5" }],
      ["huge timestamp", { ...good(), "flwr-superexec-ts": "9".repeat(40) }],
      [
        "signature of another method",
        superExecAuthHeaders(
          deriveAuthSecret(SECRET),
          "/flwr.proto.Runtime/PullTaskInput",
          acquireBody,
        ),
      ],
    ];
    for (const [what, headers] of cases) {
      const r = await post(s, "acquire-task", acquireBody, headers);
      expect({ what, status: r.status, json: r.json }).toEqual({
        what,
        status: 401,
        json: AUTH_FAILED,
      });
    }
    // None of them claimed the task: a valid call still gets it.
    const ok = await post(s, "acquire-task", acquireBody, good());
    expect(AcquireTaskResponse.decode(ok.bytes).token).toMatch(/^[0-9a-f]{256}$/);
  });

  test("a signature just inside the window (304 s old) is accepted", async () => {
    scene = await startScene(SECRET);
    newRun(scene.state);
    const r = await post(
      scene,
      "acquire-task",
      acquireBody,
      signed(scene, acquireBody, scene.now() - 304_000),
    );
    expect(r.status).toBe(200);
  });

  test("without a secret AcquireTask is not checked (Flower 1.42's behaviour)", async () => {
    scene = await startScene(undefined);
    const runId = newRun(scene.state);
    const r = await post(scene, "acquire-task", acquireBody);
    expect(r.status).toBe(200);
    expect(AcquireTaskResponse.decode(r.bytes).task?.runId).toBe(runId);
    // Nothing pending any more: an empty answer, not an error.
    const empty = await post(scene, "acquire-task", acquireBody);
    expect(empty.status).toBe(200);
    expect(AcquireTaskResponse.decode(empty.bytes)).toEqual({ task: undefined, token: "" });
  });
});

describe("task tokens on the other routes", () => {
  const acquire = async (s: Scene) => {
    const r = await post(s, "acquire-task", acquireBody);
    return AcquireTaskResponse.decode(r.bytes);
  };

  test("every task route refuses a call without a valid flwr-task-token", async () => {
    scene = await startScene(undefined);
    newRun(scene.state);
    const { token } = await acquire(scene);
    const routes = Object.values(SuperLinkRuntimeDefinition.methods)
      .map((m) => m.name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase())
      .filter((r) => r !== "acquire-task");
    expect(routes).toHaveLength(10);
    for (const route of routes) {
      for (const [what, headers] of [
        ["no token", {}],
        ["empty token", { [TASK_TOKEN_HEADER]: "" }],
        ["wrong token", { [TASK_TOKEN_HEADER]: "f".repeat(256) }],
        ["token with junk", { [TASK_TOKEN_HEADER]: `${token}x` }],
      ] as const) {
        const r = await post(scene, route, new Uint8Array(), headers);
        expect({ route, what, status: r.status, json: r.json }).toEqual({
          route,
          what,
          status: 401,
          json: AUTH_FAILED,
        });
      }
    }
    // The valid token passes the same routes' authentication.
    const hb = await post(scene, "send-task-heartbeat", new Uint8Array(), {
      [TASK_TOKEN_HEADER]: token,
    });
    expect(hb.status).toBe(200);
  });

  test("an expired token and the token of a finished task are refused", async () => {
    scene = await startScene(undefined);
    const runId = newRun(scene.state);
    const { token, task } = await acquire(scene);
    const auth = { [TASK_TOKEN_HEADER]: token };
    expect((await post(scene, "pull-task-input", new Uint8Array(), auth)).status).toBe(200);
    scene.advance(61);
    expect(await post(scene, "send-task-heartbeat", new Uint8Array(), auth)).toMatchObject({
      status: 401,
      json: AUTH_FAILED,
    });
    expect(scene.state.getRun(runId)?.status).toEqual({
      status: "finished",
      subStatus: "failed",
      details: "No heartbeat received from the run.",
    });
    expect(scene.state.getTask(task!.taskId)?.status?.status).toBe("finished");

    const second = newRun(scene.state);
    const b = await acquire(scene);
    expect(b.task?.runId).toBe(second);
    scene.state.updateRunStatus(second, { status: "finished", subStatus: "stopped", details: "" });
    expect(
      await post(scene, "pull-messages", new Uint8Array(), { [TASK_TOKEN_HEADER]: b.token }),
    ).toMatchObject({ status: 401, json: AUTH_FAILED });
  });
});
