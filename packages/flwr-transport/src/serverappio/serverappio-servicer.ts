/**
 * The ServerAppIo API (SuperExec and `flwr-serverapp` → SuperLink) with Flower 1.29's semantics
 * (`flwr.server.superlink.serverappio.serverappio_servicer`): token and run-status rules, the run
 * lifecycle pending → starting (RequestToken) → running (PullAppInputs) → finished
 * (UpdateRunStatus), instructions in, replies out, objects both ways.
 *
 * flwr-ts additions, invisible to Python clients:
 * - Long polls (`long-poll.ts`): ListAppsToLaunch and PullMessages may be held open.
 * - Staged instructions (`staged-instructions.ts`): an instruction reaches the SuperNodes once
 *   its objects are all stored, so they never wait for an object that is on its way.
 * - A ServerApp that pushes a message for another run gets INVALID_ARGUMENT, not a crash.
 */
import { deflateMessage, messageFromProto, type ObjectTree } from "@flwr-ts/core";
import {
  type ConfirmMessageReceivedRequest,
  type GetNodesRequest,
  type GetRunRequest,
  type ListAppsToLaunchResponse,
  type Message,
  type PullAppInputsRequest,
  type PullAppMessagesRequest,
  type PullAppMessagesResponse,
  type PullObjectRequest,
  type PushAppMessagesRequest,
  type PushAppOutputsRequest,
  type PushLogsRequest,
  type PushObjectRequest,
  type RequestTokenRequest,
  type SendAppHeartbeatRequest,
  type ServerAppIoDefinition,
  SimulationConfig,
  type UpdateRunStatusRequest,
} from "@flwr-ts/core/proto";
import { trace } from "../diagnostics/trace.js";
import {
  DEFAULT_INLINE_MAX_BYTES,
  inlinedIds,
  MAX_INLINED_PER_CALL,
  markInlined,
} from "../inline/inline-content.js";
import { inlinePullAnswer, inlinePushObjects, putInlineObjects } from "../inline/inline-server.js";
import {
  InvalidObjectIdError,
  NoObjectInStoreError,
  type ObjectStore,
  UnexpectedObjectContentError,
} from "../object-store/object-store.js";
import { requestedWait } from "../protocol/long-poll.js";
import type { Logger } from "../superlink/logger.js";
import {
  type LinkState,
  NodeStatus,
  RunStatusValue,
  SUPERLINK_NODE_ID,
} from "../superlink/state/link-state.js";
import { validateMessage } from "../superlink/state/message-rules.js";
import { waitForChange } from "../superlink/state/wait-for-change.js";
import type { CallContext, ServiceHandlers } from "../wire/call-context.js";
import { Code } from "../wire/code.js";
import { RpcError } from "../wire/rpc-error.js";
import { abortIf, NOT_RUNNING } from "./run-gate.js";
import { StagedInstructions } from "./staged-instructions.js";

/** Options of {@link createServerAppIoHandlers}. */
export interface ServerAppIoServicerOptions {
  /** SuperLink state. */
  state: LinkState;
  /** Object store of message contents. */
  store: ObjectStore;
  /** Log sink; default silent. */
  log?: Logger;
  /**
   * Largest message (object bytes) exchanged inline with flwr-ts ServerApps that ask for it
   * (`inline/inline-content.ts`); 0 turns the extension off. Default 1 MiB.
   */
  inlineMaxBytes?: number;
}

/** The handlers plus a `close()` that detaches them from the state. */
export interface ServerAppIoService {
  /** The rpc handlers. */
  readonly handlers: ServiceHandlers<typeof ServerAppIoDefinition>;
  /** Unsubscribes from state events. */
  close(): void;
}

/** How long a held-open pull that found replies waits for the rest of the wanted ones (ms). */
export const COALESCE_MS = 20;

function malformed(request: string, detail: string): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, `Malformed ${request}: ${detail}`);
}

