/**
 * `GrpcGrid`: the {@link Grid} of a ServerApp process, over the SuperLink's ServerAppIo API
 * (Python's `flwr.server.grid.grpc_grid.GrpcGrid`).
 *
 * - `pushMessages`: stamps each instruction (run id, src 1, message id = object id), deflates it,
 *   sends PushMessages with content-less messages and their object trees, then PushObjects the
 *   ids the SuperLink asks for, several at once.
 * - `pullMessages`: PullMessages, then PullObject for each reply's objects (short adaptive retry
 *   while a SuperNode is still pushing them), verify, inflate, ConfirmMessageReceived.
 * - `sendAndReceive`: push, then hold PullMessages open on the SuperLink (the flwr-ts long-poll
 *   header; a Python SuperLink answers at once and is then polled with a delay growing from
 *   20 ms to 1 s) until every reply arrived or the timeout passed — never Flower's fixed 3 s.
 *
 * With a flwr-ts SuperLink, small messages travel inline in both directions
 * (`inline/inline-content.ts`): one PushMessages and one PullMessages per exchange, no object
 * calls and no confirmations.
 *
 * The app token travels as `flwr-app-token` metadata on every call, as Flower 1.29's
 * `AppIoTokenClientInterceptor` sends it.
 */
import {
  type Grid,
  type Message,
  type SendAndReceiveOptions,
  stampInstruction,
} from "@flwr-ts/core";
import { ServerAppIoDefinition } from "@flwr-ts/core/proto";
import { credentials, Metadata } from "@grpc/grpc-js";
import { withAppIoRetry } from "../app-runtime/appio-errors.js";
import {
  prepareOutgoingBatch,
  pushWantedObjects,
  receiveMessage,
} from "../app-runtime/object-transfer.js";
import { traceNow, traceSpan } from "../diagnostics/trace.js";
import { flowerChannelOptions } from "../grpc/channel-options.js";
import { createClient, type ServiceClient } from "../grpc/client.js";
import { InlineHandshake, inlinedIds, markInlined } from "../inline/inline-content.js";
import { PULL_WAIT_HEADER as WAIT_HEADER } from "../protocol/flwr-ts-headers.js";
import { APP_TOKEN_HEADER } from "../serverappio/app-token-middleware.js";

/** Node id of the ServerApp side. */
const SUPERLINK_NODE = { nodeId: 1n };

/** Longest single held-open PullMessages (ms). */
const LONG_POLL_MS = 10_000;

/** Options of {@link GrpcGrid}. */
export interface GrpcGridOptions {
  /** ServerAppIo address, `host:port` (plaintext, as Flower's AppIo APIs are). */
  readonly address: string;
  /** The app token from the SuperExec. */
  readonly token: string;
  /**
   * Largest message (object bytes) exchanged inline with a flwr-ts SuperLink
   * (`inline/inline-content.ts`); 0 turns it off. Default: `FLWR_TS_INLINE_MAX_BYTES` or 1 MiB.
   */
  readonly inlineMaxBytes?: number;
}

/** A Grid over ServerAppIo. */
export class GrpcGrid implements Grid {
  /** The typed ServerAppIo client (also used by the app runtime for inputs, logs, status). */
  readonly client: ServiceClient<typeof ServerAppIoDefinition>;
  private currentRunId: bigint | undefined;
  private readonly inline: InlineHandshake;

  constructor(private readonly options: GrpcGridOptions) {
    const token = options.token;
    const inline = new InlineHandshake(options.inlineMaxBytes);
    this.inline = inline;
    this.client = createClient(
      ServerAppIoDefinition,
      options.address,
      credentials.createInsecure(),
      {
        channelOptions: flowerChannelOptions,
        metadata: () => {
          const md = new Metadata();
          md.set(APP_TOKEN_HEADER, token);
          return inline.announce(md);
        },
        onResponseMetadata: inline.learn,
      },
    );
  }

  /** The app token. */
  get token(): string {
    return this.options.token;
  }

  /** The run, once {@link setRun} was called. */
  get runId(): bigint {
    if (this.currentRunId === undefined) throw new Error("GrpcGrid: the run is not set yet");
    return this.currentRunId;
  }

  /** Binds the grid to its run (after PullAppInputs). */
  setRun(runId: bigint): void {
    this.currentRunId = runId;
  }

