/**
 * A Flower 1.42 SuperLink Runtime API for tests of the ServerApp side (`RuntimeGrid`,
 * `runServerAppRuntime`): a real `node:http` server on 127.0.0.1 answering 1.42's routes
 * (`POST /v1/runtime/<kebab-method>`, protobuf bodies) with the rules of
 * `flwr/superlink/servicer/runtime/runtime_handlers.py` and `flwr/supercore/dependencies/task.py`:
 *
 * - every call needs exactly the task token in `flwr-task-token`, else 401
 *   `{"code":1008,"detail":"Authentication failed."}` (also after {@link SuperLinkRuntime.revoke},
 *   what 1.42's `stop_run` does to the token);
 * - PushMessages checks each instruction (run id, src node 1, id = object id), preregisters the
 *   tree's objects and answers every id not stored yet plus a new `session_id`;
 * - PushObject / PullObject refuse any node but 1 with 412 `{"code":3004,…}`; PushObject stores
 *   only a preregistered id of that session whose bytes hash to it (else `stored=false`);
 * - PullMessages returns each requested instruction's reply once, ConfirmMessageReceived is
 *   recorded; PullTaskInput answers the configured input or 412 `{"code":3002,…}`.
 *
 * Replies are put in by the test ({@link SuperLinkRuntime.reply}), as a SuperNode would push them.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type ObjectTree as CoreObjectTree,
  inflateMessage,
  type Message,
  objectTreeIds,
  sha256Hex,
} from "@flwr-ts/core";
import {
  ConfirmMessageReceivedRequest,
  NodeInfo,
  type Message as ProtoMessage,
  PullObjectRequest,
  PullObjectResponse,
  PushLogsRequest,
  PushObjectRequest,
  PushObjectResponse,
} from "@flwr-ts/core/proto";
import {
  GetNodesResponse,
  PullAppMessagesRequest,
  PullAppMessagesResponse,
  PullTaskInputResponse,
  PushAppMessagesRequest,
  PushAppMessagesResponse,
  PushTaskOutputRequest,
  SendTaskHeartbeatResponse,
} from "@flwr-ts/core/proto/runtime";
import { prepareOutgoing } from "../src/app-runtime/object-transfer.js";

/** One recorded call. */
export interface RuntimeCall {
  readonly path: string;
  readonly token: string | undefined;
  readonly body: Buffer;
}

/** Options of {@link startSuperLinkRuntime}. */
export interface SuperLinkRuntimeOptions {
  readonly token: string;
  readonly runId: bigint;
  readonly nodes?: readonly bigint[];
  /** PullTaskInput's answer; undefined: 412 RUNTIME_TASK_START_FAILED. */
  readonly taskInput?: PullTaskInputResponse;
  /** Delay before PullTaskInput answers (ms). */
  readonly taskInputDelayMs?: number;
  /** SendTaskHeartbeat's `success`. */
  readonly heartbeatSuccess?: boolean;
  /** Larger request bodies get 413 (as a proxy in front of the SuperLink may answer). */
  readonly maxRequestBytes?: number;
}

/** A running test Runtime API. */
export interface SuperLinkRuntime {
  readonly address: string;
  readonly calls: RuntimeCall[];
  /** Instructions stored by PushMessages, by message id (their objects in {@link objects}). */
  readonly instructions: Map<string, { proto: ProtoMessage; tree: CoreObjectTree }>;
  /** Object store: a preregistered id maps to undefined until pushed. */
  readonly objects: Map<string, Uint8Array | undefined>;
  /** Task outputs received. */
  readonly outputs: PushTaskOutputRequest[];
  /** Log text received with PushLogs. */
  readonly logs: string[];
  /** Makes `build(instruction)` the reply to the instruction `instructionId`. */
  reply(
    instructionId: string,
    build: (instruction: Message) => Message,
    options?: { withholdObjects?: boolean },
  ): void;
  /** Revokes the task token (1.42's `stop_run`). */
  revoke(): void;
  /** Sets SendTaskHeartbeat's `success`. */
  setHeartbeatSuccess(success: boolean): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly json: string,
  ) {
    super(json);
  }
}

const unexpectedNode = () => new HttpError(412, '{"code":3004,"detail":"Unexpected node ID."}');

