/**
 * SQLite {@link LinkState} (Flower's `SqlLinkState`) on better-sqlite3: the state survives a
 * restart of the SuperLink (`--database state.db`).
 *
 * Schema (component `linkstate`, version 2; see {@link LINK_STATE_MIGRATIONS}): Flower's tables
 * `node`, `run`, `logs`, `context`, `message_ins`, `message_res`, `token_store`, `nonce_store`,
 * `fab`, and (version 2) the Runtime API's `task`. uint64 ids (node, run) are stored as signed int64 with the same bits and read back as
 * `bigint` (never through a double). A run's status is derived from its timestamps like Flower
 * (`finished_at` set → finished, …); `override_config` and `context` are protobuf bytes; a
 * message's `content` column is an empty blob when content is present (messages are stored
 * without content; it travels as objects) and its `error` the protobuf `Error`.
 *
 * Every method runs in one `BEGIN IMMEDIATE` transaction, so another process writing the same
 * file waits (busy_timeout 5 s) instead of interleaving; events are emitted after the commit.
 * Semantics are those of {@link MemoryLinkState}; both pass `test/link-state.suite.ts`.
 */

import { createHash } from "node:crypto";
import {
  type Context,
  Context as ContextCodec,
  Error as ErrorCodec,
  type Fab,
  type Message,
  type NodeInfo,
  type Run,
  Run as RunCodec,
  type RunStatus,
  type Scalar,
} from "@flwr-ts/core/proto";
import type { Task } from "@flwr-ts/core/proto/runtime";
import type { Statement, Transaction } from "better-sqlite3";
import {
  type CreateRunInput,
  HEARTBEAT_DEFAULT_INTERVAL,
  HEARTBEAT_PATIENCE,
  type LinkState,
  LinkStateArgumentError,
  type LinkStateEvent,
  type LinkStateListener,
  type LinkStateOptions,
  type NodeFilter,
  NodeNotFoundError,
  NodeStatus,
  PublicKeyInUseError,
  RUN_FAILURE_DETAILS_NO_HEARTBEAT,
  type RunFilter,
  RunNotFoundError,
  RunStatusValue,
  RunSubStatus,
  type StoreMessageResult,
  SUPERLINK_NODE_ID,
} from "./link-state.js";
import {
  DEFAULT_RUN_LOG_MAX_BYTES,
  LOG_CACHE_RELEASE_BYTES,
  logEntryBytes,
} from "./log-retention.js";
import {
  checkReplyAgainstInstruction,
  instructionErrorReply,
  messageTtlHasExpired,
  messageUnavailableReply,
  nodeUnavailableCause,
  type SessionEnd,
  validateMessage,
} from "./message-rules.js";
import { isValidTransition } from "./run-rules.js";
import {
  asBuffer,
  fromSqliteInt64,
  migrateSchema,
  openSqliteDatabase,
  type SchemaMigration,
  type SqliteDatabase,
  toSqliteInt64,
} from "./sqlite-database.js";
import { LinkStateNotifier } from "./state-events.js";
import { isoTimestamp, newAppToken, randomUint64 } from "./state-values.js";
import {
  activateTask,
  claimTask,
  currentTask,
  finishTask,
  type TaskRecordLookup,
  taskByToken,
} from "./task-lifecycle.js";
import { primaryTaskTypeOf, type TaskRecord } from "./task-records.js";

/** Schema-version component name of the LinkState tables. */
export const LINK_STATE_COMPONENT = "linkstate";

/**
 * The LinkState migrations. Version 1: Flower's LinkState and CoreState tables; version 2: the
 * Runtime API's task table; version 3: `node.session_end`, how the node's last SuperNode session
 * ended (`message-rules.ts`, `SessionEnd`).
 */