  async getNodeIds(): Promise<bigint[]> {
    const res = await withAppIoRetry(() => this.client.getNodes({ runId: this.runId }));
    return res.nodes.map((n) => n.nodeId);
  }

  async pushMessages(messages: Iterable<Message>): Promise<string[]> {
    const runId = this.runId;
    const t0 = traceNow();
    const stamped: Message[] = [];
    for (const message of messages) {
      stampInstruction(message, runId);
      stamped.push(message);
    }
    const outgoing = prepareOutgoingBatch(stamped, this.inline.serverMaxBytes);
    if (outgoing.length === 0) return [];
    traceSpan("grid.deflate", t0, { n: outgoing.length });
    const inlined = outgoing.filter((o) => o.inlined).map((o) => o.deflated.messageId);
    const res = await withAppIoRetry(() =>
      this.client.pushMessages(
        {
          token: "",
          runId,
          messagesList: outgoing.map((o) => o.proto),
          messageObjectTrees: outgoing.map((o) => o.deflated.tree),
        },
        { metadata: markInlined(new Metadata(), inlined) },
      ),
    );
    await pushWantedObjects(outgoing, res.objectsToPush, async (objectId, content) => {
      const r = await withAppIoRetry(() =>
        this.client.pushObject({
          node: SUPERLINK_NODE,
          runId,
          objectId,
          objectContent: Buffer.from(content.buffer, content.byteOffset, content.byteLength),
          sessionId: "",
        }),
      );
      return r.stored;
    });
    traceSpan("grid.push", t0, { n: outgoing.length, objects: res.objectsToPush.length });
    return res.messageIds;
  }

  async pullMessages(messageIds: Iterable<string>): Promise<Message[]> {
    return this.pull([...messageIds], 0);
  }

  private async pull(messageIds: string[], waitMs: number): Promise<Message[]> {
    const runId = this.runId;
    const md = new Metadata();
    if (waitMs > 0) md.set(WAIT_HEADER, String(Math.round(waitMs)));
    let inlined = new Set<string>();
    const res = await withAppIoRetry(() =>
      this.client.pullMessages(
        { token: "", runId, messageIds },
        {
          metadata: md,
          ...(waitMs > 0 ? { timeoutMs: waitMs + 30_000 } : {}),
          onResponseMetadata: (headers) => {
            inlined = inlinedIds(headers);
          },
        },
      ),
    );
    return Promise.all(
      res.messageObjectTrees.map((tree, i) =>
        receiveMessage(
          res.messagesList[i]!,
          tree,
          inlined.has(tree.objectId),
          async (objectId) => {
            const r = await withAppIoRetry(() =>
              this.client.pullObject({ node: SUPERLINK_NODE, runId, objectId }),
            );
            return { found: r.objectFound, available: r.objectAvailable, content: r.objectContent };
          },
          async (messageObjectId) => {
            await withAppIoRetry(() =>
              this.client.confirmMessageReceived({ node: SUPERLINK_NODE, runId, messageObjectId }),
            );
          },
        ),
      ),
    );
  }

  async sendAndReceive(
    messages: Iterable<Message>,
    options: SendAndReceiveOptions = {},
  ): Promise<Message[]> {
    const t0 = traceNow();
    const ids = (await this.pushMessages(messages)).filter((id) => id !== "");
    const deadline =
      options.timeout === undefined
        ? Number.POSITIVE_INFINITY
        : Date.now() + options.timeout * 1000;
    const pending = new Set(ids);
    const replies: Message[] = [];
    let idle = 20;
    while (pending.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const started = Date.now();
      const tPull = traceNow();
      const got = await this.pull([...pending], Math.min(remaining, LONG_POLL_MS));
      traceSpan("grid.pull", tPull, { got: got.length, pending: pending.size });
      for (const reply of got) {
        pending.delete(reply.metadata.replyToMessageId);
        replies.push(reply);
      }
      if (got.length > 0 || Date.now() - started >= 500) {
        idle = 20;
        continue;
      }
      // The SuperLink answered at once without replies (no long-poll support): back off.
      await new Promise((r) => setTimeout(r, Math.min(idle, Math.max(0, deadline - Date.now()))));
      idle = Math.min(idle * 2, 1000);
    }
    traceSpan("grid.sar", t0, { n: ids.length, replies: replies.length });
    return replies;
  }

  /** Closes the channel. */
  close(): void {
    this.client.close();
  }
}
