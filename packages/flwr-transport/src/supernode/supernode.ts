/**
 * The SuperNode's lifecycle against a SuperLink's Fleet API:
 *
 * 1. (Without a key: generate an ephemeral P-384 key and self-register, as Flower does.)
 * 2. ActivateNode with heartbeat_interval 30 → node id; start the heartbeat.
 * 3. Pull loop: PullMessages; for a message, PullObject its objects (all at once, up to 16,
 *    retrying those not yet available; objects received recently are taken from a bounded
 *    cache instead, see `object-cache.ts`), verify and inflate it, hand it to the executor
 *    (ClientAppIo), push the reply with PushMessages and its wanted objects with PushObject (all
 *    at once, up to 16), then ConfirmMessageReceived in the background while the next pull
 *    starts. Without an executor the reply is Flower's error reply (see `error-reply.ts`).
 *    With a flwr-ts SuperLink, small messages come and go inline instead
 *    (`inline/inline-content.ts`): one PullMessages and one PushMessages per message, no object
 *    calls, no confirmation.
 * 4. On {@link SuperNode.stop} (SIGINT/SIGTERM): stop the heartbeat, DeactivateNode (and
 *    UnregisterNode when self-registered), close the channel.
 *
 * Failures:
 * - UNAVAILABLE anywhere → reconnect with exponential backoff and full jitter (cap 5 s, see
 *   {@link RECONNECT_MAX_DELAY_MS}), bounded
 *   by `maxRetries` / `maxWaitTimeMs` like Flower's `--max-retries` / `--max-wait-time`. After a
 *   reconnection a heartbeat goes out at once, so the node is online again without waiting.
 * - The SuperLink no longer recognizing the node (UNAUTHENTICATED, heartbeat `success=false`,
 *   e.g. after an in-memory SuperLink restarted) → activate again.
 * - PERMISSION_DENIED while handling a message → the run is not running: drop the message.
 * - Unknown key, rejected signature, TLS handshake failure, a SuperLink speaking the other wire
 *   (gRPC vs HTTP, `wire/wire-probe.ts`) → {@link SuperNodeFatalError}.
 *
 * Wire: gRPC (Flower ≤ 1.39, the default) or Flower 1.40+'s protobuf over HTTP
 * ({@link FleetWireOptions}); everything above is the same on both (`fleet-connection.ts`).
 *
 * Polling rule: every PullMessages asks the SuperLink to hold the call open for up to 20 s until a
 * message arrives (flwr-ts SuperLink's opt-in long poll, metadata `flwr-ts-pull-wait-ms`); when an
 * empty answer took at least `longPollThresholdMs` (1 s) the SuperLink did hold it, and the next
 * pull starts at once. A SuperLink that answers at once (Python's) is polled after an idle delay
 * that starts at 200 ms and doubles up to 3 s (Python's fixed poll period) while nothing arrives;
 * after a message the next pull is immediate. While the connection is failing, pulls do not ask
 * to be held, so the first one that gets through returns at once and reports the reconnection.
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import {
  ErrorCode,
  inflateMessage,
  type Message,
  messageFromProto,
  messageToProto,
  objectTreeIds,
  type UserConfig,
} from "@flwr-ts/core";
import type { MessageExecutor, ReceivedObjects } from "../clientappio/message-executor.js";
import { RunStoppedError } from "../clientappio/run-stop-watch.js";
import { trace, traceNow, traceSpan } from "../diagnostics/trace.js";
import { inlineFromObjects, receiveInlined, withInlineContent } from "../inline/inline-content.js";
import {
  ANOTHER_SUPERNODE_ONLINE,
  anotherSuperNodeOnlineLine,
} from "../protocol/node-session-errors.js";
import { abortableSleep } from "./abortable-sleep.js";
import { Backoff } from "./backoff.js";
import { forEachBounded } from "./bounded.js";
import { retriesExhaustedMessage, superNodeTlsMessage } from "./connection-messages.js";
import { buildErrorReply, type PreparedReply } from "./error-reply.js";
import { NOT_REGISTERED_MESSAGE, SuperNodeFatalError } from "./errors.js";
import { FleetConnection, type FleetWireOptions, type PulledMessage } from "./fleet-connection.js";
import { HEARTBEAT_INTERVAL_SECONDS, type HeartbeatLost, HeartbeatSender } from "./heartbeat.js";
import { consoleLogger, type Logger } from "./log.js";
import { DEFAULT_OBJECT_CACHE_BYTES, ObjectCache } from "./object-cache.js";
import { pullObjects } from "./pull-objects.js";
import {
  callWithRetry,
  classifyRpcError,
  isFatalTransportFailure,
  RetriesExhaustedError,
  rpcErrorDetails,
  ShutdownError,
} from "./rpc-retry.js";

/**
 * Options of {@link SuperNode}: the Fleet wire ({@link FleetWireOptions}: gRPC `credentials`, or
 * `wire: "http"` with `insecure` and `rootCertificates`) and {@link SuperNodeCommonOptions}.
 */
