/**
 * The Fleet API (SuperNode → SuperLink) with Flower 1.29's semantics and status codes
 * (`flwr.server.superlink.fleet.grpc_rere.fleet_servicer` + `message_handler`).
 *
 * Differences from Flower, all compatible with Python SuperNodes:
 * - **Fast restart.** ActivateNode on a node that is still `online` succeeds (Flower answers
 *   FAILED_PRECONDITION "could not be activated" until `online_until` passes, ≈60 s). The auth
 *   middleware has proven that the caller holds the node's private key (the request's
 *   `public_key` must be the signing key, and the signed timestamp is fresh and unreplayed), so a
 *   crashed SuperNode restarting with its key is the node itself: it comes back at once. The old
 *   session ends: the instructions it pulled and did not answer get their NODE_UNAVAILABLE reply
 *   at once (LinkState `activateNode`). A second *live* SuperNode with the key is refused
 *   (FAILED_PRECONDITION, {@link anotherSuperNodeOnlineDetails}) while a connection of the
 *   current session is still open (`node-sessions.ts`).
 * - **Long-polling PullMessages (opt-in).** A client sending the metadata entry
 *   {@link PULL_WAIT_HEADER} (milliseconds, capped at {@link MAX_PULL_WAIT_MS}) has its
 *   PullMessages held open until an instruction for it arrives or the wait passes, then gets the
 *   usual (possibly empty) response. Clients that do not send it — Python SuperNodes, which poll
 *   every few seconds — are answered immediately, exactly as Flower does.
 * - **Inline content (opt-in).** flwr-ts SuperNodes announcing `flwr-ts-inline-max-bytes` get
 *   small instructions with their content inline and may push replies the same way
 *   (`inline/inline-content.ts`): no PullObject/PushObject/ConfirmMessageReceived for them.
 * - **Complete replies only.** A reply whose objects are still to be pushed is held back (see
 *   `staged-instructions.ts`) and handed to the LinkState when its last object is stored, so the
 *   ServerApp, woken at once, pulls every object on the first try. The PushMessages response is
 *   unchanged (`results` carries the message id, `objects_to_push` the ids to push).
 * - **Message source check.** PushMessages refuses a reply whose `src_node_id` is not the
 *   authenticated node (INVALID_ARGUMENT), so a node cannot answer for another.
 * - Unknown runs give PERMISSION_DENIED "Run ID not found: <id>" everywhere (Flower's GetRun/GetFab
 *   message; its other rpcs fail with a generic error), and an empty PushMessages gives
 *   INVALID_ARGUMENT instead of a crash.
 */
import type { ObjectTree } from "@flwr-ts/core";
import {
  type ActivateNodeRequest,
  type ConfirmMessageReceivedRequest,
  type DeactivateNodeRequest,
  type FleetDefinition,
  type GetFabRequest,
  type GetRunRequest,
  type Message,
  type PullMessagesRequest,
  PullMessagesRequest as PullMessagesRequestCodec,
  type PullMessagesResponse,
  PullMessagesResponse as PullMessagesResponseCodec,
  type PullObjectRequest,
  type PushMessagesRequest,
  PushMessagesRequest as PushMessagesRequestCodec,
  type PushMessagesResponse,
  PushMessagesResponse as PushMessagesResponseCodec,
  type PushObjectRequest,
  type RegisterNodeFleetRequest,
  type SendNodeHeartbeatRequest,
  type UnregisterNodeFleetRequest,
} from "@flwr-ts/core/proto";
import { trace } from "../../diagnostics/trace.js";
import { isPeerConnectionOpen } from "../../grpc/peer-connections.js";
import { DEFAULT_INLINE_MAX_BYTES } from "../../inline/inline-content.js";
import {
  inlinePullAnswer,
  inlinePushObjects,
  putInlineObjects,
} from "../../inline/inline-server.js";
import {
  InvalidObjectIdError,
  NoObjectInStoreError,
  type ObjectStore,
  UnexpectedObjectContentError,
} from "../../object-store/object-store.js";
import { requestedWait } from "../../protocol/long-poll.js";
import { anotherSuperNodeOnlineDetails } from "../../protocol/node-session-errors.js";
import { StagedInstructions } from "../../serverappio/staged-instructions.js";
import type { CallContext, ServiceHandlers } from "../../wire/call-context.js";
import { Code } from "../../wire/code.js";
import { ApiErrorCode } from "../../wire/http/api-errors.js";
import { RpcError } from "../../wire/rpc-error.js";
import { untrusted } from "../../wire/untrusted-text.js";
import {
  HEARTBEAT_MAX_INTERVAL,
  HEARTBEAT_MIN_INTERVAL,
  type LinkState,
  NOOP_ACCOUNT_NAME,
  NOOP_FLWR_AID,
  NodeStatus,
  PublicKeyInUseError,
  RunStatusValue,
  RunSubStatus,
} from "../state/link-state.js";
import { waitForChange } from "../state/wait-for-change.js";
import { NodeSessions, type PeerLiveness } from "./node-sessions.js";

