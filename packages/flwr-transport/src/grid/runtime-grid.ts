/**
 * `RuntimeGrid`: the {@link Grid} of a ServerApp process over a Flower 1.42 SuperLink's Runtime
 * API (protobuf over HTTP, `POST /v1/runtime/<method>`), what 1.42's
 * `flwr/superlink/grid/http_grid.py` `HttpGrid` does, with the task token (`flwr-task-token`) on
 * every call:
 *
 * - `getNodeIds`: GetNodes (the run's online nodes, `runtime_handlers.get_nodes`).
 * - `pushMessages`: stamps each instruction (run id, src 1, message id = object id), sends
 *   PushMessages with content-less messages and their object trees, then PushObjects the ids the
 *   SuperLink asks for with the `session_id` it answered (node 1: 1.42's Runtime PushObject and
 *   PullObject refuse any other node with 412 `RUNTIME_UNEXPECTED_NODE_ID`).
 * - `pullMessages`: PullMessages by instruction id, then PullObject for each reply's objects
 *   (short adaptive retry while a SuperNode is still pushing them), verify, inflate,
 *   ConfirmMessageReceived. A reply whose objects cannot be pulled becomes 1.42's error reply
 *   (`MESSAGE_UNAVAILABLE`, "Reply message objects are unavailable. …").
 * - `sendAndReceive`: push, then poll PullMessages until every reply arrived or the timeout
 *   passed, with a delay growing from 20 ms to 1 s between empty answers (1.42 sleeps a fixed 3 s).
 *
 * A request or answer too large for the HTTP path (413, e.g. from a proxy) is logged with advice
 * and gives no ids / no replies, as `HttpGrid` does.
 *
 * No flwr-ts extension is used (no inline content, no long-poll): the other side is Python.
 * Errors: a revoked token (401: the run was stopped) and a not-running run (403) throw
 * `RunNotRunningError` (`../app-runtime/runtime-api/runtime-errors.ts`).
 */
import {
  ErrorCode,
  type Grid,
  Message,
  MessageError,
  MessageType,
  Metadata,
  type SendAndReceiveOptions,
  stampInstruction,
} from "@flwr-ts/core";
import type { ObjectTree } from "@flwr-ts/core/proto";
import { appLog } from "../app-runtime/app-log.js";
import {
  type OutgoingMessage,
  prepareOutgoing,
  pullMessage,
  pushWantedObjects,
} from "../app-runtime/object-transfer.js";
import {
  createRuntimeClient,
  type RuntimeClient,
  type RuntimeConnection,
} from "../app-runtime/runtime-api/runtime-client.js";
import { withRuntimeRetry } from "../app-runtime/runtime-api/runtime-errors.js";
import { ObjectPullError } from "../supernode/pull-objects.js";
import { Code } from "../wire/code.js";
import { isServiceError } from "../wire/rpc-error.js";

/** The SuperLink's node id, the only node a ServerApp's object calls may name. */
const SUPERLINK_NODE = { nodeId: 1n };

const PUSH_TOO_LARGE =
  "[Grid.pushMessages] HTTP payload too large: push fewer messages at once, e.g. one message per pushMessages call.";
const PULL_TOO_LARGE =
  "[Grid.pullMessages] HTTP payload too large: pull fewer replies at once, e.g. one message id per pullMessages call.";

/** True for HTTP 413 (and a response over the client's size limit). */
function tooLarge(error: unknown): boolean {
  return isServiceError(error) && error.code === Code.RESOURCE_EXHAUSTED;
}

/** Options of {@link RuntimeGrid}. */
export interface RuntimeGridOptions extends RuntimeConnection {
  /** The task token from the SuperExec (`--token`). */
  readonly token: string;
  /** Longest pause between two empty PullMessages answers in `sendAndReceive` (ms, default 1000). */
  readonly maxPollIntervalMs?: number;
}

/** A Grid over a Flower 1.42 SuperLink's Runtime API. */
export class RuntimeGrid implements Grid {
  /** The typed Runtime API client (also used by the app process for inputs, logs, output). */
  readonly client: RuntimeClient;
  private currentRunId: bigint | undefined;
  private readonly maxPollIntervalMs: number;

  /** @throws Error when `token` is empty (1.42: "`token` must be a non-empty string"). */
  constructor(options: RuntimeGridOptions) {
    if (options.token === "") throw new Error("RuntimeGrid: the task token must not be empty");
    this.client = createRuntimeClient(options, options.token);
    this.maxPollIntervalMs = options.maxPollIntervalMs ?? 1000;
  }

  /** The run, once {@link setRun} was called. */
  get runId(): bigint {
    if (this.currentRunId === undefined) throw new Error("RuntimeGrid: the run is not set yet");
    return this.currentRunId;
  }

  /** Binds the grid to its run (after PullTaskInput). */
  setRun(runId: bigint): void {
    this.currentRunId = runId;
  }

