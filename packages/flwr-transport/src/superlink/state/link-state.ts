/**
 * The SuperLink's state (Flower's `LinkState` + `CoreState`): nodes, runs, messages in flight,
 * ServerApp contexts and logs, FABs, app tokens and nonces.
 *
 * Design decisions (read before implementing or using):
 * - **Synchronous.** Both implementations (a `Map` and better-sqlite3) are synchronous, and a
 *   synchronous method is atomic with respect to every other call on the single Node.js thread,
 *   so check-then-act sequences need no locks. Callers must not hold the event loop for long:
 *   every method is O(rows touched).
 * - **uint64 ids are `bigint`**, never 0 or 1 for nodes (1 is the SuperLink, `SUPERLINK_NODE_ID`).
 *   SQLite stores them as signed int64 (two's complement wrap), losslessly.
 * - **Messages are stored without content.** Message content travels as objects in the
 *   {@link ObjectStore}; `storeMessageIns/Res` keep the proto `Message` with `content` reduced to
 *   an empty `RecordDict` (presence kept, so "content or error" stays visible) and the `error`.
 * - **Time** comes from an injected clock (`LinkStateOptions.clock`, epoch ms) so tests can
 *   move time without sleeping. Timestamps are ISO 8601 with `+00:00`, as Python's
 *   `datetime.isoformat()` prints them; `online_until` is epoch seconds (double).
 * - **Waiting without sleeping.** Every mutation that another party may wait for emits a
 *   {@link LinkStateEvent} through {@link LinkState.subscribe}; {@link waitForChange} (in
 *   `wait-for-change.ts`) turns that into a promise so long-polling needs no timers beyond its
 *   bound.
 * - **Federations** are Flower's NoOp manager: one federation `@none/default`
 *   ({@link NOOP_FEDERATION}), every node is in every federation of a run.
 *
 * The shared behavioural test suite is `test/link-state.suite.ts` (`linkStateSuite`); every
 * implementation must pass it.
 */
import type { Context, Fab, Message, NodeInfo, Run, RunStatus, Scalar } from "@flwr-ts/core/proto";
import type { Task } from "@flwr-ts/core/proto/runtime";

/** Node id of the SuperLink itself (source of instructions, destination of replies). */
export const SUPERLINK_NODE_ID = 1n;

/** Flower's NoOp account id (no account authentication configured). */
export const NOOP_FLWR_AID = "<id:none>";

/** Flower's NoOp account name. */
export const NOOP_ACCOUNT_NAME = "none";

/** The one federation of a SuperLink without federation management. */
export const NOOP_FEDERATION = `@${NOOP_ACCOUNT_NAME}/default`;

/** Heartbeat interval bounds accepted from SuperNodes (seconds, inclusive). */
export const HEARTBEAT_MIN_INTERVAL = 10;
/** Upper bound of the heartbeat interval (seconds, inclusive). */
export const HEARTBEAT_MAX_INTERVAL = 1800;
/** Default heartbeat interval (seconds): nodes registered via the CLI, app tokens. */
export const HEARTBEAT_DEFAULT_INTERVAL = 30;
/** A node stays online for `HEARTBEAT_PATIENCE × interval` after each heartbeat. */
export const HEARTBEAT_PATIENCE = 2;

/** Length in hex characters of an app token (`secrets.token_hex(128)`). */
export const APP_TOKEN_HEX_LENGTH = 256;

/** Tolerance (s) on reply TTLs, Flower's `MESSAGE_TTL_TOLERANCE`. */
export const MESSAGE_TTL_TOLERANCE = 0.1;

/** Earliest accepted `created_at` of a message (2025-02-28T00:00:00Z), as Flower validates. */
export const MIN_MESSAGE_CREATED_AT = 1740700800;

/** Details of a run that failed because its app token expired. */
export const RUN_FAILURE_DETAILS_NO_HEARTBEAT = "No heartbeat received from the run.";