export { MAX_PULL_WAIT_MS, PULL_WAIT_HEADER } from "../../protocol/flwr-ts-headers.js";

/** Flower's messages for self-(un)registration while SuperNode authentication is enabled. */
export const REGISTER_DISABLED_MESSAGE =
  "SuperNode authentication is enabled. All SuperNodes must be registered via the CLI.";
/** See {@link REGISTER_DISABLED_MESSAGE}. */
export const UNREGISTER_DISABLED_MESSAGE =
  "SuperNode authentication is enabled. All SuperNodes must be unregistered via the CLI.";
/** ActivateNode with a key no node has. */
export const NO_NODE_FOR_KEY_MESSAGE = "No SuperNode found with the given public key.";

/** Flower 1.42's API error codes of these failures on the HTTP wire. */
const RUN_STATUS = { apiErrorCode: ApiErrorCode.FLEET_RUN_STATUS_NOT_ALLOWED };
const ACTIVATION = { apiErrorCode: ApiErrorCode.FLEET_NODE_ACTIVATION_FAILED };
const GET_FAB = { apiErrorCode: ApiErrorCode.FLEET_GET_FAB_FAILED };

const STATUS_MESSAGES: Record<string, string> = {
  [RunStatusValue.PENDING]: "Run is pending.",
  [RunStatusValue.STARTING]: "Run is starting.",
  [RunStatusValue.RUNNING]: "Run is running.",
  [RunStatusValue.FINISHED]: "Run is finished.",
};

/** Options of {@link createFleetHandlers}. */
export interface FleetServicerOptions {
  /** SuperLink state. */
  state: LinkState;
  /** Object store of message contents. */
  store: ObjectStore;
  /** `--enable-supernode-auth`: nodes are registered only via the Control API. */
  enableSupernodeAuth: boolean;
  /** Reports events worth an INFO line (activations etc.); default silent. */
  log?: (level: "INFO" | "WARNING" | "ERROR" | "DEBUG", message: string) => void;
  /**
   * Largest message (object bytes) sent or accepted inline with flwr-ts SuperNodes that ask for
   * it (`inline/inline-content.ts`); 0 turns the extension off. Default 1 MiB.
   */
  inlineMaxBytes?: number;
  /**
   * Whether a caller's connection is still open, by `CallContext.peer` (default: the gRPC
   * servers' registry, `grpc/peer-connections.ts`); tells a restarted SuperNode from a second
   * live one (`node-sessions.ts`).
   */
  peerLiveness?: PeerLiveness;
}

function validateHeartbeatInterval(interval: number): void {
  if (!(interval >= HEARTBEAT_MIN_INTERVAL && interval <= HEARTBEAT_MAX_INTERVAL))
    throw new RpcError(Code.INVALID_ARGUMENT, "Invalid heartbeat interval", {
      apiErrorCode: ApiErrorCode.FLEET_INVALID_HEARTBEAT_INTERVAL,
    });
}

