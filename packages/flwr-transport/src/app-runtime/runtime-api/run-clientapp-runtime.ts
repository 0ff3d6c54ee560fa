/**
 * The `flwr-clientapp` process against a Flower 1.42 Runtime API (a 1.42 SuperNode in
 * `--isolation process`), as 1.42's `flwr/supernode/runtime/run_clientapp.py` does it, with the
 * task token from the SuperExec on every call (`flwr-task-token`):
 *
 * 1. task heartbeats (`SendTaskHeartbeat`), at once and then every `heartbeatIntervalMs`;
 * 2. `PullTaskInput` → context, run, FAB (the SuperNode activates the task);
 * 3. `PullMessages` → the one instruction and its object tree; its objects with `PullObject`
 *    (`node` = the context's node, `run_id`), then `ConfirmMessageReceived` (1.42 confirms as
 *    soon as the message is inflated: `pull_and_inflate_object_from_tree`);
 * 4. install the FAB and load its TypeScript ClientApp (`../run-clientapp.ts` `loadApp`: the
 *    FAB's `package.json` `flwr` section), run `handle(message, context)`;
 * 5. `PushMessages` the reply (metadata and an empty content; exactly one message and its tree),
 *    then `PushObject` the ids the SuperNode asks for, with its `session_id`;
 * 6. `PushTaskOutput` with the context and `sub_status` `completed`, or `failed` with details —
 *    also when an earlier step failed (1.42's exit handler).
 *
 * Errors as 1.42: a ClientApp that throws gets Flower's error reply
 * (`CLIENT_APP_RAISED_EXCEPTION`, reason `<class 'Name'>:<'message'>`) and the task fails with
 * that reason; a ClientApp that cannot be loaded gets `LOAD_CLIENT_APP_EXCEPTION` with
 * "An exception was raised when attempting to load `ClientApp`".
 *
 * Not done (yet): runtime dependency installation (a TS FAB has none), warm reuse (1.42 has one
 * task per process), the task ids of 1.42's `Metadata` (flwr-ts's core `Metadata` has no
 * `src_task_id`/`dst_task_id`, so a reply does not swap them; the SuperNode/SuperLink route
 * ClientApp replies by `reply_to_message_id`), log upload (`PushLogs`), heartbeats from a worker
 * thread (a ClientApp that blocks its event loop for longer than the token's life loses it).
 */
import {
  type ClientApp,
  type Context,
  contextFromProto,
  contextToProto,
  ErrorCode,
  Message,
  MessageError,
} from "@flwr-ts/core";
import { Code } from "../../wire/code.js";
import { isServiceError } from "../../wire/rpc-error.js";
import { startAppHeartbeat } from "../app-heartbeat.js";
import { AppLoadError } from "../app-loader.js";
import { appLog } from "../app-log.js";
import { fuseRunConfig } from "../installed-app.js";
import { prepareOutgoing, pullMessage, pushWantedObjects } from "../object-transfer.js";
import { type LoadedApp, loadApp } from "../run-clientapp.js";
import {
  createRuntimeClient,
  type RuntimeClient,
  type RuntimeConnection,
} from "./runtime-client.js";

/** Flower's `SubStatus` values of a finished task. */
const COMPLETED = "completed";
const FAILED = "failed";
/** 1.42's default task failure details (`run_clientapp.py`). */
const UNKNOWN_FAILURE = "ClientApp task failed due to unknown reason";
/** 1.42's reason for a ClientApp that cannot be loaded. */
const LOAD_FAILURE = "An exception was raised when attempting to load `ClientApp`";

/** Options of {@link runClientAppRuntime}. */
export interface RunClientAppRuntimeOptions extends RuntimeConnection {
  /** The task token from the SuperExec (`--token`). */
  readonly token: string;
  /** Heartbeat period (ms, default 10 s; 1.42 sends about every 24 s). */
  readonly heartbeatIntervalMs?: number;
}

/** Retries a call while the Runtime API is unavailable (1.42's simple HTTP retry invoker). */
async function withRetry<T>(call: () => Promise<T>, tries = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= tries || !isServiceError(error) || error.code !== Code.UNAVAILABLE)
        throw error;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

/** The reason of a failure, Flower-style. */
function reasonOf(error: unknown): string {
  const name = error instanceof Error ? error.name : typeof error;
  const message = error instanceof Error ? error.message : String(error);
  return `<class '${name}'>:<'${message}'>`;
}

