/**
 * The Runtime API ClientApp process against a fake Flower 1.42 SuperNode Runtime API (node:http,
 * protobuf bodies on 1.42's routes): the calls it makes, in order, with the task token, the
 * object pulls and the confirmation, the reply push with the session id, and the task output.
 * A run with no FAB is the error path (Flower's LOAD_CLIENT_APP_EXCEPTION reply, task failed); a
 * SuperNode with no message fails the task with details. The happy path with a TypeScript
 * ClientApp runs in e2e/runtime-clientapp-python-1.42.test.ts against Python 1.42.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  Context,
  contextToProto,
  ErrorCode,
  inflateMessage,
  Message,
  MetricRecord,
  RecordDict,
} from "@flwr-ts/core";
import {
  ConfirmMessageReceivedRequest,
  type ObjectTree,
  PullObjectRequest,
  PullObjectResponse,
  PushObjectRequest,
  PushObjectResponse,
} from "@flwr-ts/core/proto";
import {
  PullAppMessagesResponse,
  PullTaskInputResponse,
  PushAppMessagesRequest,
  PushAppMessagesResponse,
  PushTaskOutputRequest,
  SendTaskHeartbeatResponse,
} from "@flwr-ts/core/proto/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { prepareOutgoing } from "../object-transfer.js";
import { runClientAppRuntime } from "./run-clientapp-runtime.js";

interface Call {
  path: string;
  token: string | undefined;
  body: Buffer;
}

const RUN = 7n;
const NODE = 42n;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
  });
}

/** A fake SuperNode Runtime API holding one instruction (or none). */
async function fakeSuperNode(withMessage: boolean) {
  const context = new Context({
    runId: RUN,
    nodeId: NODE,
    nodeConfig: {},
    state: new RecordDict(),
    runConfig: {},
  });
  const instruction = new Message(
    new RecordDict({ metrics: new MetricRecord({ x: 1 }) }),
    0n,
    "train",
  );
  instruction.metadata.runId = RUN;
  instruction.metadata.srcNodeId = 1n;
  instruction.metadata.dstNodeId = NODE;
  const out = prepareOutgoing(instruction);
  const pushed = new Map<string, Uint8Array>();
  const calls: Call[] = [];
  const answers: Record<string, (body: Buffer) => Uint8Array> = {
    "/v1/runtime/send-task-heartbeat": () =>
      SendTaskHeartbeatResponse.encode({ success: true }).finish(),
    "/v1/runtime/pull-task-input": () =>
      PullTaskInputResponse.encode({
        context: contextToProto(context),
        run: {
          runId: RUN,
          fabId: "",
          fabVersion: "",
          fabHash: "",
          overrideConfig: new Map(),
          pendingAt: "",
          startingAt: "",
          runningAt: "",
          finishedAt: "",
          status: undefined,
          flwrAid: "",
          federation: "",
          bytesSent: 0n,
          bytesRecv: 0n,
          clientappRuntime: 0,
          runType: "",
          seriesId: RUN,
          accountName: "",
        },
        fab: undefined,
        federationConfig: undefined,
        taskId: 3n,
      }).finish(),
    "/v1/runtime/pull-messages": () =>
      PullAppMessagesResponse.encode(
        withMessage
          ? { messagesList: [out.proto], messageObjectTrees: [out.deflated.tree] }
          : { messagesList: [], messageObjectTrees: [] },
      ).finish(),
    "/v1/runtime/pull-object": (body) => {
      const { objectId } = PullObjectRequest.decode(body);
      const content = out.deflated.objects.get(objectId);
      return PullObjectResponse.encode({
        objectFound: content !== undefined,
        objectAvailable: content !== undefined,
        objectContent: Buffer.from(content ?? new Uint8Array()),
      }).finish();
    },
    "/v1/runtime/confirm-message-received": () => new Uint8Array(),
    "/v1/runtime/push-messages": (body) => {
      const req = PushAppMessagesRequest.decode(body);
      return PushAppMessagesResponse.encode({
        messageIds: [req.messageObjectTrees[0]!.objectId],
        objectsToPush: collectIds(req.messageObjectTrees[0]!),
        sessionId: "session-1",
      }).finish();
    },
    "/v1/runtime/push-object": (body) => {
      const req = PushObjectRequest.decode(body);
      expect(req.sessionId).toBe("session-1");
      pushed.set(req.objectId, req.objectContent);
      return PushObjectResponse.encode({ stored: true }).finish();
    },
    "/v1/runtime/push-task-output": () => new Uint8Array(),
  };
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = req.url ?? "";
    const token = req.headers["flwr-task-token"];
    calls.push({ path, token: typeof token === "string" ? token : undefined, body });
    const answer = answers[path];
    if (!answer || req.method !== "POST") {
      res.writeHead(404, { "content-type": "application/json" });
      res.end('{"detail":"Not Found"}');
      return;
    }
    const bytes = answer(body);
    res.writeHead(200, {
      "content-type": "application/protobuf",
      "content-length": String(bytes.length),
    });
    res.end(Buffer.from(bytes));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, address: `127.0.0.1:${port}`, calls, pushed, instruction: out };
}