export type SuperNodeOptions = SuperNodeCommonOptions & FleetWireOptions;

/** Options of {@link SuperNode} besides its wire. */
export interface SuperNodeCommonOptions {
  /** Fleet API address, `host:port`. */
  readonly superlink: string;
  /** The node's private key; when absent an ephemeral key is generated and self-registered. */
  readonly privateKey?: KeyObject | undefined;
  /** `--node-config`, for the ClientApp's `context.nodeConfig`. */
  readonly nodeConfig?: UserConfig;
  /** Retries after a connection error before giving up (undefined: unlimited). */
  readonly maxRetries?: number | undefined;
  /** Time after which reconnection stops, ms (undefined: unlimited). */
  readonly maxWaitTimeMs?: number | undefined;
  /** Cap of the reconnection backoff, ms (default {@link RECONNECT_MAX_DELAY_MS}). */
  readonly maxReconnectDelayMs?: number | undefined;
  /** Where to log (default: Flower-style lines on stderr). */
  readonly logger?: Logger;
  /** Polling knobs (see the module note). */
  readonly polling?: {
    readonly minIdleMs?: number;
    readonly maxIdleMs?: number;
    readonly longPollThresholdMs?: number;
    readonly longPollWaitMs?: number;
  };
  /** Runs received instructions (the ClientAppIo side); without it every message gets an error reply. */
  readonly executor?: MessageExecutor | undefined;
  /** Longest wait for a node the SuperLink still lists online from an earlier session, ms (default 90 s). */
  readonly activationPatienceMs?: number;
  /**
   * Bytes of recently received objects kept to skip pulling them again (default 64 MiB, 0
   * disables; see `object-cache.ts`).
   */
  readonly objectCacheBytes?: number;
  /**
   * Largest message (object bytes) exchanged inline with a flwr-ts SuperLink
   * (`inline/inline-content.ts`); 0 turns it off. Default: `FLWR_TS_INLINE_MAX_BYTES` or 1 MiB.
   */
  readonly inlineMaxBytes?: number;
}

const DEACTIVATE_TIMEOUT_MS = 3000;

/** Reply objects pushed at once. */
const PUSH_CONCURRENCY = 16;

/**
 * Cap of the reconnection backoff, ms. Flower caps at 20 s, which leaves a SuperNode offline for
 * up to 20 s after its SuperLink is back; 5 s (mean wait 2.5 s with full jitter) brings nodes back
 * within seconds at a negligible cost (one cheap failed connect per node per few seconds).
 */
export const RECONNECT_MAX_DELAY_MS = 5000;

/** Marks the current session as needing re-activation. */
class NodeLostError extends Error {
  constructor(readonly lost: HeartbeatLost | { reason: "pull"; error: unknown }) {
    super("the SuperLink no longer recognizes this node");
  }
}

/** A long-running SuperNode. */
export class SuperNode {
  private readonly log: Logger;
  private readonly conn: FleetConnection;
  private readonly selfRegistered: boolean;
  private readonly shutdown = new AbortController();
  private heartbeat: HeartbeatSender | undefined;
  private session = new AbortController();
  private lost: NodeLostError | undefined;
  private currentNodeId: bigint | undefined;
  private runPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  /** False between a failed call and the next success: pulls then do not long-poll, so the
   * first call that gets through returns at once and reports the reconnection. */
  private linkHealthy = true;
  /** Calls running beside the pull loop (message confirmations). */
  private readonly background = new Set<Promise<void>>();
  private readonly objectCache: ObjectCache | undefined;
  /** Called once the node is activated (tests, metrics). */
  onActivated: ((nodeId: bigint) => void) | undefined;

