/**
 * PostgreSQL {@link ObjectStore} (`--database postgresql://…`): {@link SqliteObjectStore}'s
 * statements on a {@link PostgresSqlDatabase} (see `postgres-sql-database.ts`), so the
 * reference-counting rules exist once. Bytes are `bytea`, one row per object: an object is read
 * and written on its own, never the whole store. Every method is one transaction under the
 * object store's advisory lock (separate from the LinkState's), so several SuperLinks can
 * share the objects of a run: a message pushed through one SuperLink is pulled through another.
 * The SQLite space reclamation (`incremental_vacuum`) has no counterpart: PostgreSQL's
 * autovacuum reuses the space of deleted rows.
 */
import type { PostgresBridge } from "../superlink/state/postgres-bridge.js";
import { PostgresSqlDatabase } from "../superlink/state/postgres-sql-database.js";
import type { SqliteDatabase } from "../superlink/state/sqlite-database.js";
import type { ObjectStore } from "./object-store.js";
import { SqliteObjectStore } from "./sqlite-object-store.js";

/** Options of {@link PostgresObjectStore}. */
export interface PostgresObjectStoreOptions {
  /** The connection (shared with the LinkState; closed by its owner). */
  readonly bridge: PostgresBridge;
  /** The redacted URL, for messages. */
  readonly name: string;
  /** Called once on close (release the bridge lease). */
  readonly onClose?: () => void;
}

/** The PostgreSQL object store (see the module comment). */
export class PostgresObjectStore extends SqliteObjectStore implements ObjectStore {
  /** @param options - the connection, its session's tables created (`postgres-schema.ts`). */
  constructor(options: PostgresObjectStoreOptions) {
    const database = new PostgresSqlDatabase(options.bridge, options.name, "objectstore");
    // The SQLite class only uses the better-sqlite3 API subset that PostgresSqlDatabase has.
    super({
      database: database as unknown as SqliteDatabase,
      ...(options.onClose ? { onClose: options.onClose } : {}),
    });
  }
}