/** Builds the ServerAppIo rpc handlers. */
export function createServerAppIoHandlers(options: ServerAppIoServicerOptions): ServerAppIoService {
  const { state, store } = options;
  const log = options.log ?? (() => {});
  const inlineMax = options.inlineMaxBytes ?? DEFAULT_INLINE_MAX_BYTES;
  const staged = new StagedInstructions();

  // A finished run (completed, failed, stopped) drops its staged instructions and objects.
  const unsubscribe = state.subscribe((event) => {
    if (event.type === "run" && event.status === RunStatusValue.FINISHED) {
      staged.dropRun(event.runId);
      store.deleteRun(event.runId);
    }
  });

  const verifyBodyToken = (token: string): bigint => {
    const runId = state.getRunIdByToken(token);
    if (runId === undefined || !state.verifyToken(runId, token))
      throw new RpcError(Code.PERMISSION_DENIED, "Invalid token.");
    return runId;
  };

  const pendingRunIds = (): bigint[] =>
    state.getRunInfo({ statuses: [RunStatusValue.PENDING] }).map((run) => run.runId);

  const storeInstruction = (message: Message): string => {
    const stored = state.storeMessageIns(message);
    trace("link.ins", { id: message.metadata?.messageId, dst: message.metadata?.dstNodeId });
    if (!stored.ok) {
      log("ERROR", `[ServerAppIo.PushMessages] Message not stored: ${stored.reason}`);
      return "";
    }
    return stored.messageId;
  };

  const pullOnce = (request: PullAppMessagesRequest, ctx: CallContext): PullAppMessagesResponse => {
    const ids = request.messageIds.filter((id) => !staged.has(id));
    const replies = ids.length > 0 ? state.getMessageRes(ids) : [];
    for (const reply of replies) {
      if (reply.metadata?.srcNodeId !== SUPERLINK_NODE_ID) continue;
      // A reply the SuperLink synthesized: its objects go to the store for the ServerApp to pull.
      const core = messageFromProto(reply);
      core.metadata.messageId = "";
      const deflated = deflateMessage(core);
      store.preregister(request.runId, deflated.tree);
      for (const [id, content] of deflated.objects) store.put(id, content);
    }
    state.deleteMessages(replies.map((r) => r.metadata?.replyToMessageId ?? ""));
    const entries: { message: Message; tree: ObjectTree }[] = [];
    for (const reply of replies) {
      const md = reply.metadata;
      if (md && md.srcNodeId !== SUPERLINK_NODE_ID && md.runId !== request.runId)
        throw malformed("PullMessages", "`message.metadata` has mismatched `run_id`");
      const id = md?.messageId ?? "";
      try {
        entries.push({ message: reply, tree: store.getObjectTree(id) });
      } catch (error) {
        if (!(error instanceof NoObjectInStoreError)) throw error;
        log("ERROR", error.message);
        state.deleteMessages([id]);
      }
    }
    const { messages, inlined } = inlinePullAnswer(ctx, inlineMax, store, entries);
    // Inlined replies are delivered with their content: no ConfirmMessageReceived follows.
    for (const id of inlined) store.deleteMessage(id);
    return { messagesList: messages, messageObjectTrees: entries.map((e) => e.tree) };
  };

  /**
   * A held-open pull that found some replies waits up to {@link COALESCE_MS} for the other
   * wanted ones (replies to one round's instructions arrive within milliseconds of each other),
   * so the Grid gets them in one answer instead of one pull each. Only for small requests, so the
   * answer's inline list stays small.
   */
  const coalesce = async (
    request: PullAppMessagesRequest,
    ctx: CallContext,
    first: PullAppMessagesResponse,
  ): Promise<PullAppMessagesResponse> => {
    if (request.messageIds.length > MAX_INLINED_PER_CALL) return first;
    const answered = (r: PullAppMessagesResponse) =>
      r.messagesList.map((m) => m.metadata?.replyToMessageId ?? "");
    const got = new Set(answered(first));
    const inlined = inlinedIds(ctx.responseMetadata);
    const until = Date.now() + COALESCE_MS;
    let rest = request.messageIds.filter((id) => !got.has(id));
    while (rest.length > 0 && !ctx.signal.aborted) {
      const left = until - Date.now();
      if (left <= 0) break;
      const waiting = new Set(rest);
      const outcome = await waitForChange(
        state,
        (e) => e.type === "message-res" && waiting.has(e.replyToMessageId),
        { timeoutMs: left, signal: ctx.signal },
      );
      if (outcome !== "event") break;
      const more = pullOnce({ ...request, messageIds: rest }, ctx);
      for (const id of inlinedIds(ctx.responseMetadata)) inlined.add(id);
      first.messagesList.push(...more.messagesList);
      first.messageObjectTrees.push(...more.messageObjectTrees);
      for (const id of answered(more)) got.add(id);
      rest = rest.filter((id) => !got.has(id));
    }
    markInlined(ctx.responseMetadata, [...inlined]);
    return first;
  };

  const handlers: ServiceHandlers<typeof ServerAppIoDefinition> = {
    listAppsToLaunch: async (_request, ctx: CallContext): Promise<ListAppsToLaunchResponse> => {
      const deadline = Date.now() + requestedWait(ctx);
      for (;;) {
        const runIds = pendingRunIds();
        const remaining = deadline - Date.now();
        if (runIds.length > 0 || remaining <= 0 || ctx.signal.aborted) return { runIds };
        const outcome = await waitForChange(
          state,
          (e) => e.type === "run" && e.status === RunStatusValue.PENDING,
          { timeoutMs: remaining, signal: ctx.signal },
        );
        if (outcome !== "event") return { runIds: pendingRunIds() };
      }
    },

    requestToken: (request: RequestTokenRequest) => {
      const token = state.createToken(request.runId);
      if (!token) return { token: "" };
      const moved = state.updateRunStatus(request.runId, {
        status: RunStatusValue.STARTING,
        subStatus: "",
        details: "",
      });
      if (!moved) {
        state.deleteToken(request.runId);
        log(
          "WARNING",
          `ServerAppIoServicer.RequestToken rolled back token for run ${request.runId}: failed to transition to STARTING.`,
        );
        return { token: "" };
      }
      return { token };
    },

    getRun: (request: GetRunRequest) => {
      const run = state.getRun(request.runId);
      return { run };
    },

    sendAppHeartbeat: (request: SendAppHeartbeatRequest) => ({
      success: state.acknowledgeAppHeartbeat(request.token),
    }),

    pullAppInputs: (request: PullAppInputsRequest) => {
      const runId = verifyBodyToken(request.token);
      const context = state.getServerAppContext(runId);
      const run = state.getRun(runId);
      const fab = run?.fabHash ? state.getFab(run.fabHash) : undefined;
      if (run && fab && context) {
        const moved = state.updateRunStatus(runId, {
          status: RunStatusValue.RUNNING,
          subStatus: "",
          details: "",
        });
        if (moved) {
          log("INFO", `Starting run ${runId}`);
          const federationConfig = state.getFederationConfig(runId);
          return {
            context,
            run: state.getRun(runId) ?? run,
            fab,
            federationConfig: federationConfig
              ? decodeSimulationConfig(federationConfig)
              : undefined,
          };
        }
      }
      throw new RpcError(Code.FAILED_PRECONDITION, `Failed to start run ${runId}`);
    },

    pushAppOutputs: (request: PushAppOutputsRequest) => {
      verifyBodyToken(request.token);
      abortIf(state, request.runId, NOT_RUNNING);
      if (request.context) state.setServerAppContext(request.runId, request.context);
      return {};
    },

    pushObject: (request: PushObjectRequest) => {
      abortIf(state, request.runId, NOT_RUNNING);
      if (request.node?.nodeId !== SUPERLINK_NODE_ID)
        throw new RpcError(Code.FAILED_PRECONDITION, "Unexpected node ID.");
      let stored = false;
      try {
        stored = store.put(request.objectId, request.objectContent);
      } catch (error) {
        if (error instanceof UnexpectedObjectContentError)
          throw new RpcError(Code.FAILED_PRECONDITION, error.message);
        throw error;
      }
      if (!stored) {
        log("ERROR", `[ServerAppIo.PushObject] Object ${request.objectId} not stored.`);
        return { stored };
      }
      for (const message of staged.objectStored(request.objectId)) storeInstruction(message);
      return { stored };
    },

    pullObject: (request: PullObjectRequest) => {
      abortIf(state, request.runId, NOT_RUNNING);
      if (request.node?.nodeId !== SUPERLINK_NODE_ID)
        throw new RpcError(Code.FAILED_PRECONDITION, "Unexpected node ID.");
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
      abortIf(state, request.runId, NOT_RUNNING);
      store.deleteMessage(request.messageObjectId);
      return {};
    },

    getFederationOptions: () => {
      throw new RpcError(Code.UNIMPLEMENTED, "GetFederationOptions is deprecated (To be removed).");
    },

    updateRunStatus: (request: UpdateRunStatusRequest) => {
      abortIf(state, request.runId, [RunStatusValue.FINISHED]);
      const next = request.runStatus ?? { status: "", subStatus: "", details: "" };
      if (!state.updateRunStatus(request.runId, next))
        log(
          "WARNING",
          `Run ${request.runId}: invalid status transition to ${next.status}:${next.subStatus}`,
        );
      if (next.status === RunStatusValue.FINISHED) {
        state.deleteToken(request.runId);
        staged.dropRun(request.runId);
        store.deleteRun(request.runId);
      }
      return {};
    },

    pushLogs: (request: PushLogsRequest) => {
      if (!state.getRun(request.runId))
        throw new RpcError(Code.NOT_FOUND, `Run ID not found: ${request.runId}`);
      const text = request.logs.join("");
      if (text) state.addServerAppLog(request.runId, text);
      return {};
    },

    pushMessages: (request: PushAppMessagesRequest, ctx: CallContext) => {
      abortIf(state, request.runId, NOT_RUNNING);
      if (request.messagesList.length === 0)
        throw malformed("PushMessages", "`messages_list` must not be empty");
      if (request.messagesList.length !== request.messageObjectTrees.length)
        throw malformed(
          "PushMessages",
          "`messages_list` and `message_object_trees` must have the same length",
        );
      const now = Date.now() / 1000;
      // Validate everything first so that a bad message leaves nothing registered.
      request.messagesList.forEach((message) => {
        const errors = validateMessage(message, false, now);
        if (errors.length > 0) throw malformed("PushMessages", errors.join(", "));
        if (message.metadata?.runId !== request.runId)
          throw malformed("PushMessages", "`Message.metadata` has mismatched `run_id`");
      });
      // flwr-ts inline content: rebuild and verify every inlined message before storing anything.
      const inlineObjects = request.messagesList.map((message, i) =>
        inlinePushObjects(
          ctx,
          inlineMax,
          message,
          request.messageObjectTrees[i],
          (detail) => malformed("PushMessages", detail).details,
        ),
      );
      const messageIds: string[] = [];
      const objectsToPush = new Set<string>();
      request.messagesList.forEach((pushed, i) => {
        const tree = request.messageObjectTrees[i]!;
        const objects = inlineObjects[i];
        // Stored as Flower stores it: metadata, the content as objects (never inline).
        const message = { ...pushed, content: pushed.content ? { items: [] } : undefined };
        let missing: string[];
        try {
          missing = store.preregister(request.runId, tree);
        } catch (error) {
          if (error instanceof InvalidObjectIdError) throw malformed("PushMessages", error.message);
          throw error;
        }
        missing = putInlineObjects(store, missing, objects);
        for (const id of missing) objectsToPush.add(id);
        const md = message.metadata!;
        if (tree.objectId !== md.messageId) {
          log(
            "ERROR",
            `[ServerAppIo.PushMessages] Tree root ${tree.objectId} is not message ${md.messageId}`,
          );
          messageIds.push("");
          return;
        }
        const dst = state.getNodeInfo({ nodeIds: [md.dstNodeId] })[0];
        if (!dst || (dst.status !== NodeStatus.ONLINE && dst.status !== NodeStatus.OFFLINE)) {
          log(
            "ERROR",
            `[ServerAppIo.PushMessages] Invalid destination node ID for Message: ${md.dstNodeId}`,
          );
          messageIds.push("");
          return;
        }
        if (staged.stage(message, request.runId, missing)) messageIds.push(md.messageId);
        else messageIds.push(storeInstruction(message));
      });
      return { messageIds, objectsToPush: [...objectsToPush] };
    },

    pullMessages: async (request: PullAppMessagesRequest, ctx: CallContext) => {
      abortIf(state, request.runId, NOT_RUNNING);
      const wanted = new Set(request.messageIds);
      const deadline = Date.now() + requestedWait(ctx);
      for (;;) {
        const response = pullOnce(request, ctx);
        const remaining = deadline - Date.now();
        if (response.messagesList.length > 0 && remaining > 0 && !ctx.signal.aborted)
          return coalesce(request, ctx, response);
        if (response.messagesList.length > 0 || remaining <= 0 || ctx.signal.aborted)
          return response;
        const outcome = await waitForChange(
          state,
          (e) =>
            (e.type === "message-res" && wanted.has(e.replyToMessageId)) ||
            (e.type === "run" && e.runId === request.runId) ||
            (e.type === "node" && e.status !== NodeStatus.ONLINE),
          { timeoutMs: Math.min(remaining, 5_000), signal: ctx.signal },
        );
        if (outcome === "aborted") return pullOnce(request, ctx);
        // Re-check the run: a stopped run ends the wait with PERMISSION_DENIED.
        abortIf(state, request.runId, NOT_RUNNING);
      }
    },

    getNodes: (request: GetNodesRequest) => {
      abortIf(state, request.runId, NOT_RUNNING);
      return { nodes: [...state.getNodes(request.runId)].map((nodeId) => ({ nodeId })) };
    },
  };
  return { handlers, close: unsubscribe };
}

function decodeSimulationConfig(bytes: Uint8Array): SimulationConfig {
  return SimulationConfig.decode(bytes);
}