/** Builds the Fleet rpc handlers. */
export function createFleetHandlers(
  options: FleetServicerOptions,
): ServiceHandlers<typeof FleetDefinition> {
  const { state, store, enableSupernodeAuth } = options;
  const inlineMax = options.inlineMaxBytes ?? DEFAULT_INLINE_MAX_BYTES;
  const log = options.log ?? (() => {});
  const stagedReplies = new StagedInstructions();
  const sessions = new NodeSessions(options.peerLiveness ?? isPeerConnectionOpen);

  const storeReply = (message: Message): boolean => {
    const stored = state.storeMessageRes(message);
    trace("link.res", { id: message.metadata?.messageId, to: message.metadata?.replyToMessageId });
    if (!stored.ok) log("ERROR", `[Fleet.PushMessages] Reply not stored: ${stored.reason}`);
    return stored.ok;
  };

  /** Forgets staged replies of runs that are no longer running (their objects will not come). */
  const sweepStagedReplies = (): void => {
    const runIds = stagedReplies.runIds();
    if (runIds.length === 0) return;
    const statuses = state.getRunStatus(runIds);
    for (const runId of runIds)
      if (statuses.get(runId)?.status !== RunStatusValue.RUNNING) stagedReplies.dropRun(runId);
  };

  /** Flower's `check_abort` for Fleet rpcs: the run must be running. */
  const requireRunning = (runId: bigint): void => {
    const runStatus = state.getRunStatus([runId]).get(runId);
    if (!runStatus)
      throw new RpcError(Code.PERMISSION_DENIED, `Run ID not found: ${runId}`, RUN_STATUS);
    if (runStatus.status !== RunStatusValue.RUNNING) {
      let message = STATUS_MESSAGES[runStatus.status] ?? `Run is ${runStatus.status}.`;
      if (runStatus.subStatus === RunSubStatus.STOPPED) message += " Stopped by user.";
      throw new RpcError(Code.PERMISSION_DENIED, message, RUN_STATUS);
    }
  };

  const recordTraffic = (runId: bigint, bytesSent: number, bytesRecv: number): void => {
    if (bytesSent === 0 && bytesRecv === 0) return;
    try {
      state.storeTraffic(runId, { bytesSent, bytesRecv });
    } catch (error) {
      log("ERROR", `Could not record traffic of run ${runId}: ${String(error)}`);
    }
  };

  const pullOnce = (request: PullMessagesRequest, ctx: CallContext): PullMessagesResponse => {
    const nodeId = request.node?.nodeId ?? 0n;
    const entries: { message: Message; tree: ObjectTree }[] = [];
    let runId: bigint | undefined;
    for (const message of state.getMessageIns(nodeId, 1)) {
      const id = message.metadata?.messageId ?? "";
      try {
        entries.push({ message, tree: store.getObjectTree(id) });
        runId = message.metadata?.runId;
      } catch (error) {
        if (!(error instanceof NoObjectInStoreError)) throw error;
        log("ERROR", error.message);
        state.deleteMessages([id]);
      }
    }
    const { messages, inlined } = inlinePullAnswer(ctx, inlineMax, store, entries);
    // An inlined message is delivered with its content: it needs no ConfirmMessageReceived.
    for (const id of inlined) store.deleteMessage(id);
    const response: PullMessagesResponse = {
      reconnect: undefined,
      messagesList: messages,
      messageObjectTrees: entries.map((e) => e.tree),
    };
    if (runId !== undefined) {
      recordTraffic(
        runId,
        PullMessagesResponseCodec.encode(response).finish().length,
        PullMessagesRequestCodec.encode(request).finish().length,
      );
    }
    return response;
  };

  return {
    registerNode: (request: RegisterNodeFleetRequest) => {
      if (enableSupernodeAuth) {
        log("ERROR", "SuperNode registration is disabled through Fleet API.");
        throw new RpcError(Code.FAILED_PRECONDITION, REGISTER_DISABLED_MESSAGE, {
          apiErrorCode: ApiErrorCode.FLEET_SUPERNODE_REGISTRATION_DISABLED,
        });
      }
      try {
        const nodeId = state.createNode(NOOP_FLWR_AID, NOOP_ACCOUNT_NAME, request.publicKey, 0);
        log("DEBUG", `[Fleet.RegisterNode] Registered node_id=${nodeId}`);
        return { nodeId };
      } catch (error) {
        if (error instanceof PublicKeyInUseError)
          throw new RpcError(Code.FAILED_PRECONDITION, error.message, {
            apiErrorCode: ApiErrorCode.PUBLIC_KEY_ALREADY_IN_USE,
          });
        throw error;
      }
    },

    activateNode: (request: ActivateNodeRequest, ctx: CallContext) => {
      const nodeId = state.getNodeIdByPublicKey(request.publicKey);
      if (nodeId === undefined) {
        log("ERROR", `[Fleet.ActivateNode] Activation failed: ${NO_NODE_FOR_KEY_MESSAGE}`);
        throw new RpcError(Code.FAILED_PRECONDITION, NO_NODE_FOR_KEY_MESSAGE, ACTIVATION);
      }
      validateHeartbeatInterval(request.heartbeatInterval);
      // A second live SuperNode with this key: the online node's session still has an open
      // connection that is not the caller's (a crashed one's connection is closed).
      if (state.getNodeInfo({ nodeIds: [nodeId] })[0]?.status === NodeStatus.ONLINE) {
        const other = sessions.liveOtherPeer(nodeId, ctx.peer);
        if (other !== undefined) {
          const details = anotherSuperNodeOnlineDetails(nodeId);
          log(
            "WARNING",
            `[Fleet.ActivateNode] Refused ${untrusted(ctx.peer)}: ${details} (its session is on ${untrusted(other)})`,
          );
          throw new RpcError(Code.FAILED_PRECONDITION, details, ACTIVATION);
        }
      }
      // Fast restart: the middleware proved the caller signs with this very key.
      if (!state.activateNode(nodeId, request.heartbeatInterval, { reactivate: true }))
        throw new RpcError(
          Code.FAILED_PRECONDITION,
          `SuperNode with node ID ${nodeId} could not be activated.`,
          ACTIVATION,
        );
      sessions.activated(nodeId, ctx.peer);
      log("INFO", `[Fleet.ActivateNode] Activated node_id=${nodeId}`);
      return { nodeId };
    },

    deactivateNode: (request: DeactivateNodeRequest) => {
      if (!state.deactivateNode(request.nodeId))
        throw new RpcError(
          Code.FAILED_PRECONDITION,
          `SuperNode with node ID ${request.nodeId} could not be deactivated.`,
          { apiErrorCode: ApiErrorCode.FLEET_NODE_DEACTIVATION_FAILED },
        );
      sessions.ended(request.nodeId);
      log("INFO", `[Fleet.DeactivateNode] Deactivated node_id=${request.nodeId}`);
      return {};
    },

    unregisterNode: (request: UnregisterNodeFleetRequest) => {
      if (enableSupernodeAuth) {
        log("ERROR", "SuperNode unregistration is disabled through Fleet API.");
        throw new RpcError(Code.FAILED_PRECONDITION, UNREGISTER_DISABLED_MESSAGE, {
          apiErrorCode: ApiErrorCode.FLEET_SUPERNODE_UNREGISTRATION_DISABLED,
        });
      }
      try {
        state.deleteNode(NOOP_FLWR_AID, request.nodeId);
      } catch (error) {
        throw new RpcError(
          Code.FAILED_PRECONDITION,
          error instanceof Error ? error.message : String(error),
          { apiErrorCode: ApiErrorCode.FLEET_NODE_UNREGISTRATION_FAILED },
        );
      }
      return {};
    },

    sendNodeHeartbeat: (request: SendNodeHeartbeatRequest, ctx: CallContext) => {
      validateHeartbeatInterval(request.heartbeatInterval);
      const nodeId = request.node?.nodeId ?? 0n;
      const success = state.acknowledgeNodeHeartbeat(nodeId, request.heartbeatInterval);
      if (success) sessions.seen(nodeId, ctx.peer);
      return { success };
    },

    pullMessages: async (request: PullMessagesRequest, ctx: CallContext) => {
      const nodeId = request.node?.nodeId ?? 0n;
      sessions.seen(nodeId, ctx.peer, { create: false });
      const waitMs = requestedWait(ctx);
      const deadline = Date.now() + waitMs;
      for (;;) {
        const response = pullOnce(request, ctx);
        const remaining = deadline - Date.now();
        if (response.messagesList.length > 0 || remaining <= 0 || ctx.signal.aborted)
          return response;
        const outcome = await waitForChange(
          state,
          (e) => e.type === "message-ins" && e.dstNodeId === nodeId,
          { timeoutMs: remaining, signal: ctx.signal },
        );
        if (outcome !== "event") return pullOnce(request, ctx);
      }
    },

    pushMessages: (request: PushMessagesRequest, ctx: CallContext) => {
      const message = request.messagesList[0];
      if (!message?.metadata)
        throw new RpcError(Code.INVALID_ARGUMENT, "PushMessages needs one message with metadata.");
      const nodeId = request.node?.nodeId ?? 0n;
      if (message.metadata.srcNodeId !== nodeId)
        throw new RpcError(
          Code.INVALID_ARGUMENT,
          `Message source node ID ${message.metadata.srcNodeId} is not the requesting node ${nodeId}.`,
        );
      const runId = message.metadata.runId;
      requireRunning(runId);
      // flwr-ts inline content: the objects are rebuilt from it and verified against the tree.
      const inlineObjects = inlinePushObjects(
        ctx,
        inlineMax,
        message,
        request.messageObjectTrees[0],
      );
      // Stored as Flower stores it: metadata, the content as objects (never inline).
      const stored: Message = { ...message, content: message.content ? { items: [] } : undefined };
      let objectsToPush: Set<string>;
      try {
        const missing = new Set<string>();
        for (const tree of request.messageObjectTrees)
          for (const id of store.preregister(runId, tree)) missing.add(id);
        objectsToPush = new Set(putInlineObjects(store, [...missing], inlineObjects));
      } catch (error) {
        if (error instanceof InvalidObjectIdError)
          throw new RpcError(Code.INVALID_ARGUMENT, error.message);
        throw error;
      }
      sweepStagedReplies();
      let resultId: string;
      if (stagedReplies.stage(stored, runId, objectsToPush)) {
        resultId = message.metadata.messageId;
      } else {
        resultId = storeReply(stored) ? message.metadata.messageId : "None";
      }
      const response: PushMessagesResponse = {
        reconnect: { reconnect: 5n },
        results: new Map([[resultId, 0]]),
        objectsToPush: [...objectsToPush],
        sessionId: "",
      };
      recordTraffic(
        runId,
        PushMessagesResponseCodec.encode(response).finish().length,
        PushMessagesRequestCodec.encode(request).finish().length,
      );
      const runtime = request.clientappRuntimeList[0];
      if (runtime !== undefined) state.addClientappRuntime(runId, runtime);
      return response;
    },

    getRun: (request: GetRunRequest) => {
      const run = state.getRun(request.runId);
      if (!run)
        throw new RpcError(Code.PERMISSION_DENIED, `Run ID not found: ${request.runId}`, {
          apiErrorCode: ApiErrorCode.FLEET_GET_RUN_FAILED,
        });
      requireRunning(request.runId);
      // Flower 1.31+ SuperNodes keep a run's Context under its series id: one series per run.
      return { run: run.seriesId === 0n ? { ...run, seriesId: run.runId } : run };
    },

    getFab: (request: GetFabRequest) => {
      const run = state.getRun(request.runId);
      if (!run)
        throw new RpcError(Code.PERMISSION_DENIED, `Run ID not found: ${request.runId}`, GET_FAB);
      requireRunning(request.runId);
      if (request.hashStr !== run.fabHash)
        throw new RpcError(
          Code.PERMISSION_DENIED,
          `Requested FAB hash ${untrusted(request.hashStr)} does not match run FAB hash ${run.fabHash}.`,
          GET_FAB,
        );
      const fab = state.getFab(request.hashStr);
      if (!fab)
        throw new RpcError(
          Code.PERMISSION_DENIED,
          `Found no FAB with hash: ${untrusted(request.hashStr)}`,
          GET_FAB,
        );
      return { fab };
    },

    pushObject: (request: PushObjectRequest) => {
      requireRunning(request.runId);
      let stored: boolean;
      try {
        stored = store.put(request.objectId, request.objectContent);
      } catch (error) {
        if (error instanceof UnexpectedObjectContentError)
          throw new RpcError(Code.FAILED_PRECONDITION, error.message);
        throw error;
      }
      if (stored) {
        recordTraffic(request.runId, 0, request.objectContent.length);
        for (const reply of stagedReplies.objectStored(request.objectId)) storeReply(reply);
      } else log("ERROR", `[Fleet.PushObject] Object ${request.objectId} not stored.`);
      return { stored };
    },

    pullObject: (request: PullObjectRequest) => {
      requireRunning(request.runId);
      const found = store.get(request.objectId);
      if (!found.found)
        return { objectFound: false, objectAvailable: false, objectContent: Buffer.alloc(0) };
      if (!found.available)
        return { objectFound: true, objectAvailable: false, objectContent: Buffer.alloc(0) };
      recordTraffic(request.runId, found.content.length, 0);
      return {
        objectFound: true,
        objectAvailable: true,
        objectContent: Buffer.from(
          found.content.buffer,
          found.content.byteOffset,
          found.content.byteLength,
        ),
      };
    },

    confirmMessageReceived: (request: ConfirmMessageReceivedRequest) => {
      requireRunning(request.runId);
      store.deleteMessage(request.messageObjectId);
      return {};
    },
  };
}
