/**
 * The ClientAppIo API (SuperExec and `flwr-clientapp` → SuperNode) with Flower 1.29's semantics
 * (`flwr.supernode.servicer.clientappio.clientappio_servicer`): ListAppsToLaunch lists runs with
 * an instruction waiting and no token; RequestToken; PullAppInputs / PullMessage give the
 * context, run, FAB and the instruction; PushMessage / PushAppOutputs take the reply and the
 * updated context (and delete the token); objects in both directions. The body token is checked
 * by the rpcs that carry one (PERMISSION_DENIED "Invalid token."), the `flwr-app-token` metadata
 * by the middleware.
 *
 * flwr-ts extensions (Python callers never send the headers and see Flower's behaviour):
 * - {@link WAIT_HEADER} holds ListAppsToLaunch open until a run has work.
 * - {@link RUN_HEADER} on ListAppsToLaunch: a warm `flwr-clientapp` that just finished a message
 *   of that run waits for the run's next one. While it waits, and for {@link RESERVATION_MS}
 *   after it was answered, the run is hidden from other callers (the SuperExec), so the next
 *   message is handled by the already-loaded process instead of a new one.
 */

import type {
  ClientAppIoDefinition,
  ConfirmMessageReceivedRequest,
  GetRunRequest,
  Message as ProtoMessage,
  PullAppInputsRequest,
  PullAppMessagesRequest,
  PullObjectRequest,
  PushAppMessagesRequest,
  PushAppOutputsRequest,
  PushObjectRequest,
  RequestTokenRequest,
  SendAppHeartbeatRequest,
} from "@flwr-ts/core/proto";
import { DEFAULT_INLINE_MAX_BYTES } from "../inline/inline-content.js";
import { inlinePullAnswer, inlinePushObjects, putInlineObjects } from "../inline/inline-server.js";
import {
  InvalidObjectIdError,
  UnexpectedObjectContentError,
} from "../object-store/object-store.js";
import {
  RUN_HEADER,
  PULL_WAIT_HEADER as WAIT_HEADER,
  WARM_TOKEN_HEADER,
} from "../protocol/flwr-ts-headers.js";
import { requestedWait } from "../protocol/long-poll.js";
import type { NodeState, NodeStateEvent } from "../supernode/node-state.js";
import type { CallContext, ServiceHandlers } from "../wire/call-context.js";
import { Code } from "../wire/code.js";
import { RpcError } from "../wire/rpc-error.js";

export { RUN_HEADER, WAIT_HEADER, WARM_TOKEN_HEADER };

/** How long a run stays reserved for the warm process that was told about it (ms). */
export const RESERVATION_MS = 2000;

function waitFor(
  state: NodeState,
  predicate: (e: NodeStateEvent) => boolean,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, timeoutMs));
    const unsubscribe = state.subscribe((e) => {
      if (predicate(e)) done();
    });
    signal.addEventListener("abort", done, { once: true });
  });
}

function runHeader(ctx: CallContext): bigint | undefined {
  const raw = ctx.metadata.get(RUN_HEADER)[0];
  const text = typeof raw === "string" ? raw : raw?.toString("utf8");
  if (text === undefined || !/^\d{1,20}$/.test(text)) return undefined;
  return BigInt(text);
}