/** Node statuses (Flower's `NodeStatus`). */
export const NodeStatus = {
  REGISTERED: "registered",
  ONLINE: "online",
  OFFLINE: "offline",
  UNREGISTERED: "unregistered",
} as const;
/** A node status value. */
export type NodeStatusValue = (typeof NodeStatus)[keyof typeof NodeStatus];

/** Run statuses (Flower's `Status`). */
export const RunStatusValue = {
  PENDING: "pending",
  STARTING: "starting",
  RUNNING: "running",
  FINISHED: "finished",
} as const;

/** Run sub-statuses of a finished run (Flower's `SubStatus`). */
export const RunSubStatus = {
  COMPLETED: "completed",
  FAILED: "failed",
  STOPPED: "stopped",
} as const;

/** Run types. */
export const RunType = { SERVER_APP: "serverapp", SIMULATION: "simulation" } as const;

/** The public key belongs to another node that is not unregistered. */
export class PublicKeyInUseError extends Error {
  constructor() {
    super("Public key already in use");
    this.name = "PublicKeyInUseError";
  }
}

/** A node to delete is unknown, already unregistered, or owned by another account. */
export class NodeNotFoundError extends Error {
  /** @param nodeId - the node concerned. */
  constructor(nodeId: bigint) {
    super(`Node ID ${nodeId} already unregistered, not found or the request was unauthorized.`);
    this.name = "NodeNotFoundError";
  }
}

/** A run id is unknown. */
export class RunNotFoundError extends Error {
  /** @param runId - the run concerned. */
  constructor(runId: bigint) {
    super(`Run ${runId} not found`);
    this.name = "RunNotFoundError";
  }
}

/** An argument is out of range (negative traffic, bad limit, …). */
export class LinkStateArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LinkStateArgumentError";
  }
}

/** Options shared by every LinkState implementation. */
export interface LinkStateOptions {
  /** Wall clock in epoch milliseconds (may be fractional); default `Date.now`. */
  clock?: () => number;
  /**
   * Cap of one run's stored ServerApp log text in UTF-8 bytes (default
   * `DEFAULT_RUN_LOG_MAX_BYTES`, 16 MiB): beyond it the run's oldest entries are deleted
   * (see `log-retention.ts`).
   */
  runLogMaxBytes?: number;
}

/** Filters of {@link LinkState.getNodeInfo}; absent filters are ignored, present ones ANDed. */
export interface NodeFilter {
  /** Any of these node ids. */
  nodeIds?: readonly bigint[];
  /** Any of these owners. */
  ownerAids?: readonly string[];
  /** Any of these statuses. */
  statuses?: readonly string[];
}

/** Filters of {@link LinkState.getRunInfo}; an empty list matches nothing. */
export interface RunFilter {
  /** Any of these run ids. */
  runIds?: readonly bigint[];
  /** Any of these statuses (`pending`, …). */
  statuses?: readonly string[];
  /** Any of these creators. */
  flwrAids?: readonly string[];
  /** Any of these federations. */
  federations?: readonly string[];
  /** Sort by `pending_at`. */
  orderBy?: "pending_at";
  /** Ascending (default) or descending. */
  ascending?: boolean;
  /** At most this many runs. */
  limit?: number;
}

/** What {@link LinkState.createRun} needs. */
export interface CreateRunInput {
  /** `<publisher>/<name>` or "" (app given by spec). */
  fabId: string;
  /** FAB version or "". */
  fabVersion: string;
  /** SHA-256 hex of the FAB or "". */
  fabHash: string;
  /** Run-config overrides. */
  overrideConfig: ReadonlyMap<string, Scalar>;
  /** Federation name, e.g. {@link NOOP_FEDERATION}. */
  federation: string;
  /** Serialized `SimulationConfig` (opaque here), if any. */
  federationConfig?: Uint8Array | undefined;
  /** Account id of the creator. */
  flwrAid: string;
  /** `serverapp` or `simulation`. */
  runType: string;
}

