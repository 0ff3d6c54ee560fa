/**
 * PostgreSQL `LinkState`: several SuperLinks share one database (`--database
 * postgresql://…`).
 *
 * Design (see also the transport README, "Several SuperLinks on PostgreSQL"):
 * - **Same rules as SQLite.** This class is {@link SqliteLinkState} running on a
 *   {@link PostgresSqlDatabase}: the SQLite statements translated to PostgreSQL, executed
 *   synchronously through a worker thread that owns the node-postgres connection
 *   (`postgres-bridge.ts`), because the LinkState interface is synchronous by design.
 * - **Atomic across SuperLinks.** Every method is one transaction holding a transaction-level
 *   advisory lock (one per schema and component), so check-then-act sequences (register a key,
 *   claim a task, store a reply once) cannot interleave between SuperLink processes. The cost
 *   is that LinkState writes are serialized database-wide; reads outside transactions are not.
 * - **Wake-ups across SuperLinks.** Each event a method emits after its commit is also sent
 *   with `pg_notify` on channel {@link POSTGRES_STATE_CHANNEL}; the worker `LISTEN`s, and
 *   events of other SuperLinks (same schema) are emitted to this state's listeners, so
 *   `waitForChange` (long-polling) wakes up whichever SuperLink stored the message. No polling.
 * - **Per process:** listeners, the log-size cache of log retention (a run's logs are written
 *   through the SuperLink its ServerApp is connected to), and everything outside the LinkState
 *   (the replay cache of SuperNode authentication, gRPC sessions).
 */
import type { LinkStateEvent, LinkStateListener, LinkStateOptions } from "./link-state.js";
import type { PostgresBridge } from "./postgres-bridge.js";
import { PostgresSqlDatabase } from "./postgres-sql-database.js";
import type { SqliteDatabase } from "./sqlite-database.js";
import { SqliteLinkState } from "./sqlite-link-state.js";
import { LinkStateNotifier } from "./state-events.js";

/** The LISTEN/NOTIFY channel of LinkState events. */
export const POSTGRES_STATE_CHANNEL = "flwr_linkstate";

/** Options of {@link PostgresLinkState}. */
export interface PostgresLinkStateOptions extends LinkStateOptions {
  /** The connection (shared with the ObjectStore; closed by its owner). */
  readonly bridge: PostgresBridge;
  /** The redacted URL, for messages. */
  readonly name: string;
  /** The schema of the tables: events of other schemas are ignored. */
  readonly schema: string;
  /** Called once on close (release the bridge lease). */
  readonly onClose?: () => void;
}

const BIGINT_FIELDS = ["runId", "dstNodeId", "nodeId"] as const;
const EVENT_TYPES = new Set(["message-ins", "message-res", "run", "node", "log"]);

/** An event as a notification payload. */
function encodeEvent(origin: string, schema: string, event: LinkStateEvent): string {
  const e: Record<string, unknown> = { ...event };
  for (const f of BIGINT_FIELDS) if (typeof e[f] === "bigint") e[f] = String(e[f]);
  return JSON.stringify({ o: origin, s: schema, e });
}

/** A payload back to an event, or undefined when it is not one of ours (or malformed). */
function decodeEvent(
  payload: string,
): { origin: string; schema: string; event: LinkStateEvent } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const p = parsed as { o?: unknown; s?: unknown; e?: Record<string, unknown> };
  if (typeof p?.o !== "string" || typeof p.s !== "string" || typeof p.e !== "object" || !p.e) {
    return undefined;
  }
  const e = { ...p.e };
  if (typeof e.type !== "string" || !EVENT_TYPES.has(e.type)) return undefined;
  for (const f of BIGINT_FIELDS) {
    if (f in e) {
      if (typeof e[f] !== "string" || !/^\d+$/.test(e[f] as string)) return undefined;
      e[f] = BigInt(e[f] as string);
    }
  }
  return { origin: p.o, schema: p.s, event: e as unknown as LinkStateEvent };
}

/** The PostgreSQL LinkState (see the module comment). */
export class PostgresLinkState extends SqliteLinkState {
  private readonly remote = new LinkStateNotifier();
  private readonly origin = crypto.randomUUID();
  private readonly schema: string;

  /**
   * @param options - the connection (its session's `search_path` already set to `schema` and
   *   the tables created, `postgres-schema.ts`), clock and log cap.
   */
  constructor(options: PostgresLinkStateOptions) {
    const { bridge, name, schema, onClose, ...stateOptions } = options;
    const database = new PostgresSqlDatabase(bridge, name, "linkstate");
    // The SQLite class only uses the better-sqlite3 API subset that PostgresSqlDatabase has.
    super({ ...stateOptions, database: database as unknown as SqliteDatabase, onClose });
    this.schema = schema;
    super.subscribe((event) => bridge.notify(encodeEvent(this.origin, schema, event)));
  }

  /** Listeners get the events of this SuperLink and, by notification, of the others. */
  override subscribe(listener: LinkStateListener): () => void {
    const local = super.subscribe(listener);
    const remote = this.remote.subscribe(listener);
    return () => {
      local();
      remote();
    };
  }

  /**
   * Hands a notification payload of {@link POSTGRES_STATE_CHANNEL} to the listeners when it is
   * an event of another SuperLink on this schema (called by the opener's bridge).
   */
  receiveNotification(payload: string): void {
    const decoded = decodeEvent(payload);
    if (!decoded || decoded.origin === this.origin || decoded.schema !== this.schema) return;
    this.remote.emit(decoded.event);
  }

  override close(): void {
    this.remote.clear();
    super.close();
  }
}