/**
 * Runs one ClientApp task; resolves with the exit status (0 when the task completed).
 */
export async function runClientAppRuntime(options: RunClientAppRuntimeOptions): Promise<number> {
  const client = createRuntimeClient(options, options.token);
  let context: Context | undefined;
  let subStatus = FAILED;
  let details = UNKNOWN_FAILURE;
  let status = 1;
  const heartbeat = startAppHeartbeat(
    async () => (await client.sendTaskHeartbeat({}, { timeoutMs: 5_000 })).success,
    {
      intervalMs: options.heartbeatIntervalMs ?? 10_000,
      onLost: () => appLog("WARNING", "flwr-clientapp: the SuperNode no longer knows this task"),
      onError: (e) => appLog("DEBUG", `flwr-clientapp: task heartbeat failed: ${String(e)}`),
    },
  );
  try {
    const inputs = await withRetry(() => client.pullTaskInput({}));
    if (!inputs.context || !inputs.run) throw new Error("PullTaskInput returned no context or run");
    context = contextFromProto(inputs.context);
    const message = await pullInstruction(client, context.runId, context.nodeId);
    let reply: Message;
    const loaded: LoadedApp | undefined = inputs.fab ? await loadApp(inputs.fab) : undefined;
    if (!loaded || loaded.app instanceof AppLoadError) {
      const why = loaded?.app instanceof AppLoadError ? loaded.app.message : "the run has no FAB";
      appLog("ERROR", `ClientApp raised an exception\n${why}`);
      reply = new Message(new MessageError(ErrorCode.LOAD_CLIENT_APP_EXCEPTION, LOAD_FAILURE), {
        replyTo: message,
      });
      details = LOAD_FAILURE;
    } else {
      if (loaded.config) context.runConfig = fuseRunConfig(loaded.config, context.runConfig);
      reply = await (loaded.app as ClientApp).handle(message, context);
      if (reply.hasError() && reply.error.code === ErrorCode.CLIENT_APP_RAISED_EXCEPTION) {
        details = reply.error.reason ?? UNKNOWN_FAILURE;
      } else {
        subStatus = COMPLETED;
        details = "";
        status = 0;
      }
    }
    try {
      await pushReply(client, reply, context);
    } catch (error) {
      appLog("ERROR", `Failed to push reply message: ${reasonOf(error)}`);
      status = 1;
    }
  } catch (error) {
    appLog(
      "ERROR",
      `flwr-clientapp: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    subStatus = FAILED;
    details = reasonOf(error);
    status = 1;
  } finally {
    heartbeat.stop();
    try {
      await client.pushTaskOutput({
        context: context ? contextToProto(context) : undefined,
        subStatus,
        details,
      });
    } catch (error) {
      appLog("ERROR", `Failed to push task output: ${reasonOf(error)}`);
    }
    client.close();
  }
  return status;
}

/** PullMessages, then the message's objects; confirms its reception. */
async function pullInstruction(
  client: RuntimeClient,
  runId: bigint,
  nodeId: bigint,
): Promise<Message> {
  const pulled = await withRetry(() => client.pullMessages({ messageIds: [] }));
  const tree = pulled.messageObjectTrees[0];
  if (!tree || pulled.messagesList.length === 0)
    throw new Error("No messages received from Runtime API");
  const node = { nodeId };
  return pullMessage(
    tree,
    async (objectId) => {
      const r = await withRetry(() => client.pullObject({ node, runId, objectId }));
      return { found: r.objectFound, available: r.objectAvailable, content: r.objectContent };
    },
    async (messageObjectId) => {
      await withRetry(() => client.confirmMessageReceived({ node, runId, messageObjectId }));
    },
  );
}

/** PushMessages with the reply's metadata and tree, then the objects the SuperNode wants. */
async function pushReply(client: RuntimeClient, reply: Message, context: Context): Promise<void> {
  const out = prepareOutgoing(reply);
  const res = await withRetry(() =>
    client.pushMessages({ messagesList: [out.proto], messageObjectTrees: [out.deflated.tree] }),
  );
  const node = { nodeId: context.nodeId };
  await pushWantedObjects([out], res.objectsToPush, async (objectId, content) => {
    const r = await withRetry(() =>
      client.pushObject({
        node,
        runId: context.runId,
        objectId,
        objectContent: Buffer.from(content.buffer, content.byteOffset, content.byteLength),
        sessionId: res.sessionId,
      }),
    );
    return r.stored;
  });
}