/** Outcome of storing a message. */
export type StoreMessageResult =
  | { readonly ok: true; readonly messageId: string }
  | { readonly ok: false; readonly reason: string };

/** A change another party may wait for. */
export type LinkStateEvent =
  /** An instruction (`messageId`) for `dstNodeId` was stored. */
  | {
      readonly type: "message-ins";
      readonly runId: bigint;
      readonly dstNodeId: bigint;
      readonly messageId: string;
      /** The instruction's `group_id` (Flower's strategies put the round number there). */
      readonly groupId: string;
      /** The instruction's `message_type` (`train`, `evaluate`, `query`, …). */
      readonly messageType: string;
    }
  /** A reply to `replyToMessageId` was stored. */
  | { readonly type: "message-res"; readonly runId: bigint; readonly replyToMessageId: string }
  /** A run was created or changed status. */
  | { readonly type: "run"; readonly runId: bigint; readonly status: string }
  /** A node changed status (registered, activated, deactivated, unregistered). */
  | { readonly type: "node"; readonly nodeId: bigint; readonly status: string }
  /** A log line was added to a run. */
  | { readonly type: "log"; readonly runId: bigint };

/** Listener of {@link LinkState.subscribe}. */
export type LinkStateListener = (event: LinkStateEvent) => void;

/** The SuperLink state. See the module comment for conventions. */
export interface LinkState {
  // ---------------------------------------------------------------- nodes
  /**
   * Creates a node with status `registered` and a random uint64 id (never 0 or 1).
   * @param publicKey - SPKI PEM bytes, compared byte-exactly, unique among the stored nodes. The
   *   key of an unregistered node may be registered again: the new node (new id) supersedes the
   *   old node's row, which is deleted (flwr-ts; Flower refuses such keys forever).
   * @throws PublicKeyInUseError when a node that is not unregistered has the key.
   */
  createNode(
    ownerAid: string,
    ownerName: string,
    publicKey: Uint8Array,
    heartbeatInterval: number,
  ): bigint;

  /**
   * Unregisters a node of `ownerAid` (terminal): status `unregistered`, `unregistered_at` now,
   * `online_until` clamped to now.
   * @throws NodeNotFoundError when unknown, already unregistered or owned by another account.
   */
  deleteNode(ownerAid: string, nodeId: bigint): void;

  /**
   * Marks a `registered` or `offline` node `online` until `now + 2 × interval`, updating
   * `last_activated_at` and `heartbeat_interval`. Applies lazy offline first.
   * @param options.reactivate - also accept a node that is still `online` (the flwr-ts
   *   fast-restart rule: the caller has proven possession of the node's key, so a SuperNode that
   *   crashed can come back at once instead of waiting out `online_until`; the Fleet API refuses
   *   it while the old session's connection is still open). The old session ends: every
   *   instruction it pulled and did not answer gets its NODE_UNAVAILABLE reply at once (see
   *   {@link getMessageRes}), and a `message-res` event is emitted for each.
   * @returns false when the node is unknown, unregistered, or online without `reactivate`.
   */
  activateNode(
    nodeId: bigint,
    heartbeatInterval: number,
    options?: { reactivate?: boolean },
  ): boolean;

  /**
   * Marks an `online` node `offline` now (`last_deactivated_at`, `online_until` = now); a
   * `message-res` event is emitted for each of its unanswered instructions.
   * @returns false when the node is not online (after lazy offline).
   */
  deactivateNode(nodeId: bigint): boolean;

  /**
   * A heartbeat: any non-unregistered node becomes/stays online until `now + 2 × interval`
   * (`last_activated_at` set when it was not online).
   * @returns false when the node is unknown or unregistered.
   */
  acknowledgeNodeHeartbeat(nodeId: bigint, heartbeatInterval: number): boolean;