export const LINK_STATE_MIGRATIONS: readonly SchemaMigration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE node (
        node_id INTEGER NOT NULL UNIQUE,
        owner_aid TEXT NOT NULL,
        owner_name TEXT NOT NULL,
        status TEXT NOT NULL,
        registered_at TEXT NOT NULL,
        last_activated_at TEXT,
        last_deactivated_at TEXT,
        unregistered_at TEXT,
        online_until REAL,
        heartbeat_interval REAL NOT NULL,
        public_key BLOB NOT NULL UNIQUE
      );
      CREATE INDEX idx_node_owner_aid ON node(owner_aid);
      CREATE INDEX idx_node_status ON node(status, online_until);
      CREATE TABLE run (
        run_id INTEGER NOT NULL UNIQUE,
        fab_id TEXT NOT NULL,
        fab_version TEXT NOT NULL,
        fab_hash TEXT NOT NULL,
        override_config BLOB NOT NULL,
        pending_at TEXT NOT NULL,
        starting_at TEXT NOT NULL DEFAULT '',
        running_at TEXT NOT NULL DEFAULT '',
        finished_at TEXT NOT NULL DEFAULT '',
        sub_status TEXT NOT NULL DEFAULT '',
        details TEXT NOT NULL DEFAULT '',
        federation TEXT NOT NULL,
        federation_config BLOB,
        run_type TEXT NOT NULL,
        flwr_aid TEXT NOT NULL,
        bytes_sent INTEGER NOT NULL DEFAULT 0,
        bytes_recv INTEGER NOT NULL DEFAULT 0,
        clientapp_runtime REAL NOT NULL DEFAULT 0.0
      );
      CREATE TABLE logs (
        timestamp REAL NOT NULL,
        run_id INTEGER NOT NULL REFERENCES run(run_id),
        node_id INTEGER NOT NULL,
        log TEXT NOT NULL,
        UNIQUE (timestamp, run_id, node_id)
      );
      CREATE INDEX idx_logs_run ON logs(run_id, timestamp);
      CREATE TABLE context (
        run_id INTEGER NOT NULL UNIQUE REFERENCES run(run_id),
        context BLOB NOT NULL
      );
      CREATE TABLE message_ins (
        message_id TEXT NOT NULL UNIQUE,
        group_id TEXT NOT NULL,
        run_id INTEGER NOT NULL REFERENCES run(run_id),
        src_node_id INTEGER NOT NULL,
        dst_node_id INTEGER NOT NULL,
        reply_to_message_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        delivered_at TEXT NOT NULL DEFAULT '',
        ttl REAL NOT NULL,
        message_type TEXT NOT NULL,
        content BLOB,
        error BLOB
      );
      CREATE INDEX idx_message_ins_dst ON message_ins(dst_node_id, delivered_at);
      CREATE INDEX idx_message_ins_run ON message_ins(run_id);
      CREATE INDEX idx_message_ins_expiry ON message_ins(created_at + ttl);
      CREATE TABLE message_res (
        message_id TEXT NOT NULL UNIQUE,
        group_id TEXT NOT NULL,
        run_id INTEGER NOT NULL REFERENCES run(run_id),
        src_node_id INTEGER NOT NULL,
        dst_node_id INTEGER NOT NULL,
        reply_to_message_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        delivered_at TEXT NOT NULL DEFAULT '',
        ttl REAL NOT NULL,
        message_type TEXT NOT NULL,
        content BLOB,
        error BLOB
      );
      CREATE INDEX idx_message_res_reply_to ON message_res(reply_to_message_id);
      CREATE TABLE token_store (
        run_id INTEGER PRIMARY KEY,
        token TEXT NOT NULL UNIQUE,
        active_until REAL NOT NULL
      );
      CREATE INDEX idx_token_store_active_until ON token_store(active_until);
      CREATE TABLE nonce_store (
        namespace TEXT NOT NULL,
        nonce TEXT NOT NULL,
        expires_at REAL NOT NULL,
        PRIMARY KEY (namespace, nonce)
      );
      CREATE INDEX idx_nonce_store_expires_at ON nonce_store(expires_at);
      CREATE TABLE fab (
        fab_hash TEXT PRIMARY KEY,
        content BLOB NOT NULL,
        verifications TEXT NOT NULL
      );
    `,
  },
  {
    // Flower 1.42's Runtime API tasks (`task-records.ts`): one primary task per run. Runs of a
    // version-1 database get theirs here (task id = run id), so they stay readable and a pending
    // one can still be acquired.
    version: 2,
    sql: `
      CREATE TABLE task (
        task_id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL UNIQUE,
        type TEXT NOT NULL,
        fab_hash TEXT
      );
      INSERT INTO task (task_id, run_id, type, fab_hash)
        SELECT run_id, run_id,
          CASE run_type WHEN 'simulation' THEN 'flwr-simulation' ELSE 'flwr-serverapp' END,
          NULLIF(fab_hash, '')
        FROM run;
    `,
  },
  {
    version: 3,
    sql: "ALTER TABLE node ADD COLUMN session_end TEXT NOT NULL DEFAULT '';",
  },
];

const OWN_TABLES = [
  "node",
  "run",
  "logs",
  "context",
  "message_ins",
  "message_res",
  "token_store",
  "nonce_store",
  "fab",
  "task",
] as const;

/** Options of {@link SqliteLinkState}. */
export interface SqliteLinkStateOptions extends LinkStateOptions {
  /** An open connection to use (shared with the SQLite ObjectStore). */
  database?: SqliteDatabase;
  /** Called once on {@link SqliteLinkState.close} when `database` was given (release a lease). */
  onClose?: () => void;
  /** `:memory:` or a file path, opened (and closed) by the state when `database` is absent. */
  location?: string;
}

interface NodeRow {
  node_id: bigint;
  owner_aid: string;
  owner_name: string;
  status: string;
  registered_at: string;
  last_activated_at: string | null;
  last_deactivated_at: string | null;
  unregistered_at: string | null;
  online_until: number | null;
  heartbeat_interval: number;
  public_key: Buffer;
  session_end: string;
}

interface RunRow {
  seq: bigint;
  run_id: bigint;
  fab_id: string;
  fab_version: string;
  fab_hash: string;
  override_config: Buffer;
  pending_at: string;
  starting_at: string;
  running_at: string;
  finished_at: string;
  sub_status: string;
  details: string;
  federation: string;
  federation_config: Buffer | null;
  run_type: string;
  flwr_aid: string;
  bytes_sent: bigint;
  bytes_recv: bigint;
  clientapp_runtime: number;
}

interface MessageRow {
  message_id: string;
  group_id: string;
  run_id: bigint;
  src_node_id: bigint;
  dst_node_id: bigint;
  reply_to_message_id: string;
  created_at: number;
  delivered_at: string;
  ttl: number;
  message_type: string;
  content: Buffer | null;
  error: Buffer | null;
}

const EMPTY_BLOB = Buffer.alloc(0);

function nodeFromRow(r: NodeRow): NodeInfo {
  return {
    nodeId: fromSqliteInt64(r.node_id),
    ownerAid: r.owner_aid,
    ownerName: r.owner_name,
    status: r.status,
    registeredAt: r.registered_at,
    lastActivatedAt: r.last_activated_at ?? undefined,
    lastDeactivatedAt: r.last_deactivated_at ?? undefined,
    unregisteredAt: r.unregistered_at ?? undefined,
    onlineUntil: r.online_until ?? undefined,
    heartbeatInterval: r.heartbeat_interval,
    publicKey: r.public_key,
  };
}

/** Flower derives a run's status from which timestamps are set. */
function statusFromRow(r: RunRow): RunStatus {
  const status = r.finished_at
    ? RunStatusValue.FINISHED
    : r.running_at
      ? RunStatusValue.RUNNING
      : r.starting_at
        ? RunStatusValue.STARTING
        : RunStatusValue.PENDING;
  return { status, subStatus: r.sub_status, details: r.details };
}

function runFromRow(r: RunRow): Run {
  return {
    runId: fromSqliteInt64(r.run_id),
    fabId: r.fab_id,
    fabVersion: r.fab_version,
    overrideConfig: decodeConfig(r.override_config),
    fabHash: r.fab_hash,
    pendingAt: r.pending_at,
    startingAt: r.starting_at,
    runningAt: r.running_at,
    finishedAt: r.finished_at,
    status: statusFromRow(r),
    flwrAid: r.flwr_aid,
    federation: r.federation,
    bytesSent: r.bytes_sent,
    bytesRecv: r.bytes_recv,
    clientappRuntime: r.clientapp_runtime,
    runType: r.run_type,
    seriesId: 0n,
    accountName: "",
  };
}

function encodeConfig(config: ReadonlyMap<string, Scalar>): Buffer {
  const bytes = RunCodec.encode(RunCodec.fromPartial({ overrideConfig: new Map(config) })).finish();
  return asBuffer(bytes);
}

function decodeConfig(bytes: Buffer): Map<string, Scalar> {
  return RunCodec.decode(bytes).overrideConfig;
}

function messageFromRow(r: MessageRow): Message {
  return {
    metadata: {
      runId: fromSqliteInt64(r.run_id),
      messageId: r.message_id,
      srcNodeId: fromSqliteInt64(r.src_node_id),
      dstNodeId: fromSqliteInt64(r.dst_node_id),
      replyToMessageId: r.reply_to_message_id,
      groupId: r.group_id,
      ttl: r.ttl,
      messageType: r.message_type,
      createdAt: r.created_at,
    },
    content: r.content === null ? undefined : { items: [] },
    error: r.error === null ? undefined : ErrorCodec.decode(r.error),
  };
}

function messageParams(message: Message) {
  const m = message.metadata!;
  return {
    message_id: m.messageId,
    group_id: m.groupId,
    run_id: toSqliteInt64(m.runId),
    src_node_id: toSqliteInt64(m.srcNodeId),
    dst_node_id: toSqliteInt64(m.dstNodeId),
    reply_to_message_id: m.replyToMessageId,
    created_at: m.createdAt,
    ttl: m.ttl,
    message_type: m.messageType,
    content: message.content !== undefined ? EMPTY_BLOB : null,
    error: message.error ? asBuffer(ErrorCodec.encode(message.error).finish()) : null,
  };
}

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

const MESSAGE_COLUMNS =
  "message_id, group_id, run_id, src_node_id, dst_node_id, reply_to_message_id, created_at, ttl, message_type, content, error";
const MESSAGE_VALUES =
  "@message_id, @group_id, @run_id, @src_node_id, @dst_node_id, @reply_to_message_id, @created_at, @ttl, @message_type, @content, @error";

/** The SQLite LinkState. */
export class SqliteLinkState implements LinkState {
  private readonly clock: () => number;
  private readonly notifier = new LinkStateNotifier();
  private readonly db: SqliteDatabase;
  private readonly ownsDb: boolean;
  private readonly onClose: (() => void) | undefined;
  private closed = false;
  private depth = 0;
  private pendingEvents: LinkStateEvent[] = [];
  private readonly txRunner: Transaction<(fn: () => unknown) => unknown>;
  private readonly s: Record<string, Statement>;
  private readonly runLogMaxBytes: number;
  /** UTF-8 bytes of each run's stored log, read from the table on a run's first new entry. */
  private readonly logBytes = new Map<bigint, number>();
  /** Log text written since SQLite's page cache was last released ({@link LOG_CACHE_RELEASE_BYTES}). */
  private logBytesSinceRelease = 0;

  /**
   * @param options - clock, and a shared connection or a location to open (default `:memory:`).
   * @throws StateDatabaseError when the database cannot be opened or has a foreign schema.
   */
  constructor(options: SqliteLinkStateOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.runLogMaxBytes = options.runLogMaxBytes ?? DEFAULT_RUN_LOG_MAX_BYTES;
    if (options.database) {
      this.db = options.database;
      this.ownsDb = false;
      this.onClose = options.onClose;
    } else {
      this.db = openSqliteDatabase(options.location ?? ":memory:");
      this.ownsDb = true;
      this.onClose = undefined;
    }
    try {
      migrateSchema(this.db, LINK_STATE_COMPONENT, LINK_STATE_MIGRATIONS, OWN_TABLES);
    } catch (e) {
      if (this.ownsDb) this.db.close();
      throw e;
    }
    const db = this.db;
    this.txRunner = db.transaction((fn: () => unknown) => fn());
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      nodeById: p("SELECT * FROM node WHERE node_id = ?"),
      nodeIdExists: p("SELECT 1 FROM node WHERE node_id = ?").pluck(),
      nodeByKey: p("SELECT node_id, status FROM node WHERE public_key = ?"),
      allNodes: p("SELECT * FROM node ORDER BY rowid"),
      onlineNodeIds: p("SELECT node_id FROM node WHERE status = 'online' ORDER BY rowid").pluck(),
      insertNode: p(
        `INSERT INTO node (node_id, owner_aid, owner_name, status, registered_at, heartbeat_interval, public_key)
         VALUES (@node_id, @owner_aid, @owner_name, 'registered', @registered_at, @heartbeat_interval, @public_key)`,
      ),
      expiredOnline: p(
        "SELECT node_id, online_until FROM node WHERE status = 'online' AND online_until <= ?",
      ),
      expiredOnlineOne: p(
        "SELECT node_id, online_until FROM node WHERE node_id = ? AND status = 'online' AND online_until <= ?",
      ),
      setOffline: p(
        "UPDATE node SET status = 'offline', last_deactivated_at = ?, online_until = ?, session_end = ? WHERE node_id = ?",
      ),
      setSessionEnd: p("UPDATE node SET session_end = ? WHERE node_id = ?"),
      deleteNodeRow: p("DELETE FROM node WHERE node_id = ?"),
      unansweredIns: p(
        `SELECT i.message_id, i.run_id, i.delivered_at FROM message_ins i
         WHERE i.dst_node_id = ? AND NOT EXISTS
           (SELECT 1 FROM message_res r WHERE r.reply_to_message_id = i.message_id)
         ORDER BY i.rowid`,
      ),
      unregisterNode: p(
        "UPDATE node SET status = 'unregistered', unregistered_at = ?, online_until = ? WHERE node_id = ?",
      ),
      activateNode: p(
        "UPDATE node SET status = 'online', last_activated_at = ?, online_until = ?, heartbeat_interval = ? WHERE node_id = ?",
      ),
      heartbeatNode: p(
        "UPDATE node SET online_until = ?, heartbeat_interval = ? WHERE node_id = ?",
      ),
      runExists: p("SELECT 1 FROM run WHERE run_id = ?").pluck(),
      runById: p("SELECT rowid AS seq, * FROM run WHERE run_id = ?"),
      allRuns: p("SELECT rowid AS seq, * FROM run ORDER BY rowid"),
      insertRun: p(
        `INSERT INTO run (run_id, fab_id, fab_version, fab_hash, override_config, pending_at, federation,
           federation_config, run_type, flwr_aid)
         VALUES (@run_id, @fab_id, @fab_version, @fab_hash, @override_config, @pending_at, @federation,
           @federation_config, @run_type, @flwr_aid)`,
      ),
      federationConfig: p("SELECT federation_config FROM run WHERE run_id = ?").pluck(),
      setStarting: p(
        "UPDATE run SET starting_at = ?, sub_status = ?, details = ? WHERE run_id = ?",
      ),
      setRunning: p("UPDATE run SET running_at = ?, sub_status = ?, details = ? WHERE run_id = ?"),
      setFinished: p(
        "UPDATE run SET finished_at = ?, sub_status = ?, details = ? WHERE run_id = ?",
      ),
      addTraffic: p(
        "UPDATE run SET bytes_sent = bytes_sent + ?, bytes_recv = bytes_recv + ? WHERE run_id = ?",
      ),
      addRuntime: p("UPDATE run SET clientapp_runtime = clientapp_runtime + ? WHERE run_id = ?"),
      insertIns: p(
        `INSERT OR REPLACE INTO message_ins (${MESSAGE_COLUMNS}) VALUES (${MESSAGE_VALUES})`,
      ),
      insById: p("SELECT * FROM message_ins WHERE message_id = ?"),
      expiredInsIds: p("SELECT message_id FROM message_ins WHERE created_at + ttl <= ?").pluck(),
      undeliveredIns: p(
        "SELECT * FROM message_ins WHERE dst_node_id = ? AND delivered_at = '' ORDER BY rowid LIMIT ?",
      ),
      setInsDelivered: p("UPDATE message_ins SET delivered_at = ? WHERE message_id = ?"),
      deleteIns: p("DELETE FROM message_ins WHERE message_id = ?"),
      insertRes: p(
        `INSERT OR REPLACE INTO message_res (${MESSAGE_COLUMNS}) VALUES (${MESSAGE_VALUES})`,
      ),
      resByInsId: p("SELECT * FROM message_res WHERE reply_to_message_id = ?"),
      setResDelivered: p("UPDATE message_res SET delivered_at = ? WHERE message_id = ?"),
      deleteResByIns: p("DELETE FROM message_res WHERE reply_to_message_id = ?"),
      insIdsOfRun: p("SELECT message_id FROM message_ins WHERE run_id = ? ORDER BY rowid").pluck(),
      countIns: p("SELECT count(*) FROM message_ins").pluck().safeIntegers(false),
      countRes: p("SELECT count(*) FROM message_res").pluck().safeIntegers(false),
      contextOf: p("SELECT context FROM context WHERE run_id = ?").pluck(),
      upsertContext: p(
        "INSERT INTO context (run_id, context) VALUES (?, ?) ON CONFLICT (run_id) DO UPDATE SET context = excluded.context",
      ),
      lastLogTimestamp: p("SELECT max(timestamp) FROM logs WHERE run_id = ?").pluck(),
      insertLog: p("INSERT INTO logs (timestamp, run_id, node_id, log) VALUES (?, ?, 0, ?)"),
      logBytesOf: p(
        "SELECT coalesce(sum(length(CAST(log AS BLOB))), 0) FROM logs WHERE run_id = ?",
      ).pluck(),
      oldestLogs: p(
        "SELECT rowid AS id, length(CAST(log AS BLOB)) AS bytes FROM logs WHERE run_id = ? ORDER BY timestamp LIMIT ?",
      ),
      deleteLog: p("DELETE FROM logs WHERE rowid = ?"),
      logsAfter: p(
        "SELECT timestamp, log FROM logs WHERE run_id = ? AND timestamp > ? ORDER BY timestamp",
      ),
      upsertFab: p(
        "INSERT INTO fab (fab_hash, content, verifications) VALUES (?, ?, ?) ON CONFLICT (fab_hash) DO UPDATE SET content = excluded.content, verifications = excluded.verifications",
      ),
      fabByHash: p("SELECT content, verifications FROM fab WHERE fab_hash = ?"),
      expiredTokens: p("SELECT run_id, active_until FROM token_store WHERE active_until < ?"),
      deleteTokenOfRun: p("DELETE FROM token_store WHERE run_id = ?"),
      tokenOfRun: p("SELECT token FROM token_store WHERE run_id = ?").pluck(),
      insertToken: p(
        "INSERT INTO token_store (run_id, token, active_until) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
      ),
      runOfToken: p("SELECT run_id FROM token_store WHERE token = ?").pluck(),
      extendToken: p("UPDATE token_store SET active_until = ? WHERE token = ?"),
      deleteExpiredNonces: p("DELETE FROM nonce_store WHERE expires_at < ?"),
      insertNonce: p(
        "INSERT INTO nonce_store (namespace, nonce, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
      ),
      taskIdExists: p("SELECT 1 FROM task WHERE task_id = ?").pluck(),
      insertTask: p("INSERT INTO task (task_id, run_id, type, fab_hash) VALUES (?, ?, ?, ?)"),
      taskById: p("SELECT * FROM task WHERE task_id = ?"),
      taskOfRun: p("SELECT * FROM task WHERE run_id = ?"),
    };
  }

  /** The connection used (shared or owned). */
  get database(): SqliteDatabase {
    return this.db;
  }

  // ------------------------------------------------------------------ plumbing

  /** Runs `fn` in one IMMEDIATE transaction (nested calls join it); emits events after commit. */
  private tx<T>(fn: () => T): T {
    this.checkOpen();
    if (this.depth > 0) return fn();
    this.depth++;
    let result: T;
    try {
      result = this.txRunner.immediate(fn) as T;
    } catch (e) {
      this.pendingEvents = [];
      throw e;
    } finally {
      this.depth--;
    }
    const events = this.pendingEvents;
    this.pendingEvents = [];
    for (const e of events) this.notifier.emit(e);
    return result;
  }

  private emit(event: LinkStateEvent): void {
    this.pendingEvents.push(event);
  }

  private checkOpen(): void {
    if (this.closed) throw new Error("the LinkState is closed");
  }

  private nowSeconds(): number {
    return this.clock() / 1000;
  }

  private nowIso(): string {
    return isoTimestamp(this.clock());
  }

  private nodeRow(nodeId: bigint): NodeRow | undefined {
    return this.s.nodeById!.get(toSqliteInt64(nodeId)) as NodeRow | undefined;
  }

  private runRow(runId: bigint): RunRow | undefined {
    return this.s.runById!.get(toSqliteInt64(runId)) as RunRow | undefined;
  }

  private runExists(runId: bigint): boolean {
    return this.s.runExists!.get(toSqliteInt64(runId)) !== undefined;
  }

  // ------------------------------------------------------------------ nodes

  createNode(
    ownerAid: string,
    ownerName: string,
    publicKey: Uint8Array,
    heartbeatInterval: number,
  ): bigint {
    try {
      return this.tx(() => {
        const key = asBuffer(publicKey);
        const previous = this.s.nodeByKey!.get(key) as
          | { node_id: bigint; status: string }
          | undefined;
        if (previous !== undefined) {
          // An unregistered node's key may be registered again: the new node supersedes its row.
          if (previous.status !== NodeStatus.UNREGISTERED) throw new PublicKeyInUseError();
          this.s.deleteNodeRow!.run(previous.node_id);
        }
        let nodeId = randomUint64([0n, SUPERLINK_NODE_ID]);
        while (this.s.nodeIdExists!.get(toSqliteInt64(nodeId)) !== undefined)
          nodeId = randomUint64([0n, SUPERLINK_NODE_ID]);
        this.s.insertNode!.run({
          node_id: toSqliteInt64(nodeId),
          owner_aid: ownerAid,
          owner_name: ownerName,
          registered_at: this.nowIso(),
          heartbeat_interval: heartbeatInterval,
          public_key: key,
        });
        this.emit({ type: "node", nodeId, status: NodeStatus.REGISTERED });
        return nodeId;
      });
    } catch (e) {
      // Another process registered the same key between our check and insert.
      if (isUniqueViolation(e)) throw new PublicKeyInUseError();
      throw e;
    }
  }

  deleteNode(ownerAid: string, nodeId: bigint): void {
    this.tx(() => {
      const node = this.nodeRow(nodeId);
      if (!node || node.status === NodeStatus.UNREGISTERED || node.owner_aid !== ownerAid)
        throw new NodeNotFoundError(nodeId);
      const now = this.clock();
      const onlineUntil = Math.min(node.online_until ?? now / 1000, now / 1000);
      this.s.unregisterNode!.run(isoTimestamp(now), onlineUntil, toSqliteInt64(nodeId));
      this.emit({ type: "node", nodeId, status: NodeStatus.UNREGISTERED });
      this.announceUnanswered(nodeId, false);
    });
  }

  /**
   * Emits a `message-res` event for each unanswered instruction to `nodeId` (only those pulled
   * before now when `pulledOnly`): its session ended, so a waiting ServerApp pulls its
   * NODE_UNAVAILABLE reply at once. Inside a transaction.
   */
  private announceUnanswered(nodeId: bigint, pulledOnly: boolean): void {
    const now = this.nowIso();
    const rows = this.s.unansweredIns!.all(toSqliteInt64(nodeId)) as {
      message_id: string;
      run_id: bigint;
      delivered_at: string;
    }[];
    for (const row of rows) {
      if (pulledOnly && (row.delivered_at === "" || row.delivered_at === now)) continue;
      this.emit({
        type: "message-res",
        runId: fromSqliteInt64(row.run_id),
        replyToMessageId: row.message_id,
      });
    }
  }

  /** Flower's lazy offline: online nodes past `online_until` become offline at that instant. */
  private tagOfflineNodes(nodeIds?: Iterable<bigint>): void {
    const now = this.nowSeconds();
    const rows: { node_id: bigint; online_until: number }[] = [];
    if (nodeIds === undefined) {
      rows.push(...(this.s.expiredOnline!.all(now) as typeof rows));
    } else {
      for (const id of nodeIds) {
        const row = this.s.expiredOnlineOne!.get(toSqliteInt64(id), now) as
          | (typeof rows)[number]
          | undefined;
        if (row) rows.push(row);
      }
    }
    for (const row of rows) {
      const heartbeat: SessionEnd = "heartbeat";
      this.s.setOffline!.run(
        isoTimestamp(row.online_until * 1000),
        row.online_until,
        heartbeat,
        row.node_id,
      );
      const nodeId = fromSqliteInt64(row.node_id);
      this.emit({ type: "node", nodeId, status: NodeStatus.OFFLINE });
      this.announceUnanswered(nodeId, false);
    }
  }

  activateNode(
    nodeId: bigint,
    heartbeatInterval: number,
    options: { reactivate?: boolean } = {},
  ): boolean {
    return this.tx(() => {
      this.tagOfflineNodes([nodeId]);
      const node = this.nodeRow(nodeId);
      if (!node) return false;
      const allowed =
        node.status === NodeStatus.REGISTERED ||
        node.status === NodeStatus.OFFLINE ||
        (options.reactivate === true && node.status === NodeStatus.ONLINE);
      if (!allowed) return false;
      // A new session of an online node: the old one ended (its SuperNode restarted).
      const restarted: SessionEnd = "restarted";
      if (node.status === NodeStatus.ONLINE)
        this.s.setSessionEnd!.run(restarted, toSqliteInt64(nodeId));
      const now = this.clock();
      this.s.activateNode!.run(
        isoTimestamp(now),
        now / 1000 + HEARTBEAT_PATIENCE * heartbeatInterval,
        heartbeatInterval,
        toSqliteInt64(nodeId),
      );
      this.emit({ type: "node", nodeId, status: NodeStatus.ONLINE });
      this.announceUnanswered(nodeId, true);
      return true;
    });
  }

  deactivateNode(nodeId: bigint): boolean {
    return this.tx(() => {
      this.tagOfflineNodes([nodeId]);
      const node = this.nodeRow(nodeId);
      if (node?.status !== NodeStatus.ONLINE) return false;
      const now = this.clock();
      const deactivated: SessionEnd = "deactivated";
      this.s.setOffline!.run(isoTimestamp(now), now / 1000, deactivated, toSqliteInt64(nodeId));
      this.emit({ type: "node", nodeId, status: NodeStatus.OFFLINE });
      this.announceUnanswered(nodeId, false);
      return true;
    });
  }

  acknowledgeNodeHeartbeat(nodeId: bigint, heartbeatInterval: number): boolean {
    return this.tx(() => {
      const node = this.nodeRow(nodeId);
      if (!node || node.status === NodeStatus.UNREGISTERED) return false;
      const now = this.clock();
      const onlineUntil = now / 1000 + HEARTBEAT_PATIENCE * heartbeatInterval;
      if (node.status === NodeStatus.ONLINE) {
        this.s.heartbeatNode!.run(onlineUntil, heartbeatInterval, toSqliteInt64(nodeId));
      } else {
        this.s.activateNode!.run(
          isoTimestamp(now),
          onlineUntil,
          heartbeatInterval,
          toSqliteInt64(nodeId),
        );
        this.emit({ type: "node", nodeId, status: NodeStatus.ONLINE });
      }
      return true;
    });
  }

  getNodeIdByPublicKey(publicKey: Uint8Array): bigint | undefined {
    this.checkOpen();
    const row = this.s.nodeByKey!.get(asBuffer(publicKey)) as
      | { node_id: bigint; status: string }
      | undefined;
    if (!row || row.status === NodeStatus.UNREGISTERED) return undefined;
    return fromSqliteInt64(row.node_id);
  }

  getNodeInfo(filter: NodeFilter = {}): NodeInfo[] {
    return this.tx(() => {
      this.tagOfflineNodes();
      let rows: NodeRow[];
      if (filter.nodeIds) {
        rows = [];
        for (const id of new Set(filter.nodeIds)) {
          const row = this.nodeRow(id);
          if (row) rows.push(row);
        }
      } else {
        rows = this.s.allNodes!.all() as NodeRow[];
      }
      const { ownerAids, statuses } = filter;
      return rows
        .filter(
          (r) =>
            (!ownerAids || ownerAids.includes(r.owner_aid)) &&
            (!statuses || statuses.includes(r.status)),
        )
        .map(nodeFromRow);
    });
  }

  getNodes(runId: bigint): Set<bigint> {
    return this.tx(() => {
      if (!this.runExists(runId)) return new Set<bigint>();
      this.tagOfflineNodes();
      return new Set((this.s.onlineNodeIds!.all() as bigint[]).map(fromSqliteInt64));
    });
  }

  // ------------------------------------------------------------------ runs

  createRun(input: CreateRunInput): bigint {
    return this.tx(() => {
      let runId = randomUint64();
      while (this.runExists(runId)) runId = randomUint64();
      this.s.insertRun!.run({
        run_id: toSqliteInt64(runId),
        fab_id: input.fabId,
        fab_version: input.fabVersion,
        fab_hash: input.fabHash,
        override_config: encodeConfig(input.overrideConfig),
        pending_at: this.nowIso(),
        federation: input.federation,
        federation_config: input.federationConfig ? Buffer.from(input.federationConfig) : null,
        run_type: input.runType,
        flwr_aid: input.flwrAid,
      });
      let taskId = randomUint64();
      while (this.s.taskIdExists!.get(toSqliteInt64(taskId))) taskId = randomUint64();
      this.s.insertTask!.run(
        toSqliteInt64(taskId),
        toSqliteInt64(runId),
        primaryTaskTypeOf(input.runType),
        input.fabHash || null,
      );
      this.emit({ type: "run", runId, status: RunStatusValue.PENDING });
      return runId;
    });
  }

  getRunInfo(filter: RunFilter = {}): Run[] {
    if (filter.limit !== undefined && !(Number.isInteger(filter.limit) && filter.limit >= 0))
      throw new LinkStateArgumentError(`limit must be a non-negative integer, got ${filter.limit}`);
    return this.tx(() => {
      this.cleanupExpiredTokens();
      const { runIds, statuses, flwrAids, federations } = filter;
      let rows: RunRow[];
      if (runIds) {
        const wanted = new Set(runIds);
        rows = [];
        for (const id of wanted) {
          const row = this.runRow(id);
          if (row) rows.push(row);
        }
      } else {
        rows = this.s.allRuns!.all() as RunRow[];
      }
      // Insertion order, like the in-memory state.
      if (runIds) rows.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
      let runs = rows.map(runFromRow);
      if (statuses) runs = runs.filter((r) => statuses.includes(r.status?.status ?? ""));
      if (flwrAids) runs = runs.filter((r) => flwrAids.includes(r.flwrAid));
      if (federations) runs = runs.filter((r) => federations.includes(r.federation));
      if (filter.orderBy === "pending_at") {
        const dir = filter.ascending === false ? -1 : 1;
        runs.sort((a, b) =>
          a.pendingAt < b.pendingAt ? -dir : a.pendingAt > b.pendingAt ? dir : 0,
        );
      }
      if (filter.limit !== undefined) runs = runs.slice(0, filter.limit);
      return runs;
    });
  }

  getRun(runId: bigint): Run | undefined {
    return this.tx(() => {
      this.cleanupExpiredTokens();
      const row = this.runRow(runId);
      return row ? runFromRow(row) : undefined;
    });
  }

  getFederationConfig(runId: bigint): Uint8Array | undefined {
    this.checkOpen();
    const config = this.s.federationConfig!.get(toSqliteInt64(runId)) as Buffer | null | undefined;
    return config ?? undefined;
  }

  getRunStatus(runIds: Iterable<bigint>): Map<bigint, RunStatus> {
    return this.tx(() => {
      this.cleanupExpiredTokens();
      const out = new Map<bigint, RunStatus>();
      for (const id of runIds) {
        const row = this.runRow(id);
        if (row) out.set(id, statusFromRow(row));
      }
      return out;
    });
  }

  updateRunStatus(runId: bigint, status: RunStatus): boolean {
    return this.tx(() => {
      this.cleanupExpiredTokens();
      const row = this.runRow(runId);
      if (!row) return false;
      if (!isValidTransition(statusFromRow(row), status)) return false;
      const now = this.nowIso();
      const id = toSqliteInt64(runId);
      if (status.status === RunStatusValue.STARTING)
        this.s.setStarting!.run(now, status.subStatus, status.details, id);
      else if (status.status === RunStatusValue.RUNNING)
        this.s.setRunning!.run(now, status.subStatus, status.details, id);
      else if (status.status === RunStatusValue.FINISHED)
        this.s.setFinished!.run(now, status.subStatus, status.details, id);
      else return false;
      this.emit({ type: "run", runId, status: status.status });
      return true;
    });
  }

  storeTraffic(runId: bigint, traffic: { bytesSent: number; bytesRecv: number }): void {
    const { bytesSent, bytesRecv } = traffic;
    if (!(Number.isSafeInteger(bytesSent) && Number.isSafeInteger(bytesRecv)))
      throw new LinkStateArgumentError(`traffic must be integers, got ${bytesSent}/${bytesRecv}`);
    if (bytesSent < 0 || bytesRecv < 0)
      throw new LinkStateArgumentError(
        `Negative traffic values for run ${runId}: bytes_sent=${bytesSent}, bytes_recv=${bytesRecv}`,
      );
    if (bytesSent === 0 && bytesRecv === 0)
      throw new LinkStateArgumentError(
        `Both bytes_sent and bytes_recv cannot be zero for run ${runId}`,
      );
    this.tx(() => {
      const info = this.s.addTraffic!.run(
        BigInt(bytesSent),
        BigInt(bytesRecv),
        toSqliteInt64(runId),
      );
      if (info.changes === 0) throw new RunNotFoundError(runId);
    });
  }

  addClientappRuntime(runId: bigint, runtime: number): void {
    this.tx(() => {
      const info = this.s.addRuntime!.run(runtime, toSqliteInt64(runId));
      if (info.changes === 0) throw new RunNotFoundError(runId);
    });
  }

  // ------------------------------------------------------------------ messages

  storeMessageIns(message: Message): StoreMessageResult {
    const errors = validateMessage(message, false, this.nowSeconds());
    if (errors.length > 0) return { ok: false, reason: errors.join("; ") };
    const m = message.metadata!;
    return this.tx((): StoreMessageResult => {
      if (!this.runExists(m.runId))
        return { ok: false, reason: `Invalid run ID for Message: ${m.runId}` };
      this.tagOfflineNodes([m.dstNodeId]);
      const dst = this.nodeRow(m.dstNodeId);
      if (!dst || (dst.status !== NodeStatus.ONLINE && dst.status !== NodeStatus.OFFLINE))
        return { ok: false, reason: `Invalid destination node ID for Message: ${m.dstNodeId}` };
      this.s.insertIns!.run(messageParams(message));
      this.emit({
        type: "message-ins",
        runId: m.runId,
        dstNodeId: m.dstNodeId,
        messageId: m.messageId,
        groupId: m.groupId,
        messageType: m.messageType,
      });
      return { ok: true, messageId: m.messageId };
    });
  }

  /** Deletes the instruction if it expired; returns it when still valid. */
  private validIns(messageId: string, nowSeconds: number): MessageRow | undefined {
    const row = this.s.insById!.get(messageId) as MessageRow | undefined;
    if (!row) return undefined;
    if (row.created_at + row.ttl <= nowSeconds) {
      this.deleteMessagesInTx([messageId]);
      return undefined;
    }
    return row;
  }

  getMessageIns(nodeId: bigint, limit?: number): Message[] {
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1))
      throw new LinkStateArgumentError("`limit` must be >= 1");
    return this.tx(() => {
      const now = this.nowSeconds();
      this.deleteMessagesInTx(this.s.expiredInsIds!.all(now) as string[]);
      const rows = this.s.undeliveredIns!.all(toSqliteInt64(nodeId), limit ?? -1) as MessageRow[];
      const deliveredAt = this.nowIso();
      for (const r of rows) this.s.setInsDelivered!.run(deliveredAt, r.message_id);
      return rows.map(messageFromRow);
    });
  }

  storeMessageRes(message: Message): StoreMessageResult {
    const now = this.nowSeconds();
    const errors = validateMessage(message, true, now);
    if (errors.length > 0) return { ok: false, reason: errors.join("; ") };
    const m = message.metadata!;
    return this.tx((): StoreMessageResult => {
      const ins = this.validIns(m.replyToMessageId, now);
      if (!ins)
        return { ok: false, reason: `Message with ID ${m.replyToMessageId} does not exist.` };
      const problem = checkReplyAgainstInstruction(m, messageFromRow(ins).metadata!);
      if (problem) return { ok: false, reason: problem };
      this.s.deleteResByIns!.run(m.replyToMessageId);
      this.s.insertRes!.run(messageParams(message));
      this.emit({ type: "message-res", runId: m.runId, replyToMessageId: m.replyToMessageId });
      return { ok: true, messageId: m.messageId };
    });
  }

  getMessageRes(messageIds: Iterable<string>): Message[] {
    return this.tx(() => {
      const now = this.nowSeconds();
      const out: Message[] = [];
      const deliveredAt = this.nowIso();
      for (const id of new Set(messageIds)) {
        const ins = this.validIns(id, now);
        if (!ins) {
          out.push(messageUnavailableReply(id, now));
          continue;
        }
        const insMeta = messageFromRow(ins).metadata!;
        const res = this.s.resByInsId!.get(id) as MessageRow | undefined;
        if (res) {
          if (res.delivered_at !== "") continue;
          this.s.setResDelivered!.run(deliveredAt, res.message_id);
          const reply = messageFromRow(res);
          out.push(
            messageTtlHasExpired(reply.metadata!, now)
              ? instructionErrorReply(insMeta, "reply-unavailable", now)
              : reply,
          );
          continue;
        }
        const dst = this.nodeRow(insMeta.dstNodeId);
        const cause = nodeUnavailableCause(
          ins.delivered_at,
          dst && {
            status: dst.status,
            onlineUntil: dst.online_until ?? undefined,
            lastActivatedAt: dst.last_activated_at ?? undefined,
            sessionEnd: dst.session_end as SessionEnd,
          },
          now,
        );
        if (cause) out.push(instructionErrorReply(insMeta, "node-unavailable", now, cause));
      }
      return out;
    });
  }

  private deleteMessagesInTx(messageInsIds: Iterable<string>): void {
    for (const id of messageInsIds) {
      this.s.deleteResByIns!.run(id);
      this.s.deleteIns!.run(id);
    }
  }

  deleteMessages(messageInsIds: Iterable<string>): void {
    this.tx(() => this.deleteMessagesInTx(messageInsIds));
  }

  getMessageIdsFromRunId(runId: bigint): Set<string> {
    this.checkOpen();
    return new Set(this.s.insIdsOfRun!.all(toSqliteInt64(runId)) as string[]);
  }

  numMessageIns(): number {
    this.checkOpen();
    return this.s.countIns!.get() as number;
  }

  numMessageRes(): number {
    this.checkOpen();
    return this.s.countRes!.get() as number;
  }

  // ------------------------------------------------------------------ contexts and logs

  getServerAppContext(runId: bigint): Context | undefined {
    this.checkOpen();
    const bytes = this.s.contextOf!.get(toSqliteInt64(runId)) as Buffer | undefined;
    return bytes ? ContextCodec.decode(bytes) : undefined;
  }

  setServerAppContext(runId: bigint, context: Context): void {
    this.tx(() => {
      if (!this.runExists(runId)) throw new RunNotFoundError(runId);
      this.s.upsertContext!.run(
        toSqliteInt64(runId),
        asBuffer(ContextCodec.encode(context).finish()),
      );
    });
  }

  addServerAppLog(runId: bigint, text: string): void {
    this.tx(() => {
      if (!this.runExists(runId)) throw new RunNotFoundError(runId);
      const id = toSqliteInt64(runId);
      const last = (this.s.lastLogTimestamp!.get(id) as number | null) ?? 0;
      // Keep timestamps strictly increasing so "after latest" never skips a line.
      const timestamp = Math.max(this.nowSeconds(), last + 1e-6);
      const inserted = this.s.insertLog!.run(timestamp, id, text).lastInsertRowid;
      const before =
        this.logBytes.get(runId) ?? Number(this.s.logBytesOf!.get(id)) - logEntryBytes(text);
      let total = before + logEntryBytes(text);
      while (total > this.runLogMaxBytes) {
        const oldest = this.s.oldestLogs!.all(id, 256) as {
          id: number | bigint;
          bytes: number | bigint;
        }[];
        let deleted = 0;
        for (const row of oldest) {
          if (total <= this.runLogMaxBytes || BigInt(row.id) === BigInt(inserted)) break;
          this.s.deleteLog!.run(row.id);
          total -= Number(row.bytes);
          deleted++;
        }
        if (deleted < oldest.length || oldest.length === 0) break;
      }
      this.logBytes.set(runId, total);
      this.emit({ type: "log", runId });
    });
    this.logBytesSinceRelease += logEntryBytes(text);
    // Outside any transaction: pages are only releasable once committed.
    if (this.logBytesSinceRelease >= LOG_CACHE_RELEASE_BYTES && this.depth === 0) {
      this.logBytesSinceRelease = 0;
      this.db.pragma("shrink_memory");
    }
  }

  getServerAppLog(
    runId: bigint,
    afterTimestamp?: number,
  ): { logs: string; latestTimestamp: number } {
    this.checkOpen();
    if (!this.runExists(runId)) throw new RunNotFoundError(runId);
    const rows = this.s.logsAfter!.all(toSqliteInt64(runId), afterTimestamp ?? 0) as {
      timestamp: number;
      log: string;
    }[];
    return {
      logs: rows.map((r) => r.log).join(""),
      latestTimestamp: rows.length > 0 ? rows[rows.length - 1]!.timestamp : 0,
    };
  }

  // ------------------------------------------------------------------ FABs

  storeFab(fab: Fab): string {
    this.checkOpen();
    const hash = createHash("sha256").update(fab.content).digest("hex");
    if (fab.hashStr && fab.hashStr !== hash)
      throw new LinkStateArgumentError(
        `FAB hash mismatch: provided ${fab.hashStr}, computed ${hash}`,
      );
    this.tx(() => {
      this.s.upsertFab!.run(
        hash,
        asBuffer(fab.content),
        JSON.stringify(Object.fromEntries(fab.verifications)),
      );
    });
    return hash;
  }

  getFab(hash: string): Fab | undefined {
    this.checkOpen();
    const row = this.s.fabByHash!.get(hash) as
      | { content: Buffer; verifications: string }
      | undefined;
    if (!row) return undefined;
    const parsed = JSON.parse(row.verifications) as Record<string, string>;
    return { hashStr: hash, content: row.content, verifications: new Map(Object.entries(parsed)) };
  }

  // ------------------------------------------------------------------ tokens

  private cleanupExpiredTokens(): void {
    const now = this.nowSeconds();
    const expired = this.s.expiredTokens!.all(now) as { run_id: bigint; active_until: number }[];
    for (const t of expired) {
      this.s.deleteTokenOfRun!.run(t.run_id);
      const row = this.s.runById!.get(t.run_id) as RunRow | undefined;
      if (row && !row.finished_at) {
        this.s.setFinished!.run(
          isoTimestamp(t.active_until * 1000),
          RunSubStatus.FAILED,
          RUN_FAILURE_DETAILS_NO_HEARTBEAT,
          t.run_id,
        );
        this.emit({
          type: "run",
          runId: fromSqliteInt64(t.run_id),
          status: RunStatusValue.FINISHED,
        });
      }
    }
  }

  createToken(runId: bigint): string | undefined {
    return this.tx(() => {
      const token = newAppToken();
      const info = this.s.insertToken!.run(
        toSqliteInt64(runId),
        token,
        this.nowSeconds() + HEARTBEAT_DEFAULT_INTERVAL,
      );
      return info.changes === 1 ? token : undefined;
    });
  }

  verifyToken(runId: bigint, token: string): boolean {
    return this.tx(() => {
      this.cleanupExpiredTokens();
      return this.s.tokenOfRun!.get(toSqliteInt64(runId)) === token;
    });
  }

  deleteToken(runId: bigint): void {
    this.tx(() => {
      this.s.deleteTokenOfRun!.run(toSqliteInt64(runId));
    });
  }

  getRunIdByToken(token: string): bigint | undefined {
    return this.tx(() => {
      this.cleanupExpiredTokens();
      const id = this.s.runOfToken!.get(token) as bigint | undefined;
      return id === undefined ? undefined : fromSqliteInt64(id);
    });
  }

  acknowledgeAppHeartbeat(token: string): boolean {
    return this.tx(() => {
      this.cleanupExpiredTokens();
      const info = this.s.extendToken!.run(
        this.nowSeconds() + HEARTBEAT_PATIENCE * HEARTBEAT_DEFAULT_INTERVAL,
        token,
      );
      return info.changes === 1;
    });
  }

  // ------------------------------------------------------------------ Runtime API tasks

  private readonly taskLookup: TaskRecordLookup = {
    byTaskId: (taskId) => taskFromRow(this.s.taskById!.get(toSqliteInt64(taskId))),
    byRunId: (runId) => taskFromRow(this.s.taskOfRun!.get(toSqliteInt64(runId))),
  };

  getPrimaryTask(runId: bigint): Task | undefined {
    return this.tx(() => currentTask(this, this.taskLookup.byRunId(runId)));
  }

  getTask(taskId: bigint): Task | undefined {
    return this.tx(() => currentTask(this, this.taskLookup.byTaskId(taskId)));
  }

  claimTask(types: readonly string[]): { task: Task; token: string } | undefined {
    return this.tx(() => claimTask(this, this.taskLookup, types));
  }

  getTaskByToken(token: string): Task | undefined {
    return this.tx(() => taskByToken(this, this.taskLookup, token));
  }

  activateTask(taskId: bigint): boolean {
    return this.tx(() => activateTask(this, this.taskLookup, taskId));
  }

  finishTask(taskId: bigint, subStatus: string, details: string): boolean {
    return this.tx(() => finishTask(this, this.taskLookup, taskId, subStatus, details));
  }

  // ------------------------------------------------------------------ nonces

  reserveNonce(namespace: string, nonce: string, expiresAt: number): boolean {
    if (namespace === "" || nonce === "") return false;
    return this.tx(() => {
      this.s.deleteExpiredNonces!.run(this.nowSeconds());
      return this.s.insertNonce!.run(namespace, nonce, expiresAt).changes === 1;
    });
  }

  // ------------------------------------------------------------------ events and lifecycle

  subscribe(listener: LinkStateListener): () => void {
    return this.notifier.subscribe(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.notifier.clear();
    if (this.ownsDb) this.db.close();
    else this.onClose?.();
  }
}

interface TaskRow {
  task_id: bigint;
  run_id: bigint;
  type: string;
  fab_hash: string | null;
}

function taskFromRow(row: unknown): TaskRecord | undefined {
  if (row === undefined) return undefined;
  const r = row as TaskRow;
  return {
    taskId: fromSqliteInt64(r.task_id),
    runId: fromSqliteInt64(r.run_id),
    type: r.type,
    fabHash: r.fab_hash ?? undefined,
  };
}
