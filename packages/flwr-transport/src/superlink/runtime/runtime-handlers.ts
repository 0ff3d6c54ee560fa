/**
 * The SuperLink's Runtime API handlers (Flower 1.42's `flwr/superlink/servicer/runtime/` and
 * `flwr/supercore/servicer/runtime/runtime_handlers.py`), written over LinkState/ObjectStore and
 * independent of the wire: what a Python 1.42 `flower-superexec --plugin-type serverapp` and
 * its `flwr-serverapp` call. Every handler but AcquireTask runs for the task that
 * `runtime-auth-middleware.ts` authenticated; the run is always the task's, never one named in
 * the request.
 *
 * Message routing is Flower 1.29's ServerAppIo path, reused rather than copied: PushMessages,
 * PullMessages, PushObject, PullObject and ConfirmMessageReceived call the ServerAppIo handlers
 * (`serverappio/serverappio-servicer.ts`) for the task's run, so instructions reach SuperNodes
 * of both wires and Flower generations through the same LinkState, staged until their objects
 * are stored, and replies come back the same way.
 *
 * Differences from 1.42, on purpose: PushMessages' `session_id` is a fresh id per push but
 * PushObject does not check it (flwr-ts's ObjectStore accepts any object registered for the
 * run, as 1.29 does); an empty or uneven PushMessages is 400 {3013} where 1.42's SuperLink
 * answers 500.
 */
import { randomBytes } from "node:crypto";
import { SimulationConfig } from "@flwr-ts/core/proto";
import type { ObjectStore } from "../../object-store/object-store.js";
import { taskOfCall } from "../../protocol/runtime/runtime-auth-middleware.js";
import {
  invalidMessageCount,
  taskStartFailed,
  unexpectedNodeId,
} from "../../protocol/runtime/runtime-errors.js";
import { createServerAppIoHandlers } from "../../serverappio/serverappio-servicer.js";
import type { CallContext, ServiceHandlers } from "../../wire/call-context.js";
import type { Logger } from "../logger.js";
import { type LinkState, SUPERLINK_NODE_ID } from "../state/link-state.js";
import { PrimaryTaskType } from "../state/task-records.js";
import type { SuperLinkRuntimeDefinition } from "./runtime-server-definition.js";

/** Options of {@link createRuntimeHandlers}. */
export interface RuntimeHandlersOptions {
  /** SuperLink state. */
  state: LinkState;
  /** Object store of message contents. */
  store: ObjectStore;
  /** Log sink; default silent. */
  log?: Logger;
}

/** The handlers plus a `close()` that detaches them from the state. */
export interface RuntimeService {
  /** The rpc handlers. */
  readonly handlers: ServiceHandlers<SuperLinkRuntimeDefinition>;
  /** Unsubscribes from state events. */
  close(): void;
}

/** Task types a SuperLink hands out (`flwr-serverapp`; simulations and AgentApps are not served). */
const ACQUIRABLE_TYPES = new Set<string>([PrimaryTaskType.SERVER_APP]);

