/**
 * Hands a SuperNode's received instruction to the ClientAppIo side and waits for the reply
 * (Python Flower's `_pull_and_store_message` + `_push_messages` around the NodeState):
 *
 * 1. First message of a run: GetRun and GetFab over Fleet, check the FAB hash, store run, FAB and
 *    a fresh context (node id, `--node-config`, empty state, the run config).
 * 2. Store the instruction and its objects in the {@link NodeState}; a SuperExec (or a warm
 *    `flwr-clientapp`) is woken by it, runs the ClientApp and pushes the reply.
 * 3. Resolve with the reply (its objects read from the node's store) as soon as it is complete,
 *    or with CLIENT_APP_CRASHED when the ClientApp's token expires without a reply; reject with
 *    {@link RunStoppedError} when the run finishes meanwhile (`flwr stop`, `run-stop-watch.ts`).
 */
import { createHash } from "node:crypto";
import {
  type DeflatedMessage,
  deflateMessage,
  ErrorCode,
  Message,
  MessageError,
  messageFromProto,
  metadataToProto,
  type ObjectTree,
  type UserConfig,
  userConfigToProto,
} from "@flwr-ts/core";
import type { Fab, Message as ProtoMessage, Run } from "@flwr-ts/core/proto";
import { objectTreeIds } from "../app-runtime/object-transfer.js";
import type { NodeState } from "../supernode/node-state.js";
import { classifyRpcError, rpcErrorDetails } from "../supernode/rpc-retry.js";
import { RunStoppedError, watchRunFinished } from "./run-stop-watch.js";

/** An instruction's objects as the SuperNode pulled and verified them. */
export interface ReceivedObjects {
  /** The instruction's object tree (root id = message id). */
  readonly tree: ObjectTree;
  /** Object id → verified bytes (not mutated afterwards). */
  readonly objects: ReadonlyMap<string, Uint8Array>;
}

/** What the executor needs from the SuperNode. */
export interface ExecutionEnvironment {
  /** This node's id. */
  readonly nodeId: bigint;
  /** `--node-config`. */
  readonly nodeConfig: UserConfig;
  /** Fleet GetRun (with the SuperNode's retries). */
  getRun(runId: bigint): Promise<Run | undefined>;
  /** Fleet GetFab. */
  getFab(runId: bigint, hash: string): Promise<Fab | undefined>;
  /** Aborted on shutdown. */
  readonly signal: AbortSignal;
  /**
   * The instruction's objects as received: stored as they are instead of deflating the
   * instruction again (which would re-serialize and re-hash every byte of its arrays).
   */
  readonly received?: ReceivedObjects | undefined;
}

/** A reply ready to push over Fleet (same shape as the SuperNode's `PreparedReply`). */
export interface ExecutedReply {
  /** The reply; content-less (its content travels as objects); `messageId` set. */
  readonly message: Message;
  /** Its tree and object bytes. */
  readonly deflated: DeflatedMessage;
}

/** Runs one instruction and resolves with its reply. */
export type MessageExecutor = (
  instruction: Message,
  env: ExecutionEnvironment,
) => Promise<ExecutedReply>;

/** Computes a run's config for the ClientApp context from its FAB (defaults + overrides). */
export type RunConfigResolver = (fab: Fab, run: Run) => UserConfig;

/** Thrown when the executor is aborted (shutdown). */
export class ExecutionAbortedError extends Error {
  constructor() {
    super("message execution aborted");
    this.name = "ExecutionAbortedError";
  }
}

function errorReply(instruction: Message, code: bigint, reason: string): ExecutedReply {
  const reply = new Message(new MessageError(code, reason), { replyTo: instruction });
  const deflated = deflateMessage(reply);
  reply.metadata.messageId = deflated.messageId;
  return { message: reply, deflated };
}

/**
 * Creates the executor over `state`.
 * @param resolveRunConfig - run config of a new run (default: the run's overrides only; the
 *   flwr-ts ClientApp process fuses the FAB's defaults itself).
 */
