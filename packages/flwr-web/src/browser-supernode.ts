/**
 * A Flower SuperNode in a web page, on Flower 1.42's HTTP Fleet API ({@link FetchFleetClient}):
 *
 * 1. ActivateNode with the page's key (registered beforehand with `flwr supernode register`) →
 *    node id; a heartbeat every {@link HEARTBEAT_PERIOD_MS}.
 * 2. PullMessages, asking a flwr-ts SuperLink to hold the call up to 20 s (`flwr-ts-pull-wait-ms`;
 *    Python's answers at once and is polled every 3 s); for a message, PullObject each of its
 *    objects (retrying those not yet pushed), inflate and verify it (core's
 *    `inflateMessage`: every object id is its SHA-256), ConfirmMessageReceived.
 * 3. Run the ClientApp (core's `ClientApp`, here the page's built-in one whose handlers train in a
 *    Web Worker) with a `Context` per run (run config: the app's defaults under GetRun's
 *    overrides), deflate the reply (core's `deflateMessage`), PushMessages and the PushObject calls
 *    the SuperLink asks for.
 * 4. On `stop()`: DeactivateNode.
 *
 * Failures: a network error or a 5xx retries with a capped backoff; the SuperLink no longer
 * recognising the node (401 after being online) re-activates it; an unknown key, a revoked
 * registration, a stale clock or a rejected signature stop the node with one clear message
 * ({@link fatalErrorOf}).
 *
 * This is the wire-agnostic SuperNode logic of `@flwr-ts/transport`'s Node SuperNode, kept small
 * for the browser: no ClientAppIo processes (the ClientApp runs in the page), no inline content,
 * no object cache.
 */
import {
  type ClientApp,
  Context,
  deflateMessage,
  inflateMessage,
  type Message,
  messageFromProto,
  messageToProto,
  objectTreeIds,
  type UserConfig,
  userConfigFromProto,
} from "@flwr-ts/core";
import type { ObjectTree, Message as ProtoMessage } from "@flwr-ts/core/proto";
import { type FetchFleetClient, FleetCallError, PULL_WAIT_HEADER } from "./fetch-fleet-client.js";
import { BrowserNodeFatalError, fatalErrorOf } from "./node-errors.js";

/** Heartbeat interval announced to the SuperLink, s (Flower's default). */
export const HEARTBEAT_INTERVAL_SECONDS = 30;
/** How often a heartbeat is sent, ms. */
export const HEARTBEAT_PERIOD_MS = 10_000;
/** How long a flwr-ts SuperLink may hold a PullMessages open, ms. */
export const LONG_POLL_MS = 20_000;

/** What the page shows. */
export type NodeStatus =
  | "starting"
  | "online"
  | "receiving"
  | "training"
  | "evaluating"
  | "sending"
  | "reconnecting"
  | "stopped"
  | "error";

/** One status update. */
export interface NodeEvent {
  readonly status: NodeStatus;
  readonly nodeId?: bigint | undefined;
  readonly runId?: bigint | undefined;
  /** The server round (the message's group id). */
  readonly round?: string | undefined;
  /** A line for the log. */
  readonly message?: string | undefined;
}

/** Options of {@link BrowserSuperNode}. */
export interface BrowserSuperNodeOptions {
  /** The signed Fleet client. */
  readonly fleet: FetchFleetClient;
  /** SPKI PEM of the node's key (ActivateNode's `public_key`). */
  readonly publicKeyPem: string;
  /** The ClientApp that answers instructions. */
  readonly app: ClientApp;
  /** The run config the app's FAB would give (overridden by the run's `--run-config`). */
  readonly defaultRunConfig?: UserConfig;
  /** The node config (`context.nodeConfig`). */
  readonly nodeConfig?: UserConfig;
  /** Receives every status change. */
  readonly onEvent?: (event: NodeEvent) => void;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/** True for an error worth retrying: no answer, or a 5xx / 429. */
function transient(error: unknown): boolean {
  return (
    error instanceof FleetCallError &&
    (error.status === 0 || error.status >= 500 || error.status === 429)
  );
}

/** The browser SuperNode. */
export class BrowserSuperNode {
  private readonly shutdown = new AbortController();
  private readonly textEncoder = new TextEncoder();
  private nodeId: bigint | undefined;
  private wasOnline = false;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private readonly contexts = new Map<bigint, Context>();
  private readonly trainRounds = new Map<bigint, number>();
  private runPromise: Promise<void> | undefined;

  constructor(private readonly options: BrowserSuperNodeOptions) {}

  /** The node id once online. */
  get id(): bigint | undefined {
    return this.nodeId;
  }