/** Builds the Runtime API handlers of a SuperLink. */
export function createRuntimeHandlers(options: RuntimeHandlersOptions): RuntimeService {
  const { state } = options;
  const log = options.log ?? (() => {});
  // One ServerAppIo handler set of its own: its staged instructions belong to this API's pushes.
  // Python clients never send the flwr-ts extension headers, so no long poll and no inlining.
  const appIo = createServerAppIoHandlers({ ...options, inlineMaxBytes: 0 });
  const io = appIo.handlers;
  const runOf = (ctx: CallContext) => taskOfCall(ctx).task.runId;
  const superLinkNode = (node: { nodeId: bigint } | undefined) => {
    if (node?.nodeId !== SUPERLINK_NODE_ID) throw unexpectedNodeId();
  };

  const handlers: ServiceHandlers<SuperLinkRuntimeDefinition> = {
    acquireTask: (request) => {
      const types = request.supportedTaskTypes.filter((t) => ACQUIRABLE_TYPES.has(t));
      const claimed = state.claimTask(types);
      if (!claimed) return { task: undefined, token: "" };
      log(
        "INFO",
        `Task ${claimed.task.taskId} (${claimed.task.type}) of run ${claimed.task.runId} acquired`,
      );
      return claimed;
    },

    sendTaskHeartbeat: (_request, ctx) => ({
      success: state.acknowledgeAppHeartbeat(taskOfCall(ctx).token),
    }),

    pullTaskInput: (_request, ctx) => {
      const { task } = taskOfCall(ctx);
      const run = state.getRun(task.runId);
      const fab = run?.fabHash ? state.getFab(run.fabHash) : undefined;
      const context = state.getServerAppContext(task.runId);
      if (!run || !fab || !context || !state.activateTask(task.taskId)) {
        log(
          "ERROR",
          `Failed to start task ${task.taskId} of run ${task.runId} (run ${run ? run.status?.status : "unknown"}, FAB ${fab ? "found" : "missing"}, context ${context ? "found" : "missing"})`,
        );
        throw taskStartFailed();
      }
      log("INFO", `Started task ${task.taskId} of run ${task.runId}`);
      const federationConfig = state.getFederationConfig(task.runId);
      return {
        context,
        run: state.getRun(task.runId) ?? run,
        fab,
        federationConfig: federationConfig ? SimulationConfig.decode(federationConfig) : undefined,
        taskId: task.taskId,
      };
    },

    pushTaskOutput: (request, ctx) => {
      const { task } = taskOfCall(ctx);
      if (request.clientappRuntime !== undefined && Number.isFinite(request.clientappRuntime))
        state.addClientappRuntime(task.runId, request.clientappRuntime);
      if (state.finishTask(task.taskId, request.subStatus, request.details)) {
        log(
          "INFO",
          `Finished task ${task.taskId} of run ${task.runId} (${request.subStatus}${request.details ? `: ${request.details}` : ""})`,
        );
        if (request.context) state.setServerAppContext(task.runId, request.context);
      } else {
        log(
          "ERROR",
          `Failed to finish task ${task.taskId} of run ${task.runId} with sub-status '${request.subStatus}'`,
        );
      }
      return {};
    },

    pushObject: (request, ctx) => {
      superLinkNode(request.node);
      return io.pushObject({ ...request, runId: runOf(ctx) }, ctx);
    },

    pullObject: (request, ctx) => {
      superLinkNode(request.node);
      return io.pullObject({ ...request, runId: runOf(ctx) }, ctx);
    },

    confirmMessageReceived: (request, ctx) =>
      io.confirmMessageReceived({ ...request, runId: runOf(ctx) }, ctx),

    pushMessages: async (request, ctx) => {
      if (
        request.messagesList.length === 0 ||
        request.messagesList.length !== request.messageObjectTrees.length
      )
        throw invalidMessageCount();
      const pushed = await io.pushMessages(
        {
          token: "",
          runId: runOf(ctx),
          messagesList: request.messagesList,
          messageObjectTrees: request.messageObjectTrees,
        },
        ctx,
      );
      return { ...pushed, sessionId: randomBytes(16).toString("hex") };
    },

    pullMessages: (request, ctx) =>
      io.pullMessages({ token: "", runId: runOf(ctx), messageIds: request.messageIds }, ctx),

    pushLogs: (request, ctx) => {
      const text = request.logs.join("");
      if (text) state.addServerAppLog(runOf(ctx), text);
      return {};
    },

    getNodes: (_request, ctx) => {
      const nodeIds = [...state.getNodes(runOf(ctx))];
      return { nodes: nodeIds.length > 0 ? state.getNodeInfo({ nodeIds }) : [] };
    },
  };
  return { handlers, close: appIo.close };
}
