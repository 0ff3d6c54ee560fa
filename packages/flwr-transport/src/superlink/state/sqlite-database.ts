/**
 * Opening the SuperLink's SQLite database (better-sqlite3) with Flower's pragmas, clear errors
 * for files that are not SQLite databases, and per-component schema versions.
 *
 * Pragmas (Flower's `SQLITE_PRAGMAS`): `busy_timeout=5000`, `journal_mode=WAL`,
 * `synchronous=NORMAL`, `foreign_keys=ON`, `cache_size=-64000`, `temp_store=MEMORY`.
 * Integers are read as `bigint` (`defaultSafeIntegers(true)`), so 64-bit ids never lose
 * precision.
 *
 * Schema versions: table `schema_version(component TEXT PRIMARY KEY, version INTEGER)`, one row
 * per component (`linkstate`, `objectstore`) sharing the file; each component migrates its own
 * tables in one transaction ({@link migrateSchema}).
 *
 * better-sqlite3 is an optional dependency (it compiles a native addon; the default
 * `:flwr-in-memory:` state does not need it): it is loaded on the first open, and a missing or
 * unbuilt addon is a {@link StateDatabaseError} that says what to install.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import type Database from "better-sqlite3";
import { describeLockHolder, writeLockHolder } from "./database-lock-file.js";

/** A better-sqlite3 connection. */
export type SqliteDatabase = Database.Database;

/** The location meaning an in-memory SQLite database. */
export const SQLITE_MEMORY = ":memory:";

/** Milliseconds a writer waits for a lock held by another connection. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

const SQLITE_MAGIC = "SQLite format 3\0";

/** Options of {@link openSqliteDatabase}. */
export interface OpenSqliteOptions {
  /**
   * Hold the file for this connection alone (`locking_mode = EXCLUSIVE`, taken at open, released
   * when the connection closes or the process dies) and name this process in the lock file beside
   * it (`database-lock-file.ts`): a second opener fails at once with a {@link StateDatabaseError}
   * naming the holder. Used by the SuperLink (one SuperLink per database); other processes cannot
   * read the file meanwhile. Default false (shared, as Flower).
   */
  readonly exclusive?: boolean;
}

/** The database cannot be opened, is not a SQLite database, or has an unknown schema. */
export class StateDatabaseError extends Error {
  /** The database file concerned (`:memory:` for an in-memory database). */
  readonly file: string;

  /** @param file - file concerned. @param message - what is wrong and what to do. @param cause - underlying error. */
  constructor(file: string, message: string, cause?: unknown) {
    super(`SQLite database '${file}': ${message}`, { cause });
    this.name = "StateDatabaseError";
    this.file = file;
  }
}

let driver: typeof Database | undefined;

/**
 * better-sqlite3's constructor, loaded on first use.
 * @throws StateDatabaseError naming the package to install when it is missing or its native
 *   addon was not built.
 */
function sqliteDriver(file: string): typeof Database {
  if (driver) return driver;
  try {
    driver = createRequire(import.meta.url)("better-sqlite3") as typeof Database;
    return driver;
  } catch (e) {
    throw new StateDatabaseError(
      file,
      `SQLite needs the optional package better-sqlite3, which is not installed or not built ` +
        `(${errorText(e).split("\n")[0]}). Install it beside @flwr-ts/transport with ` +
        "`npm install better-sqlite3` (it compiles a native addon: a C/C++ toolchain and Python " +
        "are needed), or use the default in-memory state (--database :flwr-in-memory:).",
      e,
    );
  }
}

/**
 * Opens (creating if absent) a SQLite database file, or an in-memory one for `:memory:`, and
 * applies Flower's pragmas.
 * @param location - `:memory:` or a file path (relative paths are resolved against the cwd).
 * @param options - `exclusive`: one connection holds the file (see {@link OpenSqliteOptions}).
 * @throws StateDatabaseError when the directory does not exist, the path is a directory, the
 *   file is not a SQLite database (it is never overwritten), SQLite refuses to open it, or
 *   (`exclusive`) another connection holds it.
 */
