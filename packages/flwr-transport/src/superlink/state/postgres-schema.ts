/**
 * The PostgreSQL tables of the LinkState and the ObjectStore: the SQLite schemas of
 * `sqlite-link-state.ts` (component `linkstate`) and `sqlite-object-store.ts` (`objectstore`)
 * in PostgreSQL types — `BIGINT` for SQLite's INTEGER (read back as `bigint`, uint64 ids as
 * signed int64 with the same bits, like SQLite), `DOUBLE PRECISION` for REAL, `BYTEA` for BLOB
 * — plus a `rowid BIGSERIAL` where the SQLite code orders by rowid.
 *
 * The versions written to `schema_version` are the SQLite migrations' latest
 * ({@link POSTGRES_SCHEMA_VERSIONS}); opening refuses a database whose versions differ, and a
 * new SQLite migration without its PostgreSQL counterpart here fails every PostgreSQL open
 * (and the PostgreSQL suites) instead of running SQLite DDL on PostgreSQL.
 *
 * Creation is idempotent and serialized by an advisory lock, so several SuperLinks may start
 * on a new database at once.
 */
import { OBJECT_STORE_MIGRATIONS } from "../../object-store/sqlite-object-store.js";
import type { PostgresBridge } from "./postgres-bridge.js";
import { LINK_STATE_MIGRATIONS } from "./sqlite-link-state.js";

/** Versions of the components as created by {@link POSTGRES_TABLES}. */
export const POSTGRES_SCHEMA_VERSIONS = { linkstate: 3, objectstore: 1 } as const;

/** DDL of every table (idempotent). */
export const POSTGRES_TABLES = `
  CREATE TABLE IF NOT EXISTS schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS node (
    rowid BIGSERIAL,
    node_id BIGINT NOT NULL UNIQUE,
    owner_aid TEXT NOT NULL,
    owner_name TEXT NOT NULL,
    status TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    last_activated_at TEXT,
    last_deactivated_at TEXT,
    unregistered_at TEXT,
    online_until DOUBLE PRECISION,
    heartbeat_interval DOUBLE PRECISION NOT NULL,
    public_key BYTEA NOT NULL UNIQUE,
    session_end TEXT NOT NULL DEFAULT ''
  );
  CREATE INDEX IF NOT EXISTS idx_node_owner_aid ON node(owner_aid);
  CREATE INDEX IF NOT EXISTS idx_node_status ON node(status, online_until);
  CREATE TABLE IF NOT EXISTS run (
    rowid BIGSERIAL,
    run_id BIGINT NOT NULL UNIQUE,
    fab_id TEXT NOT NULL,
    fab_version TEXT NOT NULL,
    fab_hash TEXT NOT NULL,
    override_config BYTEA NOT NULL,
    pending_at TEXT NOT NULL,
    starting_at TEXT NOT NULL DEFAULT '',
    running_at TEXT NOT NULL DEFAULT '',
    finished_at TEXT NOT NULL DEFAULT '',
    sub_status TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '',
    federation TEXT NOT NULL,
    federation_config BYTEA,
    run_type TEXT NOT NULL,
    flwr_aid TEXT NOT NULL,
    bytes_sent BIGINT NOT NULL DEFAULT 0,
    bytes_recv BIGINT NOT NULL DEFAULT 0,
    clientapp_runtime DOUBLE PRECISION NOT NULL DEFAULT 0.0
  );
  CREATE TABLE IF NOT EXISTS logs (
    rowid BIGSERIAL,
    timestamp DOUBLE PRECISION NOT NULL,
    run_id BIGINT NOT NULL REFERENCES run(run_id),
    node_id BIGINT NOT NULL,
    log TEXT NOT NULL,
    UNIQUE (timestamp, run_id, node_id)
  );
  CREATE INDEX IF NOT EXISTS idx_logs_run ON logs(run_id, timestamp);
  CREATE TABLE IF NOT EXISTS context (
    run_id BIGINT NOT NULL UNIQUE REFERENCES run(run_id),
    context BYTEA NOT NULL
  );
  CREATE TABLE IF NOT EXISTS message_ins (
    rowid BIGSERIAL,
    message_id TEXT NOT NULL UNIQUE,
    group_id TEXT NOT NULL,
    run_id BIGINT NOT NULL REFERENCES run(run_id),
    src_node_id BIGINT NOT NULL,
    dst_node_id BIGINT NOT NULL,
    reply_to_message_id TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    delivered_at TEXT NOT NULL DEFAULT '',
    ttl DOUBLE PRECISION NOT NULL,
    message_type TEXT NOT NULL,
    content BYTEA,
    error BYTEA
  );
  CREATE INDEX IF NOT EXISTS idx_message_ins_dst ON message_ins(dst_node_id, delivered_at);
  CREATE INDEX IF NOT EXISTS idx_message_ins_run ON message_ins(run_id);
  CREATE INDEX IF NOT EXISTS idx_message_ins_expiry ON message_ins((created_at + ttl));
  CREATE TABLE IF NOT EXISTS message_res (
    rowid BIGSERIAL,
    message_id TEXT NOT NULL UNIQUE,
    group_id TEXT NOT NULL,
    run_id BIGINT NOT NULL REFERENCES run(run_id),
    src_node_id BIGINT NOT NULL,
    dst_node_id BIGINT NOT NULL,
    reply_to_message_id TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    delivered_at TEXT NOT NULL DEFAULT '',
    ttl DOUBLE PRECISION NOT NULL,
    message_type TEXT NOT NULL,
    content BYTEA,
    error BYTEA
  );
  CREATE INDEX IF NOT EXISTS idx_message_res_reply_to ON message_res(reply_to_message_id);
  CREATE TABLE IF NOT EXISTS token_store (
    run_id BIGINT PRIMARY KEY,
    token TEXT NOT NULL UNIQUE,
    active_until DOUBLE PRECISION NOT NULL
  );
  CREATE INDEX IF NOT EXISTS idx_token_store_active_until ON token_store(active_until);
  CREATE TABLE IF NOT EXISTS nonce_store (
    namespace TEXT NOT NULL,
    nonce TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (namespace, nonce)
  );
  CREATE INDEX IF NOT EXISTS idx_nonce_store_expires_at ON nonce_store(expires_at);
  CREATE TABLE IF NOT EXISTS fab (
    fab_hash TEXT PRIMARY KEY,
    content BYTEA NOT NULL,
    verifications TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS task (
    task_id BIGINT PRIMARY KEY,
    run_id BIGINT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    fab_hash TEXT
  );
  CREATE TABLE IF NOT EXISTS objects (
    object_id TEXT PRIMARY KEY NOT NULL,
    content BYTEA,
    is_available BIGINT NOT NULL DEFAULT 0 CHECK (is_available IN (0, 1)),
    ref_count BIGINT NOT NULL DEFAULT 0
  );
  CREATE TABLE IF NOT EXISTS object_children (
    parent_id TEXT NOT NULL REFERENCES objects(object_id) ON DELETE CASCADE,
    child_id TEXT NOT NULL REFERENCES objects(object_id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    PRIMARY KEY (parent_id, child_id)
  );
  CREATE INDEX IF NOT EXISTS idx_object_children_child ON object_children(child_id);
  CREATE TABLE IF NOT EXISTS run_objects (
    run_id BIGINT NOT NULL,
    object_id TEXT NOT NULL REFERENCES objects(object_id) ON DELETE CASCADE,
    PRIMARY KEY (run_id, object_id)
  );
  CREATE INDEX IF NOT EXISTS idx_run_objects_object ON run_objects(object_id);
`;