export function createMessageExecutor(
  state: NodeState,
  resolveRunConfig?: RunConfigResolver,
): MessageExecutor {
  return async (instruction, env) => {
    const md = instruction.metadata;
    const runId = md.runId;
    if (!state.getRun(runId)) {
      const run = await env.getRun(runId);
      if (!run)
        return errorReply(
          instruction,
          ErrorCode.LOAD_CLIENT_APP_EXCEPTION,
          `Run ${runId} not found on the SuperLink.`,
        );
      const fab = await env.getFab(runId, run.fabHash);
      const hash = fab ? createHash("sha256").update(fab.content).digest("hex") : "";
      if (!fab || hash !== run.fabHash)
        return errorReply(
          instruction,
          ErrorCode.INVALID_FAB,
          `The FAB of run ${runId} does not match its hash ${run.fabHash}.`,
        );
      let runConfig: UserConfig;
      try {
        runConfig = resolveRunConfig ? resolveRunConfig(fab, run) : {};
      } catch (error) {
        return errorReply(
          instruction,
          ErrorCode.INVALID_FAB,
          `Cannot read the FAB of run ${runId}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      state.storeFab(fab);
      state.storeRun(run);
      state.storeContext({
        runId,
        nodeId: env.nodeId,
        nodeConfig: userConfigToProto(env.nodeConfig),
        state: { items: [] },
        runConfig: resolveRunConfig ? userConfigToProto(runConfig) : new Map(run.overrideConfig),
        seriesId: 0n,
      });
    }

    // Store the instruction with its objects; the SuperExec is woken by the event.
    let deflated: { tree: ObjectTree; objects: ReadonlyMap<string, Uint8Array> };
    const received = env.received;
    if (received && md.messageId !== "" && received.tree.objectId === md.messageId) {
      deflated = received;
    } else {
      const savedId = md.messageId;
      md.messageId = "";
      const fresh = deflateMessage(instruction);
      md.messageId = savedId || fresh.messageId;
      deflated = fresh;
    }
    const insId = md.messageId;
    const proto: ProtoMessage = {
      metadata: metadataToProto(md),
      content: instruction.hasContent() ? { items: [] } : undefined,
      error: undefined,
    };
    const reply = await new Promise<ProtoMessage>((resolve, reject) => {
      const check = () => {
        const found = state.getReply(insId);
        if (found) {
          cleanup();
          resolve(found);
        }
      };
      const onAbort = () => {
        cleanup();
        reject(new ExecutionAbortedError());
      };
      const unsubscribe = state.subscribe((e) => {
        if (e.type === "reply" && e.replyToMessageId === insId) check();
      });
      // `flwr stop`: the run's status is checked while the ClientApp works; a finished run is
      // stored with its status (the SuperExec ends the app process when it sees it) and its
      // instruction withdrawn.
      const watching = new AbortController();
      // Fleet GetRun of a run that is not running is refused (Flower's `check_abort`): that is
      // the answer too, with the SuperLink's reason as the status details.
      const currentRun = async (): Promise<Run | undefined> => {
        try {
          return await env.getRun(runId);
        } catch (error) {
          const known = state.getRun(runId);
          if (classifyRpcError(error) !== "run-not-running" || !known) throw error;
          return {
            ...known,
            status: { status: "finished", subStatus: "", details: rpcErrorDetails(error) },
          };
        }
      };
      void watchRunFinished(currentRun, watching.signal).then((run) => {
        if (!run) return;
        cleanup();
        state.storeRun(run);
        state.deleteMessages([insId]);
        reject(new RunStoppedError(run));
      });
      const cleanup = () => {
        unsubscribe();
        watching.abort();
        env.signal.removeEventListener("abort", onAbort);
      };
      env.signal.addEventListener("abort", onAbort, { once: true });
      state.storeInstruction(proto, deflated.tree, deflated.objects);
      check();
    });

    const replyId = reply.metadata!.messageId;
    const tree = state.store.getObjectTree(replyId);
    const objects = new Map<string, Uint8Array>();
    for (const id of objectTreeIds(tree)) {
      const found = state.store.get(id);
      if (!found.available) throw new Error(`reply object ${id} is missing from the node store`);
      objects.set(id, found.content);
    }
    state.deleteMessages([replyId, insId]);
    const message = messageFromProto(reply);
    message.metadata.messageId = replyId;
    return { message, deflated: { messageId: replyId, tree, objects } };
  };
}