export function openSqliteDatabase(
  location: string,
  options: OpenSqliteOptions = {},
): SqliteDatabase {
  const file = location === SQLITE_MEMORY ? SQLITE_MEMORY : resolve(location);
  const exclusive = options.exclusive === true && file !== SQLITE_MEMORY;
  if (file !== SQLITE_MEMORY) checkDatabaseFile(file);
  const Driver = sqliteDriver(file);
  let db: SqliteDatabase;
  try {
    db = new Driver(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  } catch (e) {
    throw new StateDatabaseError(file, `cannot open: ${errorText(e)}`, e);
  }
  try {
    if (exclusive) {
      // Before the first read: SQLite then takes the lock at that read and never shares it
      // (in WAL mode without a shared-memory index). A holder makes the next read fail at once.
      db.pragma("locking_mode = EXCLUSIVE");
      db.pragma("busy_timeout = 0");
    } else {
      db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    }
    // Reading the schema detects files that are not databases (SQLITE_NOTADB) or corrupt.
    const tables = db.prepare("SELECT count(*) FROM sqlite_master").pluck().get();
    // A new database can give the pages of deleted objects back to the file system
    // (`PRAGMA incremental_vacuum`, see SqliteObjectStore); the setting only takes effect
    // before the first table is created.
    if (Number(tables) === 0) db.pragma("auto_vacuum = INCREMENTAL");
    if (file !== SQLITE_MEMORY) {
      const mode = db.pragma("journal_mode = WAL", { simple: true });
      if (String(mode).toLowerCase() !== "wal") {
        throw new Error(`journal_mode is ${String(mode)}, WAL could not be enabled`);
      }
    }
    if (exclusive) {
      // A write takes the exclusive lock now; it is held until the connection closes.
      db.exec("BEGIN IMMEDIATE");
      db.exec("COMMIT");
      db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
      writeLockHolder(file);
    }
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    db.pragma("cache_size = -64000");
    db.pragma("temp_store = MEMORY");
    db.defaultSafeIntegers(true);
  } catch (e) {
    db.close();
    if (e instanceof StateDatabaseError) throw e;
    if (exclusive && (e as { code?: unknown }).code === "SQLITE_BUSY") {
      throw new StateDatabaseError(
        file,
        `is in use by ${describeLockHolder(file)}; stop it first or choose another --database path`,
        e,
      );
    }
    throw new StateDatabaseError(file, describeSqliteFailure(e), e);
  }
  return db;
}

/** Checks the directory and, when the file exists, that it starts with the SQLite header. */
function checkDatabaseFile(file: string): void {
  const dir = dirname(file);
  let dirStat: ReturnType<typeof statSync> | undefined;
  try {
    dirStat = statSync(dir);
  } catch {
    dirStat = undefined;
  }
  if (!dirStat?.isDirectory()) {
    throw new StateDatabaseError(
      file,
      `directory '${dir}' does not exist; create it first or choose another --database path`,
    );
  }
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(file);
  } catch {
    return; // does not exist yet: SQLite creates it
  }
  if (st.isDirectory()) {
    throw new StateDatabaseError(file, "is a directory; pass a file path such as state.db");
  }
  if (st.size === 0) return; // an empty file is an empty database
  const header = Buffer.alloc(16);
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    readSync(fd, header, 0, 16, 0);
  } catch (e) {
    throw new StateDatabaseError(file, `cannot be read: ${errorText(e)}`, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (header.toString("latin1") !== SQLITE_MAGIC) {
    throw new StateDatabaseError(
      file,
      "is not a SQLite database (its header is not 'SQLite format 3'); it was left untouched. Move it away or choose another --database path",
    );
  }
}

function describeSqliteFailure(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
    return `is corrupt or not a SQLite database (${String(code)}: ${errorText(e)}); it was left untouched. Move it away or choose another --database path`;
  }
  if (code === "SQLITE_BUSY") {
    return `is locked by another process for more than ${SQLITE_BUSY_TIMEOUT_MS} ms (${errorText(e)})`;
  }
  if (code === "SQLITE_READONLY" || code === "SQLITE_CANTOPEN" || code === "SQLITE_PERM") {
    return `cannot be opened for writing (${String(code)}: ${errorText(e)}); check its permissions`;
  }
  return `cannot be opened: ${errorText(e)}`;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** One schema migration of a component: the SQL that takes version `version - 1` to `version`. */
export interface SchemaMigration {
  /** Version reached after applying `sql`. */
  readonly version: number;
  /** Statements (executed with `db.exec`). */
  readonly sql: string;
}

/**
 * Brings a component's tables to the latest version of `migrations` in one transaction.
 * @param component - component name (`linkstate`, `objectstore`).
 * @param migrations - ordered migrations, versions 1, 2, ….
 * @param ownTables - the component's table names: if they exist without a `schema_version` row,
 *   the file was written by another program (e.g. Python Flower's Alembic) and is refused.
 * @throws StateDatabaseError for a newer schema than this program knows, or foreign tables.
 */
export function migrateSchema(
  db: SqliteDatabase,
  component: string,
  migrations: readonly SchemaMigration[],
  ownTables: readonly string[],
): void {
  const file = db.name;
  const latest = migrations.at(-1)?.version ?? 0;
  const run = db.transaction(() => {
    db.exec(
      "CREATE TABLE IF NOT EXISTS schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
    );
    const row = db
      .prepare("SELECT version FROM schema_version WHERE component = ?")
      .get(component) as { version: bigint } | undefined;
    const current = row === undefined ? 0 : Number(row.version);
    if (current === 0) {
      const existing = db
        .prepare(
          `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${ownTables.map(() => "?").join(",")})`,
        )
        .all(...ownTables) as { name: string }[];
      if (existing.length > 0) {
        throw new StateDatabaseError(
          file,
          `has ${component} tables (${existing.map((t) => t.name).join(", ")}) but no flwr-ts schema version; it was written by another program (Python Flower?). Use a new --database file`,
        );
      }
    }
    if (current > latest) {
      throw new StateDatabaseError(
        file,
        `${component} schema version ${current} is newer than this flwr-ts supports (${latest}); upgrade flwr-ts or use another --database file`,
      );
    }
    for (const m of migrations) {
      if (m.version <= current) continue;
      db.exec(m.sql);
    }
    if (current < latest) {
      db.prepare(
        "INSERT INTO schema_version (component, version) VALUES (?, ?) ON CONFLICT(component) DO UPDATE SET version = excluded.version",
      ).run(component, latest);
    }
  });
  try {
    run.immediate();
  } catch (e) {
    if (e instanceof StateDatabaseError) throw e;
    throw new StateDatabaseError(file, describeSqliteFailure(e), e);
  }
}

/** Reads a component's schema version (0 when absent). */
export function schemaVersion(db: SqliteDatabase, component: string): number {
  const row = db.prepare("SELECT version FROM schema_version WHERE component = ?").get(component) as
    | { version: bigint }
    | undefined;
  return row === undefined ? 0 : Number(row.version);
}

/** A uint64 as the signed int64 with the same bits (how SQLite stores it). */
export function toSqliteInt64(u: bigint): bigint {
  return BigInt.asIntN(64, u);
}

/** A signed int64 read from SQLite back to the uint64 with the same bits. */
export function fromSqliteInt64(s: bigint | number): bigint {
  return BigInt.asUintN(64, BigInt(s));
}

/** A `Uint8Array` as a `Buffer` over the same memory (no copy), for binding as a BLOB. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