  async getNodeIds(): Promise<bigint[]> {
    const res = await withRuntimeRetry(() => this.client.getNodes({}));
    return res.nodes.map((n) => n.nodeId);
  }

  async pushMessages(messages: Iterable<Message>): Promise<string[]> {
    try {
      return await this.push(messages);
    } catch (error) {
      if (!tooLarge(error)) throw error;
      appLog("ERROR", PUSH_TOO_LARGE);
      return [];
    }
  }

  private async push(messages: Iterable<Message>): Promise<string[]> {
    const runId = this.runId;
    const outgoing: OutgoingMessage[] = [];
    for (const message of messages) {
      stampInstruction(message, runId);
      outgoing.push(prepareOutgoing(message));
    }
    if (outgoing.length === 0) return [];
    const res = await withRuntimeRetry(() =>
      this.client.pushMessages({
        messagesList: outgoing.map((o) => o.proto),
        messageObjectTrees: outgoing.map((o) => o.deflated.tree),
      }),
    );
    await pushWantedObjects(outgoing, res.objectsToPush, async (objectId, content) => {
      const r = await withRuntimeRetry(() =>
        this.client.pushObject({
          node: SUPERLINK_NODE,
          runId,
          objectId,
          objectContent: Buffer.from(content.buffer, content.byteOffset, content.byteLength),
          sessionId: res.sessionId,
        }),
      );
      return r.stored;
    });
    return res.messageIds;
  }

  async pullMessages(messageIds: Iterable<string>): Promise<Message[]> {
    try {
      return await this.pull(messageIds);
    } catch (error) {
      if (!tooLarge(error)) throw error;
      appLog("ERROR", PULL_TOO_LARGE);
      return [];
    }
  }

  private async pull(messageIds: Iterable<string>): Promise<Message[]> {
    const runId = this.runId;
    const res = await withRuntimeRetry(() =>
      this.client.pullMessages({ messageIds: [...messageIds] }),
    );
    if (res.messagesList.length !== res.messageObjectTrees.length)
      throw new Error(
        `PullMessages answered ${res.messagesList.length} messages with ${res.messageObjectTrees.length} object trees`,
      );
    return Promise.all(
      res.messageObjectTrees.map((tree, i) =>
        this.receive(runId, tree, res.messagesList[i]?.metadata?.replyToMessageId ?? ""),
      ),
    );
  }

  /** Pulls, verifies and confirms one reply; unavailable objects give 1.42's error reply. */
  private async receive(runId: bigint, tree: ObjectTree, replyTo: string): Promise<Message> {
    try {
      return await pullMessage(
        tree,
        async (objectId) => {
          const r = await withRuntimeRetry(() =>
            this.client.pullObject({ node: SUPERLINK_NODE, runId, objectId }),
          );
          return { found: r.objectFound, available: r.objectAvailable, content: r.objectContent };
        },
        async (messageObjectId) => {
          await withRuntimeRetry(() =>
            this.client.confirmMessageReceived({ node: SUPERLINK_NODE, runId, messageObjectId }),
          );
        },
      );
    } catch (error) {
      if (!(error instanceof ObjectPullError)) throw error;
      const metadata = new Metadata({
        runId,
        messageId: "",
        srcNodeId: SUPERLINK_NODE.nodeId,
        dstNodeId: SUPERLINK_NODE.nodeId,
        replyToMessageId: replyTo,
        groupId: "",
        createdAt: Date.now() / 1000,
        ttl: 0,
        messageType: MessageType.SYSTEM,
      });
      return new Message(
        metadata,
        new MessageError(
          ErrorCode.MESSAGE_UNAVAILABLE,
          "Reply message objects are unavailable. The sender may not have completed the upload " +
            `before the object-push session expired. ${error.message}`,
        ),
      );
    }
  }

  async sendAndReceive(
    messages: Iterable<Message>,
    options: SendAndReceiveOptions = {},
  ): Promise<Message[]> {
    const ids = (await this.pushMessages(messages)).filter((id) => id !== "");
    const deadline =
      options.timeout === undefined
        ? Number.POSITIVE_INFINITY
        : Date.now() + options.timeout * 1000;
    const pending = new Set(ids);
    const replies: Message[] = [];
    let idle = 20;
    while (pending.size > 0 && Date.now() < deadline) {
      const got = await this.pullMessages([...pending]);
      for (const reply of got) {
        pending.delete(reply.metadata.replyToMessageId);
        replies.push(reply);
      }
      if (got.length > 0) {
        idle = 20;
        continue;
      }
      await new Promise((r) => setTimeout(r, Math.min(idle, Math.max(0, deadline - Date.now()))));
      idle = Math.min(idle * 2, this.maxPollIntervalMs);
    }
    return replies;
  }

  /** Closes the connections. */
  close(): void {
    this.client.close();
  }
}
