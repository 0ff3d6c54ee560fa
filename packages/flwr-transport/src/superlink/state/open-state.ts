/**
 * Opens the SuperLink's state from Flower's `--database` value:
 * - `:flwr-in-memory:` (the default) → {@link MemoryLinkState} + {@link MemoryObjectStore};
 * - `:memory:` (or `sqlite://`, `sqlite:///:memory:`) → SQLite in memory;
 * - a file path, or a `sqlite:///path` URL (`sqlite:////abs/path` is absolute, like
 *   SQLAlchemy) → a SQLite file; its directory must exist;
 * - `postgresql://user[:password]@host[:port]/database[?schema=name]` (or `postgres://`) →
 *   `PostgresLinkState` + `PostgresObjectStore`, shared by every SuperLink on that
 *   database and schema (`open-postgres-state.ts`).
 *
 * With SQLite both stores share one connection (one file, two schema components); the
 * connection closes when both stores are closed (or on {@link OpenedState.close}). A file is
 * opened exclusively (one SuperLink per database; `state.db.lock` names the holder). A
 * PostgreSQL database is shared on purpose: its stores lock per transaction, not per process.
 */
import { MemoryObjectStore } from "../../object-store/memory-object-store.js";
import type { ObjectStore } from "../../object-store/object-store.js";
import { SqliteObjectStore } from "../../object-store/sqlite-object-store.js";
import { removeLockHolder } from "./database-lock-file.js";
import type { LinkState, LinkStateOptions } from "./link-state.js";
import { MemoryLinkState } from "./memory-link-state.js";
import { openPostgresState } from "./open-postgres-state.js";
import { isPostgresUrl, parsePostgresUrl } from "./postgres-url.js";
import { openSqliteDatabase, SQLITE_MEMORY, StateDatabaseError } from "./sqlite-database.js";
import { SqliteLinkState } from "./sqlite-link-state.js";

/** Flower's name of the pure in-memory state (`FLWR_IN_MEMORY_DB_NAME`). */
export const FLWR_IN_MEMORY_DB_NAME = ":flwr-in-memory:";

/** Where a `--database` value points. */
export type DatabaseLocation =
  | { readonly kind: "memory" }
  | { readonly kind: "sqlite-memory" }
  | { readonly kind: "sqlite-file"; readonly file: string }
  /** PostgreSQL: `url` without its password. */
  | { readonly kind: "postgres"; readonly url: string; readonly schema: string };

/** The SuperLink's opened state. */
export interface OpenedState {
  /** Nodes, runs, messages, … */
  readonly linkState: LinkState;
  /** Message objects. */
  readonly objectStore: ObjectStore;
  /** What was opened. */
  readonly location: DatabaseLocation;
  /** Closes both stores (and the shared SQLite connection). Idempotent. */
  close(): void;
}

/**
 * Interprets a `--database` value.
 * @throws StateDatabaseError for an empty value, an unknown URL scheme or SQLite URL query
 *   parameters; PostgresStateError for a malformed PostgreSQL URL.
 */
export function parseDatabaseOption(database: string): DatabaseLocation {
  const value = database.trim();
  if (value === "") {
    throw new StateDatabaseError(
      database,
      `empty --database value; use ${FLWR_IN_MEMORY_DB_NAME} (default), :memory: or a file path`,
    );
  }
  if (value === FLWR_IN_MEMORY_DB_NAME) return { kind: "memory" };
  if (value === SQLITE_MEMORY) return { kind: "sqlite-memory" };
  if (isPostgresUrl(value)) {
    const pg = parsePostgresUrl(value);
    return { kind: "postgres", url: pg.url, schema: pg.schema };
  }
  if (value.startsWith("sqlite:")) {
    if (value === "sqlite://" || value === "sqlite:///" || value === "sqlite:///:memory:")
      return { kind: "sqlite-memory" };
    if (!value.startsWith("sqlite:///")) {
      throw new StateDatabaseError(
        database,
        "a SQLite URL is sqlite:///relative/path.db or sqlite:////absolute/path.db",
      );
    }
    if (value.includes("?")) {
      throw new StateDatabaseError(database, "SQLite URL query parameters are not supported");
    }
    return { kind: "sqlite-file", file: decodeURIComponent(value.slice("sqlite:///".length)) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new StateDatabaseError(
      database,
      "unsupported URL scheme: pass a file path, sqlite:///path, postgresql://user@host:port/db, :memory: or :flwr-in-memory:",
    );
  }
  return { kind: "sqlite-file", file: value };
}

/**
 * Opens the state for a `--database` value (see the module comment).
 * @param database - the `--database` value; default `:flwr-in-memory:`.
 * @param options - LinkState options (clock).
 * @throws StateDatabaseError with the file named: missing directory, not a SQLite file,
 *   corrupt, locked, foreign or newer schema; PostgresStateError (PostgreSQL): bad URL,
 *   unreachable server, refused login, missing database.
 */
export function openState(
  database: string = FLWR_IN_MEMORY_DB_NAME,
  options: LinkStateOptions = {},
): OpenedState {
  const location = parseDatabaseOption(database);
  if (location.kind === "memory") {
    const linkState = new MemoryLinkState(options);
    const objectStore = new MemoryObjectStore();
    return {
      linkState,
      objectStore,
      location,
      close() {
        linkState.close();
        objectStore.close();
      },
    };
  }
  if (location.kind === "postgres") {
    const { linkState, objectStore } = openPostgresState(database.trim(), options);
    return {
      linkState,
      objectStore,
      location,
      close() {
        linkState.close();
        objectStore.close();
      },
    };
  }
  // A file is held by this connection alone: a second SuperLink on it is refused at once.
  const db = openSqliteDatabase(location.kind === "sqlite-file" ? location.file : SQLITE_MEMORY, {
    exclusive: true,
  });
  const closeDb = () => {
    if (!db.open) return;
    db.close();
    if (db.name !== SQLITE_MEMORY) removeLockHolder(db.name);
  };
  let leases = 2;
  const release = () => {
    leases--;
    if (leases === 0) closeDb();
  };
  let linkState: SqliteLinkState | undefined;
  try {
    linkState = new SqliteLinkState({ ...options, database: db, onClose: release });
    const objectStore = new SqliteObjectStore({ database: db, onClose: release });
    const opened = linkState;
    return {
      linkState: opened,
      objectStore,
      location: location.kind === "sqlite-file" ? { kind: "sqlite-file", file: db.name } : location,
      close() {
        opened.close();
        objectStore.close();
      },
    };
  } catch (e) {
    closeDb();
    throw e;
  }
}