/**
 * Selects `schema` for this session (creating it and the tables when absent) and checks the
 * component versions.
 * @returns undefined when usable, otherwise what is wrong (one line).
 */
export function preparePostgresSchema(bridge: PostgresBridge, schema: string): string | undefined {
  const sqliteLatest = {
    linkstate: LINK_STATE_MIGRATIONS.at(-1)?.version,
    objectstore: OBJECT_STORE_MIGRATIONS.at(-1)?.version,
  };
  for (const [component, version] of Object.entries(POSTGRES_SCHEMA_VERSIONS)) {
    const latest = sqliteLatest[component as keyof typeof sqliteLatest];
    if (latest !== version) {
      return `flwr-ts internal error: the ${component} schema is at version ${latest} for SQLite but ${version} for PostgreSQL (postgres-schema.ts lacks a migration)`;
    }
  }
  const quoted = `"${schema}"`; // validated lowercase identifier (postgres-url.ts)
  bridge.exec("BEGIN; SELECT pg_advisory_xact_lock(hashtext('flwr-ts:schema'))");
  try {
    if (schema !== "public") bridge.exec(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    bridge.exec(`SET search_path TO ${quoted}`);
    bridge.exec(POSTGRES_TABLES);
    for (const [component, version] of Object.entries(POSTGRES_SCHEMA_VERSIONS)) {
      bridge.query(
        "INSERT INTO schema_version (component, version) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [component, version],
      );
      const row = bridge.query("SELECT version FROM schema_version WHERE component = $1", [
        component,
      ]).rows[0];
      const stored = Number(row?.version);
      if (stored !== version) {
        bridge.exec("ROLLBACK");
        return stored > version
          ? `${component} schema version ${stored} is newer than this flwr-ts supports (${version}); upgrade flwr-ts or use another database or schema`
          : `${component} schema version ${stored} is older than this flwr-ts (${version}) and cannot be migrated; use another database or schema`;
      }
    }
    bridge.exec("COMMIT");
    return undefined;
  } catch (e) {
    try {
      bridge.exec("ROLLBACK");
    } catch {
      // connection gone
    }
    throw e;
  }
}