/** Starts the server on a free port of 127.0.0.1. */
export async function startSuperLinkRuntime(
  options: SuperLinkRuntimeOptions,
): Promise<SuperLinkRuntime> {
  const calls: RuntimeCall[] = [];
  const instructions = new Map<string, { proto: ProtoMessage; tree: CoreObjectTree }>();
  const objects = new Map<string, Uint8Array | undefined>();
  const sessions = new Map<string, Set<string>>();
  const replies = new Map<string, { proto: ProtoMessage; tree: CoreObjectTree }>();
  const outputs: PushTaskOutputRequest[] = [];
  const logs: string[] = [];
  let revoked = false;
  let heartbeatSuccess = options.heartbeatSuccess ?? true;
  let sessionCount = 0;

  const routes: Record<string, (body: Buffer) => Promise<Uint8Array> | Uint8Array> = {
    "send-task-heartbeat": () =>
      SendTaskHeartbeatResponse.encode({ success: heartbeatSuccess }).finish(),
    "pull-task-input": async () => {
      if (options.taskInputDelayMs)
        await new Promise((r) => setTimeout(r, options.taskInputDelayMs));
      if (!options.taskInput)
        throw new HttpError(412, '{"code":3002,"detail":"Failed to start task."}');
      return PullTaskInputResponse.encode(options.taskInput).finish();
    },
    "push-task-output": (body) => {
      outputs.push(PushTaskOutputRequest.decode(body));
      return new Uint8Array();
    },
    "push-logs": (body) => {
      logs.push(PushLogsRequest.decode(body).logs.join(""));
      return new Uint8Array();
    },
    "get-nodes": () =>
      GetNodesResponse.encode({
        nodes: (options.nodes ?? []).map((nodeId) => NodeInfo.fromPartial({ nodeId })),
      }).finish(),
    "push-messages": (body) => {
      const req = PushAppMessagesRequest.decode(body);
      if (req.messagesList.length === 0)
        throw new HttpError(500, '{"detail":"Internal server error."}');
      const sessionId = `session-${++sessionCount}`;
      const wanted = new Set<string>();
      const ids: string[] = [];
      req.messagesList.forEach((proto, i) => {
        const tree = req.messageObjectTrees[i];
        const md = proto.metadata;
        if (!tree || !md || md.runId !== options.runId || md.srcNodeId !== 1n)
          throw new HttpError(500, '{"detail":"Internal server error."}');
        if (md.messageId !== tree.objectId)
          throw new HttpError(500, '{"detail":"Internal server error."}');
        instructions.set(md.messageId, { proto, tree });
        for (const id of objectTreeIds(tree)) {
          if (objects.get(id) !== undefined) continue;
          objects.set(id, undefined);
          wanted.add(id);
        }
        ids.push(md.messageId);
      });
      sessions.set(sessionId, wanted);
      return PushAppMessagesResponse.encode({
        messageIds: ids,
        objectsToPush: [...wanted],
        sessionId,
      }).finish();
    },
    "push-object": (body) => {
      const req = PushObjectRequest.decode(body);
      if (req.node?.nodeId !== 1n) throw unexpectedNode();
      const pending = sessions.get(req.sessionId);
      const ok =
        pending?.has(req.objectId) === true &&
        objects.has(req.objectId) &&
        sha256Hex(req.objectContent) === req.objectId;
      if (ok) {
        objects.set(req.objectId, new Uint8Array(req.objectContent));
        pending?.delete(req.objectId);
      }
      return PushObjectResponse.encode({ stored: ok }).finish();
    },
    "pull-messages": (body) => {
      const req = PullAppMessagesRequest.decode(body);
      const out = {
        messagesList: [] as ProtoMessage[],
        messageObjectTrees: [] as CoreObjectTree[],
      };
      for (const id of req.messageIds) {
        const r = replies.get(id);
        if (!r) continue;
        replies.delete(id);
        out.messagesList.push(r.proto);
        out.messageObjectTrees.push(r.tree);
      }
      return PullAppMessagesResponse.encode(out).finish();
    },
    "pull-object": (body) => {
      const req = PullObjectRequest.decode(body);
      if (req.node?.nodeId !== 1n) throw unexpectedNode();
      const found = objects.has(req.objectId);
      const content = objects.get(req.objectId);
      return PullObjectResponse.encode({
        objectFound: found,
        objectAvailable: content !== undefined,
        objectContent: Buffer.from(content ?? new Uint8Array()),
      }).finish();
    },
    "confirm-message-received": (body) => {
      const req = ConfirmMessageReceivedRequest.decode(body);
      if (req.node?.nodeId !== 1n) throw unexpectedNode();
      return new Uint8Array();
    },
  };

  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = req.url ?? "";
    const token = req.headers["flwr-task-token"];
    calls.push({ path, token: typeof token === "string" ? token : undefined, body });
    const send = (status: number, type: string, bytes: Uint8Array | string) => {
      const data = typeof bytes === "string" ? Buffer.from(bytes) : Buffer.from(bytes);
      res.writeHead(status, { "content-type": type, "content-length": String(data.length) });
      res.end(data);
    };
    const route = path.startsWith("/v1/runtime/") ? routes[path.slice(12)] : undefined;
    if (!route || req.method !== "POST")
      return send(404, "application/json", '{"detail":"Not Found"}');
    if (options.maxRequestBytes !== undefined && body.length > options.maxRequestBytes)
      return send(413, "application/json", '{"detail":"Request Entity Too Large"}');
    if (token !== options.token || revoked)
      return send(401, "application/json", '{"code":1008,"detail":"Authentication failed."}');
    try {
      send(200, "application/protobuf", await route(body));
    } catch (error) {
      if (error instanceof HttpError) send(error.status, "application/json", error.json);
      else send(500, "application/json", '{"detail":"Internal server error."}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    address: `127.0.0.1:${port}`,
    calls,
    instructions,
    objects,
    outputs,
    logs,
    reply(instructionId, build, replyOptions = {}) {
      const stored = instructions.get(instructionId);
      if (!stored) throw new Error(`no instruction ${instructionId}`);
      const contents = new Map<string, Uint8Array>();
      for (const id of objectTreeIds(stored.tree)) {
        const c = objects.get(id);
        if (c === undefined) throw new Error(`object ${id} of ${instructionId} was not pushed`);
        contents.set(id, c);
      }
      const instruction = inflateMessage(contents, instructionId);
      instruction.metadata.messageId = instructionId;
      const out = prepareOutgoing(build(instruction));
      if (!replyOptions.withholdObjects)
        for (const [id, c] of out.deflated.objects) objects.set(id, c);
      replies.set(instructionId, { proto: out.proto, tree: out.deflated.tree });
    },
    revoke() {
      revoked = true;
    },
    setHeartbeatSuccess(success) {
      heartbeatSuccess = success;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