  /** The id of the non-unregistered node with exactly these key bytes. */
  getNodeIdByPublicKey(publicKey: Uint8Array): bigint | undefined;

  /**
   * Node infos matching the filter (lazy offline applied first: online nodes whose
   * `online_until ≤ now` become offline with `last_deactivated_at` = their `online_until`).
   */
  getNodeInfo(filter?: NodeFilter): NodeInfo[];

  /** Ids of online nodes in the run's federation; empty for an unknown run. */
  getNodes(runId: bigint): Set<bigint>;

  // ---------------------------------------------------------------- runs
  /** Creates a `pending` run with a random uint64 id; returns the id. */
  createRun(input: CreateRunInput): bigint;

  /** Runs matching the filter (expired app tokens fail their runs first). */
  getRunInfo(filter?: RunFilter): Run[];

  /** One run, or undefined. */
  getRun(runId: bigint): Run | undefined;

  /** The serialized `SimulationConfig` given at creation, or undefined. */
  getFederationConfig(runId: bigint): Uint8Array | undefined;

  /** Statuses of the known runs among `runIds`. */
  getRunStatus(runIds: Iterable<bigint>): Map<bigint, RunStatus>;

  /**
   * Transitions a run: pending→starting→running→finished, pending/starting→finished (not
   * completed). Finished needs a sub-status in completed/failed/stopped; others need "".
   * Sets the matching `*_at` timestamp.
   * @returns false for an unknown run or an invalid transition.
   */
  updateRunStatus(runId: bigint, status: RunStatus): boolean;

  /**
   * Adds traffic to a run's counters.
   * @throws LinkStateArgumentError for negative values or both zero; RunNotFoundError.
   */
  storeTraffic(runId: bigint, traffic: { bytesSent: number; bytesRecv: number }): void;

  /** Adds ClientApp runtime (s) to a run. @throws RunNotFoundError. */
  addClientappRuntime(runId: bigint, runtime: number): void;

  // ---------------------------------------------------------------- messages
  /**
   * Stores an instruction (validated per protocol brief §6.4: id set, created_at ≥ 2025-02-28,
   * ttl > 0 and not expired, src = 1, dst ≠ 0/1, type set, exactly one of content/error, no
   * reply_to) for a known run and a destination node that is online or offline.
   */
  storeMessageIns(message: Message): StoreMessageResult;

  /**
   * Up to `limit` undelivered, unexpired instructions for `nodeId`, marked delivered.
   * Expired instructions met on the way are deleted.
   */
  getMessageIns(nodeId: bigint, limit?: number): Message[];

  /**
   * Stores a reply: valid reply (id, reply_to set, src ≠ 1, dst = 1, …), to a known unexpired
   * instruction whose dst is the reply's src, same run, and
   * `reply.created_at + reply.ttl ≤ ins.created_at + ins.ttl + 0.1`.
   */
  storeMessageRes(message: Message): StoreMessageResult;

  /**
   * For each instruction id: the undelivered reply (marked delivered), or a synthesized error
   * reply — MESSAGE_UNAVAILABLE (3) for an unknown/expired instruction, REPLY_MESSAGE_UNAVAILABLE
   * (4) for an expired reply, NODE_UNAVAILABLE (5) when the destination is unregistered, offline
   * or past its `online_until`, or when the instruction was pulled by an earlier session of the
   * node (`message-rules.ts`, `nodeUnavailableCause`; the reason says which) — or nothing while
   * the instruction still waits. Synthesized replies have src = dst = 1
   * and `message_id` = their object id; they are not stored (the caller puts their objects).
   */
  getMessageRes(messageIds: Iterable<string>): Message[];

  /** Deletes instructions and their replies. */
  deleteMessages(messageInsIds: Iterable<string>): void;

  /** Ids of the stored instructions of a run. */
  getMessageIdsFromRunId(runId: bigint): Set<string>;

