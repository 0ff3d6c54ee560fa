/**
 * SQLite {@link ObjectStore} (Flower's `SqlObjectStore`) on better-sqlite3.
 *
 * Tables (component `objectstore`, schema version 1):
 * - `objects(object_id TEXT PRIMARY KEY, content BLOB, is_available INTEGER 0/1, ref_count INTEGER)`
 *   — `content` is NULL for a placeholder;
 * - `object_children(parent_id, child_id, position)` — PK (parent_id, child_id), both FKs to
 *   `objects` with ON DELETE CASCADE; `position` keeps the children in tree order;
 * - `run_objects(run_id INTEGER, object_id)` — PK (run_id, object_id), run ids as signed int64.
 *
 * Every method is one transaction with prepared statements. Bytes are bound as BLOBs without
 * copying; `get` returns the `Buffer` better-sqlite3 reads.
 *
 * Disk space: pages freed by `deleteMessage` are reused by later objects (no work on the hot
 * path). In a database created with `auto_vacuum=INCREMENTAL` (every database flwr-ts creates),
 * free pages are returned to the file system when the store opens (all of them) and after each
 * `deleteRun` (up to {@link RECLAIM_BYTES_PER_RUN}), so the file shrinks when runs end.
 */
import type { Transaction } from "better-sqlite3";
import {
  asBuffer,
  migrateSchema,
  openSqliteDatabase,
  type SchemaMigration,
  type SqliteDatabase,
  toSqliteInt64,
} from "../superlink/state/sqlite-database.js";
import {
  buildObjectTree,
  checkChildrenMatch,
  flattenTree,
  type TreeEntry,
  verifyPushedObject,
} from "./object-checks.js";
import {
  type ObjectLookup,
  type ObjectStore,
  ObjectStoreError,
  type ObjectStoreStats,
  type ObjectTree,
} from "./object-store.js";

/** Schema-version component name of the object store's tables. */
export const OBJECT_STORE_COMPONENT = "objectstore";