  constructor(private readonly options: SuperNodeOptions) {
    this.log = options.logger ?? consoleLogger();
    this.selfRegistered = options.privateKey === undefined;
    const cacheBytes = options.objectCacheBytes ?? DEFAULT_OBJECT_CACHE_BYTES;
    this.objectCache = cacheBytes > 0 ? new ObjectCache(cacheBytes) : undefined;
    const privateKey =
      options.privateKey ?? generateKeyPairSync("ec", { namedCurve: "secp384r1" }).privateKey;
    const wire: FleetWireOptions =
      options.wire === "http"
        ? {
            wire: "http",
            insecure: options.insecure,
            rootCertificates: options.rootCertificates,
          }
        : { credentials: options.credentials, messageLimits: options.messageLimits };
    this.conn = new FleetConnection({
      ...wire,
      address: options.superlink,
      privateKey,
      ...(options.inlineMaxBytes === undefined ? {} : { inlineMaxBytes: options.inlineMaxBytes }),
    });
  }

  /** The node id once activated. */
  get nodeId(): bigint | undefined {
    return this.currentNodeId;
  }

  /** The node config it was started with. */
  get nodeConfig(): UserConfig {
    return this.options.nodeConfig ?? {};
  }

  /**
   * Runs until {@link stop} (resolves) or a fatal condition (rejects with
   * {@link SuperNodeFatalError}).
   */
  run(): Promise<void> {
    this.runPromise ??= this.main();
    return this.runPromise;
  }

  /** Stops gracefully: cancels pulls and waits, stops the heartbeat, deactivates the node. */
  stop(): Promise<void> {
    this.stopPromise ??= (async () => {
      this.shutdown.abort();
      this.session.abort();
      try {
        await this.runPromise;
      } catch {
        // the run's own error is reported by run()
      }
    })();
    return this.stopPromise;
  }

  private reconnectBackoff(): Backoff {
    return new Backoff({
      maxDelayMs: this.options.maxReconnectDelayMs ?? RECONNECT_MAX_DELAY_MS,
      maxRetries: this.options.maxRetries,
      maxWaitTimeMs: this.options.maxWaitTimeMs,
    });
  }