  private emit(event: NodeEvent): void {
    this.options.onEvent?.({ nodeId: this.nodeId, ...event });
  }

  /**
   * Runs until {@link stop} or a fatal error.
   * @throws BrowserNodeFatalError with the message for the user.
   */
  run(): Promise<void> {
    this.runPromise ??= this.main();
    return this.runPromise;
  }

  /** Goes offline (DeactivateNode) and ends {@link run}. */
  async stop(): Promise<void> {
    this.shutdown.abort();
    this.stopHeartbeat();
    const id = this.nodeId;
    if (id !== undefined)
      await this.options.fleet.call("deactivateNode", { nodeId: id }).catch(() => {});
    await this.runPromise?.catch(() => {});
    this.emit({ status: "stopped", message: "stopped" });
  }

  private async main(): Promise<void> {
    try {
      await this.activate();
      await this.loop();
    } catch (error) {
      this.stopHeartbeat();
      if (this.shutdown.signal.aborted) return;
      const fatal =
        error instanceof BrowserNodeFatalError
          ? error
          : (fatalErrorOf(error, this.wasOnline) ??
            new BrowserNodeFatalError("other", (error as Error).message));
      this.emit({ status: "error", message: fatal.message });
      throw fatal;
    }
  }

  /** Calls with retries on transient failures (capped exponential backoff). */
  private async retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let delay = 250;
    for (;;) {
      try {
        return await fn();
      } catch (error) {
        if (!transient(error) || this.shutdown.signal.aborted) throw error;
        this.emit({ status: "reconnecting", message: `${what}: ${(error as Error).message}` });
        await sleep(delay, this.shutdown.signal);
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  private async activate(): Promise<void> {
    this.emit({ status: "starting", message: "ActivateNode" });
    const publicKey = this.textEncoder.encode(this.options.publicKeyPem);
    // A SuperLink that still lists this key online (a reloaded page) refuses a second session
    // until the old heartbeat window passes: wait it out, as the Node SuperNode does.
    const deadline = Date.now() + 90_000;
    for (;;) {
      try {
        const res = await this.retry("ActivateNode", () =>
          this.options.fleet.call("activateNode", {
            publicKey,
            heartbeatInterval: HEARTBEAT_INTERVAL_SECONDS,
          }),
        );
        this.nodeId = res.nodeId;
        break;
      } catch (error) {
        const fatal = fatalErrorOf(error, this.wasOnline);
        if (fatal) throw fatal;
        if (
          error instanceof FleetCallError &&
          error.status === 412 &&
          /online|activated/i.test(error.detail) &&
          Date.now() < deadline
        ) {
          this.emit({ status: "starting", message: `waiting: ${error.detail}` });
          await sleep(2000, this.shutdown.signal);
          continue;
        }
        throw error;
      }
    }
    this.wasOnline = true;
    this.emit({ status: "online", message: `online as node ${this.nodeId}` });
    this.startHeartbeat();
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => {
      const id = this.nodeId;
      if (id === undefined) return;
      this.options.fleet
        .call("sendNodeHeartbeat", {
          node: { nodeId: id },
          heartbeatInterval: HEARTBEAT_INTERVAL_SECONDS,
        })
        .catch(() => {
          // the pull loop sees the same failure and handles it
        });
    }, HEARTBEAT_PERIOD_MS);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private async loop(): Promise<void> {
    let idle = 200;
    while (!this.shutdown.signal.aborted) {
      const nodeId = this.nodeId!;
      const started = performance.now();
      let res: { messagesList: ProtoMessage[]; messageObjectTrees: ObjectTree[] };
      try {
        res = await this.retry("PullMessages", () =>
          this.options.fleet.call(
            "pullMessages",
            { node: { nodeId }, messageIds: [] },
            {
              headers: { [PULL_WAIT_HEADER]: String(LONG_POLL_MS) },
              signal: this.shutdown.signal,
            },
          ),
        );
      } catch (error) {
        if (this.shutdown.signal.aborted) return;
        if (error instanceof FleetCallError && error.status === 401 && !fatalErrorOf(error, true)) {
          // The SuperLink no longer knows this session (restart, revocation): activate again;
          // an unknown key then says which.
          this.emit({ status: "reconnecting", message: `node lost (${error.detail})` });
          this.stopHeartbeat();
          await this.activate();
          continue;
        }
        throw error;
      }
      const message = res.messagesList[0];
      const tree = res.messageObjectTrees[0];
      if (message && tree) {
        idle = 200;
        await this.handle(nodeId, message, tree);
        continue;
      }
      if (performance.now() - started >= 1000) continue; // the SuperLink held the call
      await sleep(idle, this.shutdown.signal);
      idle = Math.min(idle * 2, 3000);
    }
  }

  private async pullObjects(
    nodeId: bigint,
    runId: bigint,
    tree: ObjectTree,
  ): Promise<Map<string, Uint8Array>> {
    const objects = new Map<string, Uint8Array>();
    await Promise.all(
      objectTreeIds(tree).map(async (objectId) => {
        for (let attempt = 0; ; attempt++) {
          const res = await this.retry("PullObject", () =>
            this.options.fleet.call("pullObject", { node: { nodeId }, runId, objectId }),
          );
          if (!res.objectFound) throw new Error(`the SuperLink has no object ${objectId}`);
          if (res.objectAvailable) {
            objects.set(objectId, res.objectContent);
            return;
          }
          if (attempt > 200) throw new Error(`object ${objectId} never became available`);
          await sleep(Math.min(1000, 50 * 2 ** attempt), this.shutdown.signal);
        }
      }),
    );
    return objects;
  }

  private async contextFor(nodeId: bigint, runId: bigint): Promise<Context> {
    const cached = this.contexts.get(runId);
    if (cached) return cached;
    const res = await this.retry("GetRun", () =>
      this.options.fleet.call("getRun", { node: { nodeId }, runId }),
    );
    const overrides = res.run ? userConfigFromProto(res.run.overrideConfig) : {};
    const context = new Context({
      runId,
      nodeId,
      nodeConfig: this.options.nodeConfig ?? {},
      runConfig: { ...this.options.defaultRunConfig, ...overrides },
    });
    this.contexts.set(runId, context);
    return context;
  }

  private async handle(nodeId: bigint, proto: ProtoMessage, tree: ObjectTree): Promise<void> {
    const receivedAt = performance.now();
    const head = messageFromProto(proto);
    const md = head.metadata;
    const messageId = md.messageId || tree.objectId;
    // The server round: Flower's group id (`str(server_round)`), else this run's train count.
    if (md.messageType.startsWith("train"))
      this.trainRounds.set(md.runId, (this.trainRounds.get(md.runId) ?? 0) + 1);
    const round = md.groupId || String(this.trainRounds.get(md.runId) ?? 0);
    this.emit({
      status: "receiving",
      runId: md.runId,
      round,
      message: `${md.messageType} message ${messageId.slice(0, 12)}…`,
    });
    let instruction: Message;
    try {
      const objects = await this.pullObjects(nodeId, md.runId, tree);
      instruction = inflateMessage(objects, messageId);
    } catch (error) {
      if (error instanceof FleetCallError && error.status === 403) return; // run not running
      if (fatalErrorOf(error, true) || error instanceof FleetCallError) throw error;
      this.emit({ status: "online", message: `dropped a message: ${(error as Error).message}` });
      return;
    }
    void this.options.fleet
      .call("confirmMessageReceived", {
        node: { nodeId },
        runId: md.runId,
        messageObjectId: messageId,
      })
      .catch(() => {});
    const type = md.messageType;
    this.emit({
      status: type.startsWith("evaluate") ? "evaluating" : "training",
      runId: md.runId,
      round,
      message: `running the ClientApp (${type})`,
    });
    const context = await this.contextFor(nodeId, md.runId);
    const reply = await this.options.app.handle(instruction, context);
    const deflated = deflateMessage(reply);
    reply.metadata.messageId = deflated.messageId;
    this.emit({
      status: "sending",
      runId: md.runId,
      round,
      message: `reply ${deflated.messageId.slice(0, 12)}…`,
    });
    try {
      const pushed = await this.retry("PushMessages", () =>
        this.options.fleet.call("pushMessages", {
          node: { nodeId },
          messagesList: [messageToProto(reply)],
          messageObjectTrees: [deflated.tree],
          clientappRuntimeList: [(performance.now() - receivedAt) / 1000],
        }),
      );
      const wanted = new Set(pushed.objectsToPush);
      await Promise.all(
        objectTreeIds(deflated.tree)
          .filter((id) => wanted.has(id))
          .map((objectId) =>
            this.retry("PushObject", () =>
              this.options.fleet.call("pushObject", {
                node: { nodeId },
                runId: md.runId,
                objectId,
                objectContent: deflated.objects.get(objectId)!,
                sessionId: pushed.sessionId,
              }),
            ),
          ),
      );
    } catch (error) {
      if (error instanceof FleetCallError && error.status === 403) return; // run finished
      throw error;
    }
    this.emit({ status: "online", runId: md.runId, round, message: "reply sent" });
  }
}