/** The object store's migrations (version 1 creates Flower's three tables). */
export const OBJECT_STORE_MIGRATIONS: readonly SchemaMigration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE objects (
        object_id TEXT PRIMARY KEY NOT NULL,
        content BLOB,
        is_available INTEGER NOT NULL DEFAULT 0 CHECK (is_available IN (0, 1)),
        ref_count INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE object_children (
        parent_id TEXT NOT NULL REFERENCES objects(object_id) ON DELETE CASCADE,
        child_id TEXT NOT NULL REFERENCES objects(object_id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        PRIMARY KEY (parent_id, child_id)
      );
      CREATE INDEX idx_object_children_child ON object_children(child_id);
      CREATE TABLE run_objects (
        run_id INTEGER NOT NULL,
        object_id TEXT NOT NULL REFERENCES objects(object_id) ON DELETE CASCADE,
        PRIMARY KEY (run_id, object_id)
      );
      CREATE INDEX idx_run_objects_object ON run_objects(object_id);
    `,
  },
];

const OWN_TABLES = ["objects", "object_children", "run_objects"] as const;

/**
 * Free space returned to the file system after each `deleteRun` (64 MiB; more is reclaimed by
 * later runs or at the next start), bounding the pause of the synchronous vacuum.
 */
export const RECLAIM_BYTES_PER_RUN = 64 * 1024 * 1024;

/** Options of {@link SqliteObjectStore}. */
export interface SqliteObjectStoreOptions {
  /**
   * An open connection to share (e.g. with the SQLite LinkState); the store does not close it.
   * When absent, `location` is opened and closed by the store.
   */
  database?: SqliteDatabase;
  /** Called once on {@link SqliteObjectStore.close} when `database` was given (release a lease). */
  onClose?: () => void;
  /** `:memory:` or a file path, when `database` is not given. */
  location?: string;
}

/** SQLite object store. */
export class SqliteObjectStore implements ObjectStore {
  private readonly db: SqliteDatabase;
  private readonly ownsDb: boolean;
  private readonly onClose: (() => void) | undefined;
  private readonly incrementalVacuum: boolean;
  private closed = false;

  private readonly sInsertPlaceholder;
  private readonly sInsertChild;
  private readonly sIncRef;
  private readonly sDecRef;
  private readonly sInsertRunObject;
  private readonly sAvailability;
  private readonly sContent;
  private readonly sChildren;
  private readonly sLength;
  private readonly sRefCount;
  private readonly sSetContent;
  private readonly sDelete;
  private readonly sRunObjectIds;
  private readonly sDeleteRun;
  private readonly sStats;

  private readonly txPreregister: Transaction<
    (runId: bigint, entries: readonly TreeEntry[]) => string[]
  >;
  private readonly txPut: Transaction<
    (objectId: string, content: Uint8Array, childIds: readonly string[]) => boolean
  >;
  private readonly txDeleteMessage: Transaction<(objectId: string) => void>;
  private readonly txDeleteRun: Transaction<(runId: bigint) => void>;

  /**
   * @param options - a shared connection, or a location to open.
   * @throws StateDatabaseError when the database cannot be opened or has a foreign schema.
   */
  constructor(options: SqliteObjectStoreOptions) {
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
      migrateSchema(this.db, OBJECT_STORE_COMPONENT, OBJECT_STORE_MIGRATIONS, OWN_TABLES);
    } catch (e) {
      if (this.ownsDb) this.db.close();
      throw e;
    }
    const db = this.db;
    this.incrementalVacuum = Number(db.pragma("auto_vacuum", { simple: true })) === 2;
    this.sInsertPlaceholder = db.prepare(
      "INSERT INTO objects (object_id, content, is_available, ref_count) VALUES (?, NULL, 0, 0) ON CONFLICT (object_id) DO NOTHING",
    );
    this.sInsertChild = db.prepare(
      "INSERT INTO object_children (parent_id, child_id, position) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    );
    this.sIncRef = db.prepare("UPDATE objects SET ref_count = ref_count + 1 WHERE object_id = ?");
    this.sDecRef = db.prepare(
      "UPDATE objects SET ref_count = ref_count - 1 WHERE object_id = ? RETURNING ref_count",
    );
    this.sInsertRunObject = db.prepare(
      "INSERT INTO run_objects (run_id, object_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
    );
    this.sAvailability = db
      .prepare("SELECT is_available FROM objects WHERE object_id = ?")
      .pluck()
      .safeIntegers(false);
    this.sContent = db
      .prepare("SELECT is_available, content FROM objects WHERE object_id = ?")
      .safeIntegers(false);
    this.sChildren = db
      .prepare("SELECT child_id FROM object_children WHERE parent_id = ? ORDER BY position")
      .pluck();
    this.sLength = db
      .prepare("SELECT ifnull(length(content), 0) FROM objects WHERE object_id = ?")
      .pluck()
      .safeIntegers(false);
    this.sRefCount = db
      .prepare("SELECT ref_count FROM objects WHERE object_id = ?")
      .pluck()
      .safeIntegers(false);
    this.sSetContent = db.prepare(
      "UPDATE objects SET content = ?, is_available = 1 WHERE object_id = ? AND is_available = 0",
    );
    this.sDelete = db.prepare("DELETE FROM objects WHERE object_id = ?");
    this.sRunObjectIds = db.prepare("SELECT object_id FROM run_objects WHERE run_id = ?").pluck();
    this.sDeleteRun = db.prepare("DELETE FROM run_objects WHERE run_id = ?");
    this.sStats = db
      .prepare(
        "SELECT count(*) AS objects, ifnull(sum(is_available), 0) AS available, ifnull(sum(length(content)), 0) AS bytes FROM objects",
      )
      .safeIntegers(false);

    this.txPreregister = db.transaction((runId: bigint, entries: readonly TreeEntry[]) => {
      const run = toSqliteInt64(runId);
      const missing = new Set<string>();
      for (const { objectId, childIds } of entries) {
        const inserted = this.sInsertPlaceholder.run(objectId).changes === 1;
        if (inserted) {
          childIds.forEach((childId, i) => {
            this.sInsertChild.run(objectId, childId, i);
            this.sIncRef.run(childId);
          });
          missing.add(objectId);
        } else if (this.sAvailability.get(objectId) === 0) {
          missing.add(objectId);
        }
        this.sInsertRunObject.run(run, objectId);
      }
      return [...missing];
    });

    this.txPut = db.transaction((objectId: string, content: Uint8Array, headChildIds) => {
      const available = this.sAvailability.get(objectId) as number | undefined;
      if (available === undefined) return false;
      if (available === 1) return true;
      const registered = this.sChildren.all(objectId) as string[];
      checkChildrenMatch(objectId, headChildIds, registered);
      this.sSetContent.run(asBuffer(content), objectId);
      return true;
    });

    this.txDeleteMessage = db.transaction((objectId: string) => this.deleteCascade(objectId));

    this.txDeleteRun = db.transaction((runId: bigint) => {
      const run = toSqliteInt64(runId);
      const ids = this.sRunObjectIds.all(run) as string[];
      for (const id of ids) {
        if (this.sRefCount.get(id) === 0) this.deleteCascade(id);
      }
      this.sDeleteRun.run(run);
    });
    this.tryReclaimSpace();
  }

  /** Housekeeping that must never fail a call: a busy database is reclaimed another time. */
  private tryReclaimSpace(maxBytes?: number): void {
    try {
      this.reclaimSpace(maxBytes);
    } catch {
      // SQLITE_BUSY (another process writes) or similar: the pages stay free for reuse.
    }
  }

  /**
   * Returns free pages to the file system (`PRAGMA incremental_vacuum`); a no-op unless the
   * database was created with `auto_vacuum=INCREMENTAL`.
   * @param maxBytes - at most this much (default: all free pages).
   * @returns the number of bytes returned.
   */
  reclaimSpace(maxBytes?: number): number {
    if (!this.incrementalVacuum || !this.db.open) return 0;
    const pageSize = Number(this.db.pragma("page_size", { simple: true }));
    const before = Number(this.db.pragma("freelist_count", { simple: true }));
    if (before === 0) return 0;
    const pages = maxBytes === undefined ? 0 : Math.max(1, Math.floor(maxBytes / pageSize));
    // incremental_vacuum(0) frees every page.
    this.db.exec(`PRAGMA incremental_vacuum(${pages})`);
    const after = Number(this.db.pragma("freelist_count", { simple: true }));
    return (before - after) * pageSize;
  }

  /** Deletes `objectId` if unreferenced and, iteratively, its children that become unreferenced. */
  private deleteCascade(objectId: string): void {
    const stack = [objectId];
    while (stack.length > 0) {
      const id = stack.pop()!;
      const refs = this.sRefCount.get(id) as number | undefined;
      if (refs === undefined || refs > 0) continue;
      const childIds = this.sChildren.all(id) as string[];
      for (const childId of childIds) {
        const row = this.sDecRef.get(childId) as { ref_count: bigint } | undefined;
        if (row !== undefined && row.ref_count <= 0n) stack.push(childId);
      }
      this.sDelete.run(id);
    }
  }

  /** The connection used (shared or owned). */
  get database(): SqliteDatabase {
    return this.db;
  }

  /** {@inheritDoc ObjectStore.preregister} */
  preregister(runId: bigint, tree: ObjectTree): string[] {
    this.check();
    const entries = flattenTree(tree); // validates every ID before anything is written
    return this.txPreregister.immediate(runId, entries);
  }

  /** {@inheritDoc ObjectStore.put} */
  put(objectId: string, content: Uint8Array): boolean {
    this.check();
    const verified = verifyPushedObject(objectId, content);
    if (!verified.ok) return false;
    return this.txPut.immediate(objectId, content, verified.head.childIds);
  }

  /** {@inheritDoc ObjectStore.get} */
  get(objectId: string): ObjectLookup {
    this.check();
    const row = this.sContent.get(objectId) as
      | { is_available: number; content: Buffer | null }
      | undefined;
    if (!row) return { found: false, available: false };
    if (row.is_available !== 1 || row.content === null) return { found: true, available: false };
    return { found: true, available: true, content: row.content };
  }

  /** {@inheritDoc ObjectStore.has} */
  has(objectId: string): boolean {
    this.check();
    return this.sAvailability.get(objectId) !== undefined;
  }

  /** {@inheritDoc ObjectStore.children} */
  children(objectId: string): string[] | undefined {
    this.check();
    if (this.sAvailability.get(objectId) === undefined) return undefined;
    return this.sChildren.all(objectId) as string[];
  }

  /** {@inheritDoc ObjectStore.getObjectTree} */
  getObjectTree(objectId: string): ObjectTree {
    this.check();
    return this.db.transaction(() =>
      buildObjectTree(objectId, (id) =>
        this.sAvailability.get(id) === undefined ? undefined : (this.sChildren.all(id) as string[]),
      ),
    )();
  }

  /** {@inheritDoc ObjectStore.contentLength} */
  contentLength(objectId: string): number | undefined {
    this.check();
    return this.sLength.get(objectId) as number | undefined;
  }

  /** {@inheritDoc ObjectStore.deleteMessage} */
  deleteMessage(objectId: string): void {
    this.check();
    this.txDeleteMessage.immediate(objectId);
  }

  /** {@inheritDoc ObjectStore.deleteRun} */
  deleteRun(runId: bigint): void {
    this.check();
    this.txDeleteRun.immediate(runId);
    this.tryReclaimSpace(RECLAIM_BYTES_PER_RUN);
  }

  /** {@inheritDoc ObjectStore.clear} */
  clear(): void {
    this.check();
    this.db
      .transaction(() => {
        this.db.exec("DELETE FROM object_children; DELETE FROM run_objects; DELETE FROM objects;");
      })
      .immediate();
  }

  /** {@inheritDoc ObjectStore.stats} */
  stats(): ObjectStoreStats {
    this.check();
    const row = this.sStats.get() as { objects: number; available: number; bytes: number };
    return { objects: row.objects, availableObjects: row.available, bytes: row.bytes };
  }

  /** {@inheritDoc ObjectStore.close} */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsDb) this.db.close();
    else this.onClose?.();
  }

  private check(): void {
    if (this.closed) throw new ObjectStoreError("the object store is closed");
    if (!this.db.open) throw new ObjectStoreError(`the database '${this.db.name}' is closed`);
  }
}