  /** Calls `fn`, reconnecting on UNAVAILABLE; a recovery triggers an immediate heartbeat. */
  private retry<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    return callWithRetry((s) => fn(s ?? signal), {
      backoff: this.reconnectBackoff(),
      signal,
      onRetry: (error, delay) => {
        this.linkHealthy = false;
        this.log.log(
          "WARNING",
          `Connection attempt failed (${rpcErrorDetails(error)}), retrying in ${(delay / 1000).toFixed(2)} seconds`,
        );
      },
      onRecovered: (tries, elapsed) => {
        this.linkHealthy = true;
        this.log.log(
          "INFO",
          `Connection successful after ${(elapsed / 1000).toFixed(2)} seconds and ${tries} tries.`,
        );
        this.heartbeat?.beatNow();
      },
    });
  }

  private async main(): Promise<void> {
    try {
      if (this.selfRegistered) await this.register();
      await this.activate();
      await this.loop();
    } catch (error) {
      if (!(error instanceof ShutdownError)) throw this.toFatal(error);
    } finally {
      await this.teardown();
    }
  }

  private toFatal(error: unknown): SuperNodeFatalError {
    if (error instanceof SuperNodeFatalError) return error;
    if (error instanceof RetriesExhaustedError)
      return new SuperNodeFatalError(
        retriesExhaustedMessage(error.message, this.options.superlink),
      );
    const kind = classifyRpcError(error);
    if (kind === "wire-mismatch") {
      const where = this.options.superlink;
      return new SuperNodeFatalError(
        `${rpcErrorDetails(error)}. ` +
          (this.conn.wire === "grpc"
            ? "Flower 1.40+ SuperLinks serve the Fleet API over HTTP: start the SuperNode with " +
              `--fleet-api-type http (or --superlink http://${where} / https://${where}).`
            : "Flower ≤ 1.39 SuperLinks and flwr-ts's Fleet port serve gRPC: start the SuperNode " +
              `with --fleet-api-type grpc-rere (or --superlink grpc://${where}).`),
      );
    }
    if (kind === "tls")
      return new SuperNodeFatalError(
        superNodeTlsMessage(rpcErrorDetails(error), this.options.superlink),
      );
    return new SuperNodeFatalError(`SuperNode stopped: ${rpcErrorDetails(error)}`, undefined, {
      cause: error,
    });
  }

  private async register(): Promise<void> {
    try {
      await this.retry((signal) => this.conn.registerNode({ signal }), this.shutdown.signal);
    } catch (error) {
      if (classifyRpcError(error) === "failed-precondition") {
        throw new SuperNodeFatalError(
          `The SuperLink refused self-registration (${rpcErrorDetails(error)}). Start the SuperNode ` +
            "with --auth-supernode-private-key <key> after registering its public key with: " +
            "flwr supernode register <public-key-file> <app-dir> <federation>",
        );
      }
      throw error;
    }
  }

  /** ActivateNode (waiting out an old session's heartbeat window), then start the heartbeat. */
  private async activate(): Promise<void> {
    const patience = new Backoff({
      initialDelayMs: 1000,
      maxDelayMs: 5000,
      jitter: { ratio: 0.2 },
      maxWaitTimeMs: this.options.activationPatienceMs ?? 90_000,
    });
    let nodeId: bigint;
    for (;;) {
      try {
        nodeId = await this.retry(
          (signal) => this.conn.activateNode(HEARTBEAT_INTERVAL_SECONDS, { signal }),
          this.shutdown.signal,
        );
        break;
      } catch (error) {
        const kind = classifyRpcError(error);
        const details = rpcErrorDetails(error);
        if (kind === "failed-precondition" && /No SuperNode found/i.test(details)) {
          throw new SuperNodeFatalError(NOT_REGISTERED_MESSAGE);
        }
        // A flwr-ts SuperLink: another live SuperNode holds this key's session.
        const duplicate = new RegExp(`${ANOTHER_SUPERNODE_ONLINE} \\(node id (\\d+)\\)`).exec(
          details,
        );
        if (kind === "failed-precondition" && duplicate) {
          throw new SuperNodeFatalError(anotherSuperNodeOnlineLine(duplicate[1]!));
        }
        if (kind === "failed-precondition" && /could not be activated/i.test(details)) {
          // The SuperLink still lists this key online (a previous process did not deactivate).
          const delay = patience.next();
          if (delay === undefined) {
            throw new SuperNodeFatalError(
              `The SuperLink refuses to activate this SuperNode (${details}). Is another SuperNode ` +
                "running with the same key, or was the node unregistered?",
            );
          }
          if (patience.attempts === 1) {
            this.log.log(
              "WARNING",
              `${details} The SuperLink still lists this SuperNode online from a previous session; ` +
                "retrying until its heartbeat window passes.",
            );
          }
          if (!(await abortableSleep(delay, this.shutdown.signal))) throw new ShutdownError();
          continue;
        }
        if (kind === "unauthenticated") {
          throw new SuperNodeFatalError(
            `The SuperLink rejected this SuperNode's credentials (${details}). Check the system ` +
              "clocks and that --auth-supernode-private-key is the key registered with flwr supernode register",
          );
        }
        throw error;
      }
    }
    this.currentNodeId = nodeId;
    this.lost = undefined;
    this.session = new AbortController();
    if (this.shutdown.signal.aborted) this.session.abort();
    this.log.log("INFO", `SuperNode ID: ${nodeId}`);
    const heartbeat = new HeartbeatSender({
      send: (timeoutMs, signal) =>
        this.conn.sendHeartbeat(nodeId, HEARTBEAT_INTERVAL_SECONDS, { timeoutMs, signal }),
      onLost: (lost) => this.markLost(new NodeLostError(lost)),
      onRetry: (error, delay) =>
        this.log.log(
          "WARNING",
          `Heartbeat failed (${rpcErrorDetails(error)}), retrying in ${(delay / 1000).toFixed(2)} seconds`,
        ),
      onRecovered: () => this.log.log("INFO", "Heartbeat delivered after reconnecting."),
    });
    this.heartbeat = heartbeat;
    heartbeat.start();
    this.onActivated?.(nodeId);
  }

  private markLost(lost: NodeLostError): void {
    if (this.shutdown.signal.aborted) return;
    this.lost ??= lost;
    this.session.abort();
  }

  private async reactivate(): Promise<void> {
    const why = this.lost?.lost;
    const detail =
      why && "error" in why && why.error !== undefined ? ` (${rpcErrorDetails(why.error)})` : "";
    this.log.log(
      "WARNING",
      `The SuperLink no longer recognizes SuperNode ${this.currentNodeId}${detail}; activating again.`,
    );
    await this.heartbeat?.stop();
    this.heartbeat = undefined;
    await this.activate();
  }

  private async loop(): Promise<void> {
    const polling = this.options.polling ?? {};
    const idle = new Backoff({
      initialDelayMs: polling.minIdleMs ?? 200,
      maxDelayMs: polling.maxIdleMs ?? 3000,
      jitter: "none",
    });
    const longPoll = polling.longPollThresholdMs ?? 1000;
    const longPollWait = polling.longPollWaitMs ?? 20_000;
    while (!this.shutdown.signal.aborted) {
      if (this.lost) {
        await this.reactivate();
        continue;
      }
      const nodeId = this.currentNodeId!;
      const session = this.session.signal;
      const started = performance.now();
      let pulled: PulledMessage | undefined;
      try {
        pulled = await this.retry(
          (signal) =>
            this.conn.pullMessage(nodeId, {
              signal,
              waitMs: this.linkHealthy ? longPollWait : 0,
            }),
          session,
        );
      } catch (error) {
        if (error instanceof ShutdownError) {
          if (this.shutdown.signal.aborted) return;
          continue; // session aborted: the node was lost, re-activate
        }
        const kind = classifyRpcError(error);
        if (kind === "unauthenticated") {
          this.markLost(new NodeLostError({ reason: "pull", error }));
          continue;
        }
        if (isFatalTransportFailure(kind) || error instanceof RetriesExhaustedError) throw error;
        if (kind === "deadline") continue; // a long poll outlived its deadline: pull again
        this.log.log("ERROR", `PullMessages failed: ${rpcErrorDetails(error)}`);
        const delay = idle.next() ?? 3000;
        await abortableSleep(delay, this.shutdown.signal);
        continue;
      }
      if (pulled) {
        idle.reset();
        try {
          await this.handle(nodeId, pulled);
        } catch (error) {
          // A lost node aborts the session mid-message: drop it, re-activate, go on.
          if (!(error instanceof ShutdownError) || this.shutdown.signal.aborted) throw error;
        }
        continue;
      }
      if (performance.now() - started >= longPoll) continue;
      await abortableSleep(idle.next() ?? 3000, session);
    }
  }

  /** Receives one message (objects, verification, confirmation) and answers it. */
  private async handle(nodeId: bigint, pulled: PulledMessage): Promise<void> {
    const receivedAt = performance.now();
    let instruction: Message;
    try {
      instruction = messageFromProto(pulled.message);
    } catch (error) {
      this.log.log("ERROR", `Dropping a malformed message: ${(error as Error).message}`);
      return;
    }
    const md = instruction.metadata;
    const messageId = md.messageId || pulled.tree.objectId;
    this.log.log("INFO", "");
    this.log.log(
      "INFO",
      md.groupId ? `[RUN ${md.runId}, ROUND ${md.groupId}]` : `[RUN ${md.runId}]`,
    );
    this.log.log("INFO", `Receiving: ${md.messageType} message (ID: ${messageId})`);
    const signal = this.session.signal;
    trace("sn.recv", { id: messageId, type: md.messageType });
    let received: ReceivedObjects;
    try {
      const tObjects = traceNow();
      if (pulled.inlined) {
        // flwr-ts inline content: the objects are rebuilt from it and verified against the tree.
        const inline = receiveInlined(pulled.message, pulled.tree);
        instruction = inline.message;
        received = { tree: pulled.tree, objects: inline.objects };
        if (this.objectCache)
          for (const [id, content] of inline.objects) this.objectCache.set(id, content);
        traceSpan("sn.objects", tObjects, { id: messageId, n: inline.objects.size, inline: 1 });
      } else {
        let hits = 0;
        const objects = await pullObjects(
          pulled.tree,
          (objectId) => {
            const cached = this.objectCache?.get(objectId);
            if (cached) {
              hits++;
              return Promise.resolve({ found: true, available: true, content: cached });
            }
            return this.retry(
              (s) => this.conn.pullObject(nodeId, md.runId, objectId, { signal: s }),
              signal,
            );
          },
          { signal },
        );
        if (this.objectCache)
          for (const [id, content] of objects) this.objectCache.set(id, content);
        instruction = inflateMessage(objects, messageId);
        received = { tree: pulled.tree, objects };
        traceSpan("sn.objects", tObjects, { id: messageId, n: objects.size, cached: hits });
      }
    } catch (error) {
      this.receiveFailed(error, md.runId, messageId);
      return;
    }
    this.log.log("INFO", "Received successfully");
    try {
      await this.reply(nodeId, instruction, receivedAt, received);
    } finally {
      // ConfirmMessageReceived lets the SuperLink delete the instruction's objects. It goes out
      // after the reply: off the message's critical path, and objects the reply shares with the
      // instruction (unchanged arrays) are still stored, so they need not be pushed back. An
      // inlined message was released by the SuperLink when it was sent.
      if (!pulled.inlined) this.confirmInBackground(nodeId, md.runId, messageId);
    }
  }

  /** Confirms a message's reception without holding up the pull loop; failures are logged. */
  private confirmInBackground(nodeId: bigint, runId: bigint, messageId: string): void {
    const signal = this.session.signal;
    const started = traceNow();
    const task = this.retry(
      (s) => this.conn.confirmMessageReceived(nodeId, runId, messageId, { signal: s }),
      signal,
    ).then(
      () => traceSpan("sn.confirm", started, { id: messageId }),
      (error: unknown) => {
        if (error instanceof ShutdownError || signal.aborted) return;
        // A run that finished meanwhile deleted the objects already.
        if (classifyRpcError(error) === "run-not-running") return;
        this.log.log(
          "WARNING",
          `Could not confirm the reception of message ${messageId}: ${rpcErrorDetails(error)}`,
        );
      },
    );
    this.background.add(task);
    void task.finally(() => this.background.delete(task));
  }

  /** A message could not be received: drop it (rethrows what ends the session or the node). */
  private receiveFailed(error: unknown, runId: bigint, messageId: string): void {
    if (error instanceof ShutdownError) throw error;
    if (classifyRpcError(error) === "run-not-running") {
      this.log.log(
        "INFO",
        `Run ID ${runId} is not in \`RUNNING\` status. Ignoring message ${messageId}.`,
      );
      return;
    }
    if (error instanceof RetriesExhaustedError || isFatalTransportFailure(classifyRpcError(error)))
      throw error;
    this.log.log("ERROR", `Failed to receive message ${messageId}: ${rpcErrorDetails(error)}`);
  }

  private async reply(
    nodeId: bigint,
    instruction: Message,
    receivedAt: number,
    received: ReceivedObjects,
  ): Promise<void> {
    const signal = this.session.signal;
    const tExec = traceNow();
    const prepared = await this.execute(nodeId, instruction, signal, received);
    traceSpan("sn.exec", tExec, { id: instruction.metadata.messageId });
    if (!prepared) return;
    const { message, deflated } = prepared;
    const md = message.metadata;
    this.log.log("INFO", `Sending: ${md.messageType} message (ID: ${md.messageId})`);
    try {
      const tPush = traceNow();
      const runtime = (performance.now() - receivedAt) / 1000;
      const inline = inlineFromObjects(
        deflated.tree,
        (id) => deflated.objects.get(id),
        this.conn.serverInlineMax,
      );
      const proto = messageToProto(message);
      const { objectsToPush, sessionId } = await this.retry(
        (s) =>
          this.conn.pushMessage(
            nodeId,
            inline ? withInlineContent(proto, inline) : proto,
            deflated.tree,
            runtime,
            { signal: s, inlined: inline !== undefined },
          ),
        signal,
      );
      const wanted = new Set(objectsToPush);
      // All wanted objects at once (bounded): one round trip instead of one per object.
      await forEachBounded(
        objectTreeIds(deflated.tree).filter((id) => wanted.has(id)),
        PUSH_CONCURRENCY,
        async (objectId) => {
          const content = deflated.objects.get(objectId);
          if (!content) throw new Error(`reply object ${objectId} is missing`);
          await this.retry(
            (s) =>
              this.conn.pushObject(nodeId, md.runId, objectId, content, { signal: s, sessionId }),
            signal,
          );
        },
      );
      traceSpan("sn.push", tPush, { id: md.messageId, to: md.replyToMessageId });
      this.log.log("INFO", "Sent successfully");
    } catch (error) {
      if (error instanceof ShutdownError) throw error;
      if (classifyRpcError(error) === "run-not-running") {
        this.log.log(
          "INFO",
          `Run ID ${md.runId} is not in \`RUNNING\` status. Ignoring reply message ${md.messageId}.`,
        );
        return;
      }
      if (
        error instanceof RetriesExhaustedError ||
        isFatalTransportFailure(classifyRpcError(error))
      )
        throw error;
      this.log.log("ERROR", `Failed to send message ${md.messageId}: ${rpcErrorDetails(error)}`);
    }
  }

  /** Runs the instruction with the executor (ClientAppIo), or builds the error reply without one. */
  private async execute(
    nodeId: bigint,
    instruction: Message,
    signal: AbortSignal,
    received: ReceivedObjects,
  ): Promise<PreparedReply | undefined> {
    const executor = this.options.executor;
    if (!executor) {
      const prepared = buildErrorReply(instruction);
      this.log.log(
        "WARNING",
        `No ClientApp runtime in this SuperNode: replying to ${instruction.metadata.messageId} with an error (code ${prepared.message.error.code}).`,
      );
      return prepared;
    }
    try {
      return await executor(instruction, {
        nodeId,
        nodeConfig: this.nodeConfig,
        signal,
        received,
        getRun: (runId) =>
          this.retry((s) => this.conn.getRun(nodeId, runId, { signal: s }), signal),
        getFab: (runId, hash) =>
          this.retry((s) => this.conn.getFab(nodeId, runId, hash, { signal: s }), signal),
      });
    } catch (error) {
      if (signal.aborted || error instanceof ShutdownError) throw new ShutdownError();
      if (error instanceof RunStoppedError) {
        this.log.log(
          "INFO",
          `${error.message} Ignoring message ${instruction.metadata.messageId}.`,
        );
        return undefined;
      }
      if (classifyRpcError(error) === "run-not-running") {
        this.log.log(
          "INFO",
          `Run ID ${instruction.metadata.runId} is not in \`RUNNING\` status. Ignoring message ${instruction.metadata.messageId}.`,
        );
        return undefined;
      }
      if (
        error instanceof RetriesExhaustedError ||
        isFatalTransportFailure(classifyRpcError(error))
      )
        throw error;
      const reason = `The SuperNode could not run the ClientApp: ${rpcErrorDetails(error)}`;
      this.log.log("ERROR", reason);
      return buildErrorReply(instruction, ErrorCode.UNKNOWN, reason);
    }
  }

  private async teardown(): Promise<void> {
    await Promise.allSettled([...this.background]);
    await this.heartbeat?.stop();
    this.heartbeat = undefined;
    const nodeId = this.currentNodeId;
    if (nodeId !== undefined) {
      try {
        await this.conn.deactivateNode(nodeId, { timeoutMs: DEACTIVATE_TIMEOUT_MS });
        this.log.log("INFO", `SuperNode ${nodeId} deactivated.`);
        if (this.selfRegistered) {
          await this.conn.unregisterNode(nodeId, { timeoutMs: DEACTIVATE_TIMEOUT_MS });
        }
      } catch (error) {
        this.log.log(
          "WARNING",
          `Could not deactivate SuperNode ${nodeId}: ${rpcErrorDetails(error)}`,
        );
      }
    }
    this.conn.close();
  }
}