  /** Number of stored instructions (delivered or not). */
  numMessageIns(): number;

  /** Number of stored replies (delivered or not). */
  numMessageRes(): number;

  // ---------------------------------------------------------------- contexts and logs
  /** The ServerApp context of a run. */
  getServerAppContext(runId: bigint): Context | undefined;

  /** Sets the ServerApp context. @throws RunNotFoundError. */
  setServerAppContext(runId: bigint, context: Context): void;

  /**
   * Appends ServerApp log text, stamped now, then deletes the run's oldest entries beyond
   * {@link LinkStateOptions.runLogMaxBytes}. @throws RunNotFoundError.
   */
  addServerAppLog(runId: bigint, text: string): void;

  /**
   * Log text with timestamp strictly after `afterTimestamp` (epoch s; all when undefined),
   * concatenated, and the latest timestamp returned (0 when nothing).
   * @throws RunNotFoundError.
   */
  getServerAppLog(
    runId: bigint,
    afterTimestamp?: number,
  ): { logs: string; latestTimestamp: number };

  // ---------------------------------------------------------------- FABs
  /** Stores a FAB under the SHA-256 of its content (last write wins). @throws LinkStateArgumentError on a hash mismatch. */
  storeFab(fab: Fab): string;

  /** A FAB by hash. */
  getFab(hash: string): Fab | undefined;

  // ---------------------------------------------------------------- app tokens
  /**
   * Creates the run's app token (256 hex chars), valid for {@link HEARTBEAT_DEFAULT_INTERVAL} s.
   * @returns undefined when the run already has one.
   */
  createToken(runId: bigint): string | undefined;

  /** True when `token` is the run's current, unexpired token. */
  verifyToken(runId: bigint, token: string): boolean;

  /** Deletes the run's token. */
  deleteToken(runId: bigint): void;

  /** The run of an unexpired token. */
  getRunIdByToken(token: string): bigint | undefined;

  /** Extends a token by `2 × 30 s`. @returns false for an unknown/expired token. */
  acknowledgeAppHeartbeat(token: string): boolean;

  // ---------------------------------------------------------------- Runtime API tasks
  // Flower 1.42's task model (`task-records.ts`, `task-lifecycle.ts`): every run has one
  // primary task, created by `createRun` (`flwr-serverapp`, or `flwr-simulation` for a
  // simulation run), whose status is the run's; a claimed task's token is the run's app token.

  /** The primary task of a run, or undefined for an unknown run. */
  getPrimaryTask(runId: bigint): Task | undefined;

  /** A task by id, or undefined. */
  getTask(taskId: bigint): Task | undefined;

  /**
   * Claims the oldest pending task whose type is in `types` (AcquireTask): creates its token
   * (valid {@link HEARTBEAT_DEFAULT_INTERVAL} s) and moves the run to `starting`.
   * @returns undefined when no task is eligible.
   */
  claimTask(types: readonly string[]): { task: Task; token: string } | undefined;

  /** The unfinished task of an unexpired token (expired tokens fail their runs first). */
  getTaskByToken(token: string): Task | undefined;

  /** Moves a `starting` task (and its run) to `running`. @returns false otherwise. */
  activateTask(taskId: bigint): boolean;

  /**
   * Finishes an unfinished task (and its run) with `subStatus` (`completed` only from
   * `running`) and revokes its token. @returns false for an unknown/finished task or a bad
   * sub-status.
   */
  finishTask(taskId: bigint, subStatus: string, details: string): boolean;

  // ---------------------------------------------------------------- nonces
  /**
   * Reserves `nonce` in `namespace` until `expiresAt` (epoch s).
   * @returns false for empty input or an active reservation.
   */
  reserveNonce(namespace: string, nonce: string, expiresAt: number): boolean;

  // ---------------------------------------------------------------- events and lifecycle
  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: LinkStateListener): () => void;

  /** Releases resources (closes the database). Idempotent. */
  close(): void;
}