/** Builds the ClientAppIo rpc handlers over `state`. */
export function createClientAppIoHandlers(
  state: NodeState,
  options: {
    /** Inline-content limit (`inline/inline-content.ts`); 0 turns it off. Default 1 MiB. */
    inlineMaxBytes?: number;
  } = {},
): ServiceHandlers<typeof ClientAppIoDefinition> {
  const store = state.store;
  const inlineMax = options.inlineMaxBytes ?? DEFAULT_INLINE_MAX_BYTES;
  const warmWaiters = new Map<bigint, number>();
  const reservedUntil = new Map<bigint, number>();
  /** Replies pushed whose objects are still arriving. */
  const pendingReplies = new Map<string, ProtoMessage>();

  const visibleTo = (warmRun: bigint | undefined): bigint[] => {
    const now = Date.now();
    const pending = state.runIdsWithPendingMessages();
    if (warmRun !== undefined) return pending.filter((r) => r === warmRun);
    return pending.filter(
      (r) => !(warmWaiters.get(r) ?? 0) && !((reservedUntil.get(r) ?? 0) > now),
    );
  };

  const verifyBodyToken = (token: string): bigint => {
    const runId = state.getRunIdByToken(token);
    if (runId === undefined || !state.verifyToken(runId, token))
      throw new RpcError(Code.PERMISSION_DENIED, "Invalid token.");
    return runId;
  };

  return {
    listAppsToLaunch: async (_request, ctx: CallContext) => {
      const warmRun = runHeader(ctx);
      const deadline = Date.now() + requestedWait(ctx);
      if (warmRun !== undefined) warmWaiters.set(warmRun, (warmWaiters.get(warmRun) ?? 0) + 1);
      try {
        for (;;) {
          const runIds = visibleTo(warmRun);
          const remaining = deadline - Date.now();
          if (runIds.length > 0 || remaining <= 0 || ctx.signal.aborted) {
            if (warmRun !== undefined && runIds.length > 0) {
              const token = state.createToken(warmRun);
              if (token) ctx.responseMetadata.set(WARM_TOKEN_HEADER, token);
              else reservedUntil.set(warmRun, Date.now() + RESERVATION_MS);
            }
            return { runIds };
          }
          // Wake on new instructions, released tokens, and reservations running out.
          const nextReservation = Math.min(
            ...[...reservedUntil.values()].map((t) => t - Date.now()).filter((t) => t > 0),
          );
          await waitFor(
            state,
            (e) => e.type === "instruction" || e.type === "token",
            Math.min(remaining, Number.isFinite(nextReservation) ? nextReservation + 5 : remaining),
            ctx.signal,
          );
        }
      } finally {
        if (warmRun !== undefined) {
          const n = (warmWaiters.get(warmRun) ?? 1) - 1;
          if (n > 0) warmWaiters.set(warmRun, n);
          else warmWaiters.delete(warmRun);
        }
      }
    },

    requestToken: (request: RequestTokenRequest) => {
      const token = state.createToken(request.runId) ?? "";
      if (token) reservedUntil.delete(request.runId);
      return { token };
    },

    getRun: (request: GetRunRequest) => ({ run: state.getRun(request.runId) }),

    sendAppHeartbeat: (request: SendAppHeartbeatRequest) => ({
      success: state.acknowledgeAppHeartbeat(request.token),
    }),

    pullAppInputs: (request: PullAppInputsRequest) => {
      const runId = verifyBodyToken(request.token);
      const run = state.getRun(runId);
      const context = state.getContext(runId);
      const fab = run ? state.getFab(run.fabHash) : undefined;
      if (!run || !context)
        throw new RpcError(Code.NOT_FOUND, `Run ${runId} is not known to this SuperNode.`);
      if (!fab)
        throw new RpcError(Code.NOT_FOUND, `FAB with hash ${run.fabHash} not found in NodeState.`);
      return { context, run, fab, federationConfig: undefined };
    },

    pushAppOutputs: (request: PushAppOutputsRequest) => {
      const runId = verifyBodyToken(request.token);
      if (request.context) state.storeContext({ ...request.context, runId });
      state.deleteToken(runId);
      return {};
    },

    pullMessage: (request: PullAppMessagesRequest, ctx: CallContext) => {
      const runId = verifyBodyToken(request.token);
      const message = state.takeInstruction(runId);
      if (!message) throw new RpcError(Code.NOT_FOUND, `No message waiting for run ${runId}.`);
      const tree = store.getObjectTree(message.metadata!.messageId);
      // Inline content (flwr-ts ClientApps that ask for it). The objects stay until the reply is
      // taken (the executor deletes both messages), as after a ConfirmMessageReceived.
      const { messages } = inlinePullAnswer(ctx, inlineMax, store, [{ message, tree }]);
      return { messagesList: messages, messageObjectTrees: [tree] };
    },

    pushMessage: (request: PushAppMessagesRequest, ctx: CallContext) => {
      const runId = verifyBodyToken(request.token);
      const message = request.messagesList[0];
      const tree = request.messageObjectTrees[0];
      if (!message?.metadata || !tree)
        throw new RpcError(
          Code.INVALID_ARGUMENT,
          "PushMessage needs one message with its object tree.",
        );
      if (message.metadata.runId !== runId)
        throw new RpcError(
          Code.INVALID_ARGUMENT,
          "The reply's run does not match the token's run.",
        );
      const inlineObjects = inlinePushObjects(ctx, inlineMax, message, tree);
      let objectsToPush: string[];
      try {
        objectsToPush = store.preregister(runId, tree);
      } catch (error) {
        if (error instanceof InvalidObjectIdError)
          throw new RpcError(Code.INVALID_ARGUMENT, error.message);
        throw error;
      }
      objectsToPush = putInlineObjects(store, objectsToPush, inlineObjects);
      const replyId = message.metadata.messageId || tree.objectId;
      // Kept as Flower keeps it: metadata, the content as objects.
      const reply = {
        ...message,
        content: message.content ? { items: [] } : undefined,
        metadata: { ...message.metadata, messageId: replyId },
      };
      pendingReplies.set(replyId, reply);
      if (objectsToPush.length === 0) commit(replyId);
      return { messageIds: [], objectsToPush };
    },

    pushObject: (request: PushObjectRequest) => {
      let stored = false;
      try {
        stored = store.put(request.objectId, request.objectContent);
      } catch (error) {
        if (error instanceof UnexpectedObjectContentError)
          throw new RpcError(Code.FAILED_PRECONDITION, error.message);
        throw error;
      }
      // A reply becomes visible to the SuperNode once all its objects are here.
      for (const replyId of [...pendingReplies.keys()]) if (complete(replyId)) commit(replyId);
      return { stored };
    },

    pullObject: (request: PullObjectRequest) => {
      const found = store.get(request.objectId);
      if (!found.found)
        return { objectFound: false, objectAvailable: false, objectContent: Buffer.alloc(0) };
      if (!found.available)
        return { objectFound: true, objectAvailable: false, objectContent: Buffer.alloc(0) };
      const c = found.content;
      return {
        objectFound: true,
        objectAvailable: true,
        objectContent: Buffer.from(c.buffer, c.byteOffset, c.byteLength),
      };
    },

    confirmMessageReceived: (request: ConfirmMessageReceivedRequest) => {
      store.deleteMessage(request.messageObjectId);
      return {};
    },
  };

  function complete(replyId: string): boolean {
    try {
      const tree = store.getObjectTree(replyId);
      const stack = [tree];
      for (let t = stack.pop(); t; t = stack.pop()) {
        if (!store.get(t.objectId).available) return false;
        stack.push(...t.children);
      }
      return true;
    } catch {
      return false;
    }
  }

  function commit(replyId: string): void {
    const reply = pendingReplies.get(replyId);
    pendingReplies.delete(replyId);
    if (reply) state.storeReply(reply);
  }
}
