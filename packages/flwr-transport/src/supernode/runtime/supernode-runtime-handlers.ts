/**
 * The SuperNode's Runtime API handlers (Flower 1.42's `flwr/supernode/servicer/runtime/
 * runtime_handlers.py`), over the {@link NodeState} and independent of the wire: what a Python
 * 1.42 `flower-superexec` and its `flwr-clientapp` call on a SuperNode. Every handler but
 * AcquireTask runs for the task `runtime-auth-middleware.ts` authenticated; the run is always the
 * task's.
 *
 * The message path is 1.29's ClientAppIo one, reused rather than copied: PushMessages,
 * PushObject, PullObject and ConfirmMessageReceived call the ClientAppIo handlers
 * (`clientappio/clientappio-servicer.ts`) with the task's token (which is the run's app token),
 * so the reply reaches the SuperNode's message executor exactly as a ClientAppIo reply does:
 * once all its objects are stored.
 *
 * Differences from 1.42: PushMessages' `session_id` is a fresh id per push but PushObject does
 * not check it (as on the flwr-ts SuperLink); PushLogs text is kept with the task and written to
 * the SuperNode's log at DEBUG (1.42 keeps it in its NodeState).
 */
import { randomBytes } from "node:crypto";
import { createClientAppIoHandlers } from "../../clientappio/clientappio-servicer.js";
import { taskOfCall } from "../../protocol/runtime/runtime-auth-middleware.js";
import type { RuntimeDefinition } from "../../protocol/runtime/runtime-definition.js";
import {
  contextNotFound,
  endpointUnavailable,
  fabNotFound,
  invalidMessageCount,
  messageRunIdMismatch,
  runIdNotFound,
  taskStartFailed,
} from "../../protocol/runtime/runtime-errors.js";
import type { ServiceHandlers } from "../../wire/call-context.js";
import type { LogLevel } from "../log.js";
import type { NodeTasks } from "./node-tasks.js";

/** Options of {@link createSuperNodeRuntimeHandlers}. */
export interface SuperNodeRuntimeHandlersOptions {
  /** The task table over the SuperNode's state. */
  tasks: NodeTasks;
  /** Log sink; default silent. */
  log?: (level: LogLevel, message: string) => void;
}

/** Builds the Runtime API handlers of a SuperNode. */
export function createSuperNodeRuntimeHandlers(
  options: SuperNodeRuntimeHandlersOptions,
): ServiceHandlers<RuntimeDefinition> {
  const { tasks } = options;
  const { state } = tasks;
  const log = options.log ?? (() => {});
  // A ClientAppIo handler set of its own (its pending replies are this API's pushes). Python
  // clients never send the flwr-ts extension headers: no inline content.
  const io = createClientAppIoHandlers(state, { inlineMaxBytes: 0 });

  return {
    acquireTask: (request) => {
      const claimed = tasks.claim(request.supportedTaskTypes);
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
      const { task, token } = taskOfCall(ctx);
      const run = state.getRun(task.runId);
      if (!run) throw runIdNotFound();
      const context = state.getContext(task.runId);
      if (!context) throw contextNotFound();
      const fab = state.getFab(run.fabHash);
      if (!fab) throw fabNotFound();
      if (!tasks.activate(token)) {
        log("ERROR", `Failed to start task ${task.taskId} of run ${task.runId}`);
        throw taskStartFailed();
      }
      return { context, run, fab, federationConfig: undefined, taskId: task.taskId };
    },

    pushTaskOutput: (request, ctx) => {
      const { task, token } = taskOfCall(ctx);
      // The context is read before the token goes (finishing deletes it).
      if (tasks.finish(token, request.subStatus, request.details)) {
        log(
          "INFO",
          `Finished task ${task.taskId} of run ${task.runId} (${request.subStatus}${request.details ? `: ${request.details}` : ""})`,
        );
        if (request.context) state.storeContext({ ...request.context, runId: task.runId });
      } else {
        log("ERROR", `Failed to finish task ${task.taskId} of run ${task.runId}`);
      }
      return {};
    },

    pullMessages: (_request, ctx) => {
      const { task } = taskOfCall(ctx);
      const message = state.takeInstruction(task.runId);
      if (!message) return { messagesList: [], messageObjectTrees: [] };
      const tree = state.store.getObjectTree(message.metadata!.messageId);
      return { messagesList: [message], messageObjectTrees: [tree] };
    },

    pushMessages: async (request, ctx) => {
      const { task, token } = taskOfCall(ctx);
      const message = request.messagesList[0];
      const tree = request.messageObjectTrees[0];
      if (
        request.messagesList.length !== 1 ||
        request.messageObjectTrees.length !== 1 ||
        !message ||
        !tree
      )
        throw invalidMessageCount();
      if (message.metadata?.runId !== task.runId) throw messageRunIdMismatch();
      const pushed = await io.pushMessage(
        { token, runId: task.runId, messagesList: [message], messageObjectTrees: [tree] },
        ctx,
      );
      return {
        messageIds: [message.metadata.messageId || tree.objectId],
        objectsToPush: pushed.objectsToPush,
        sessionId: randomBytes(16).toString("hex"),
      };
    },

    pushObject: (request, ctx) => {
      taskOfCall(ctx);
      return io.pushObject(request, ctx);
    },

    pullObject: (request, ctx) => {
      taskOfCall(ctx);
      return io.pullObject(request, ctx);
    },

    confirmMessageReceived: (request, ctx) => {
      taskOfCall(ctx);
      return io.confirmMessageReceived(request, ctx);
    },

    pushLogs: (request, ctx) => {
      const { task, token } = taskOfCall(ctx);
      const text = request.logs.join("");
      tasks.addLogs(token, text);
      if (text) log("DEBUG", `[task ${task.taskId}] ${text.trimEnd()}`);
      return {};
    },

    getNodes: (_request, ctx) => {
      taskOfCall(ctx);
      throw endpointUnavailable();
    },
  };
}