function collectIds(tree: ObjectTree): string[] {
  return [tree.objectId, ...tree.children.flatMap((c) => collectIds(c))];
}

describe("runClientAppRuntime (Flower 1.42 Runtime API)", () => {
  let server: Server | undefined;
  afterEach(
    () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  );

  it("pulls inputs and the message, replies with Flower's load error and fails the task", async () => {
    const fake = await fakeSuperNode(true);
    server = fake.server;
    const status = await runClientAppRuntime({
      address: fake.address,
      insecure: true,
      token: "tok-1",
      heartbeatIntervalMs: 60_000,
    });
    expect(status).toBe(1);
    const paths = fake.calls.map((c) => c.path).filter((p) => !p.endsWith("send-task-heartbeat"));
    expect(paths[0]).toBe("/v1/runtime/pull-task-input");
    expect(paths[1]).toBe("/v1/runtime/pull-messages");
    expect(paths).toContain("/v1/runtime/pull-object");
    expect(paths.indexOf("/v1/runtime/confirm-message-received")).toBeLessThan(
      paths.indexOf("/v1/runtime/push-messages"),
    );
    expect(paths.at(-1)).toBe("/v1/runtime/push-task-output");
    expect(new Set(fake.calls.map((c) => c.token))).toEqual(new Set(["tok-1"]));
    const confirm = ConfirmMessageReceivedRequest.decode(
      fake.calls.find((c) => c.path.endsWith("confirm-message-received"))!.body,
    );
    expect(confirm).toMatchObject({ runId: RUN, node: { nodeId: NODE } });
    expect(confirm.messageObjectId).toBe(fake.instruction.deflated.messageId);

    // The reply: its objects arrived, and it is Flower's load error replying to the instruction.
    const push = PushAppMessagesRequest.decode(
      fake.calls.find((c) => c.path.endsWith("push-messages"))!.body,
    );
    expect(push.messagesList).toHaveLength(1);
    const replyId = push.messageObjectTrees[0]!.objectId;
    const reply = inflateMessage(fake.pushed, replyId);
    expect(reply.hasError()).toBe(true);
    expect(reply.error.code).toBe(ErrorCode.LOAD_CLIENT_APP_EXCEPTION);
    expect(reply.error.reason).toBe("An exception was raised when attempting to load `ClientApp`");
    expect(reply.metadata.replyToMessageId).toBe(fake.instruction.deflated.messageId);
    expect(reply.metadata.dstNodeId).toBe(1n);
    expect(reply.metadata.srcNodeId).toBe(NODE);

    const output = PushTaskOutputRequest.decode(fake.calls.at(-1)!.body);
    expect(output.subStatus).toBe("failed");
    expect(output.details).toBe("An exception was raised when attempting to load `ClientApp`");
    expect(output.context?.nodeId).toBe(NODE);
  });

  it("fails the task with details when the SuperNode has no message", async () => {
    const fake = await fakeSuperNode(false);
    server = fake.server;
    const status = await runClientAppRuntime({
      address: fake.address,
      insecure: true,
      token: "tok-2",
      heartbeatIntervalMs: 60_000,
    });
    expect(status).toBe(1);
    const paths = fake.calls.map((c) => c.path);
    expect(paths).not.toContain("/v1/runtime/push-messages");
    const output = PushTaskOutputRequest.decode(fake.calls.at(-1)!.body);
    expect(output.subStatus).toBe("failed");
    expect(output.details).toBe("<class 'Error'>:<'No messages received from Runtime API'>");
  });
});
