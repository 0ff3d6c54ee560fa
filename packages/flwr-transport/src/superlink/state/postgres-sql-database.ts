/**
 * The subset of better-sqlite3's `Database` API that `SqliteLinkState` and
 * `SqliteObjectStore` use (`prepare` → `get`/`all`/`run`/`pluck`/`safeIntegers`,
 * `transaction(fn).immediate()`, `exec`, `pragma`, `open`, `name`, `close`), executed on
 * PostgreSQL through the synchronous {@link PostgresBridge}.
 *
 * Why: the LinkState and ObjectStore rules (message validation, lazy offline, TTLs, reference
 * counts, …) then exist once, in the SQLite classes, and PostgreSQL runs the same statements
 * (the shared suites check both). Each statement is translated once, at `prepare`:
 * - `?` and `@name` parameters → `$1`, `$2`, … (quoted literals are skipped);
 * - `INSERT OR REPLACE INTO t (cols) VALUES (…)` → `INSERT … ON CONFLICT (message_id) DO UPDATE`
 *   of every column and a new `rowid` (REPLACE deletes and re-inserts; only the message tables
 *   use it, keyed by `message_id`);
 * - `length(CAST(x AS BLOB))` → `octet_length(x)`, `ifnull(` → `coalesce(`;
 * - `LIMIT ?` → `LIMIT NULLIF(?, -1)` (SQLite's `LIMIT -1` is "no limit");
 * - an INSERT into a table with a `rowid` column gets `RETURNING rowid` (`lastInsertRowid`).
 * The PostgreSQL tables (`postgres-schema.ts`) give `rowid` to the tables whose order the
 * SQLite code reads by rowid. Integers come back as `bigint` (better-sqlite3's safe integers),
 * `bytea` as `Buffer`; `.safeIntegers(false)` turns them into numbers.
 *
 * Transactions: `transaction(fn)` (every variant) is `BEGIN` + `pg_advisory_xact_lock(key)`,
 * `fn`, `COMMIT` (or `ROLLBACK` on a throw). The lock key is per component and schema, so the
 * transactions of one store are serialized across every SuperLink on the database: the
 * check-then-act sequences of the SQLite code stay atomic without SERIALIZABLE retries (which
 * would re-run JavaScript with side effects). Statements outside a transaction are
 * single-statement reads, consistent at READ COMMITTED. Nested calls join the open transaction.
 */
import { type PostgresBridge, PostgresCallError } from "./postgres-bridge.js";

/** Tables whose PostgreSQL version has a `rowid bigserial` column. */
const ROWID_TABLES = new Set(["node", "run", "logs", "message_ins", "message_res"]);

/** A translated statement and how its parameters map. */
interface TranslatedSql {
  readonly sql: string;
  /** For `@name` parameters: the name of each `$n`; undefined for positional `?`. */
  readonly names: readonly string[] | undefined;
}

/** Replaces `?`/`@name` outside quotes with `$n`. */
function numberParameters(sql: string): TranslatedSql {
  let out = "";
  let n = 0;
  const names: string[] = [];
  let named = false;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'") {
      const end = sql.indexOf("'", i + 1);
      const stop = end === -1 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === "?") {
      out += `$${++n}`;
    } else if (c === "@" && /[a-z_]/i.test(sql[i + 1] ?? "")) {
      const m = /^@([a-z_][a-z0-9_]*)/i.exec(sql.slice(i))!;
      const name = m[1]!;
      named = true;
      let index = names.indexOf(name);
      if (index === -1) {
        names.push(name);
        index = names.length - 1;
      }
      out += `$${index + 1}`;
      i += m[0].length - 1;
    } else {
      out += c;
    }
  }
  return { sql: out, names: named ? names : undefined };
}

/** SQLite dialect → PostgreSQL, for the statements of the SQLite stores (see module comment). */
export function translateSql(sqlite: string): TranslatedSql {
  let sql = sqlite.trim();
  const replace =
    /^INSERT\s+OR\s+REPLACE\s+INTO\s+(\w+)\s*\(([^)]*)\)\s*VALUES\s*(\([^)]*\))$/is.exec(sql);
  if (replace) {
    const [, table, columnList, values] = replace;
    const columns = columnList!.split(",").map((c) => c.trim());
    const set = columns.map((c) => `${c} = EXCLUDED.${c}`);
    if (ROWID_TABLES.has(table!)) set.push("rowid = DEFAULT");
    sql = `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${values} ON CONFLICT (message_id) DO UPDATE SET ${set.join(", ")}`;
  }
  sql = sql
    .replace(/length\(CAST\((\w+) AS BLOB\)\)/gi, "octet_length($1)")
    .replace(/\bifnull\(/gi, "coalesce(")
    .replace(/\bLIMIT \?/g, "LIMIT NULLIF(?, -1)");
  const insert = /^INSERT\s+INTO\s+(\w+)/i.exec(sql);
  if (insert && ROWID_TABLES.has(insert[1]!) && !/\bRETURNING\b/i.test(sql)) {
    sql += " RETURNING rowid";
  }
  return numberParameters(sql);
}

/** better-sqlite3's `RunResult`. */
interface RunResult {
  changes: number;
  lastInsertRowid: bigint | number;
}

function plainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !(value instanceof Uint8Array) &&
    !Array.isArray(value)
  );
}

function unsafe(value: unknown): unknown {
  return typeof value === "bigint" ? Number(value) : value;
}

/** A prepared statement (translation only: PostgreSQL plans it on each call). */
export class PostgresStatement {
  private plucked = false;
  private safe = true;

  /** @param db - owner. @param translated - the PostgreSQL text. */
  constructor(
    private readonly db: PostgresSqlDatabase,
    private readonly translated: TranslatedSql,
  ) {}

  /** Return the first column only. */
  pluck(toggle = true): this {
    this.plucked = toggle;
    return this;
  }

  /** Integers as `bigint` (default) or numbers. */
  safeIntegers(toggle = true): this {
    this.safe = toggle;
    return this;
  }

  /** The first row, or undefined. */
  get(...args: unknown[]): unknown {
    const rows = this.execute(args).rows;
    return rows.length === 0 ? undefined : this.shape(rows[0]!);
  }

  /** Every row. */
  all(...args: unknown[]): unknown[] {
    return this.execute(args).rows.map((r) => this.shape(r));
  }

  /** Runs a write; `lastInsertRowid` from `RETURNING rowid` when the table has one. */
  run(...args: unknown[]): RunResult {
    const result = this.execute(args);
    const rowid = result.rows[0]?.rowid;
    return {
      changes: result.rowCount,
      lastInsertRowid: typeof rowid === "bigint" ? rowid : 0,
    };
  }

  private execute(args: unknown[]) {
    const { names, sql } = this.translated;
    let params: unknown[];
    if (names !== undefined) {
      const bag = args[0];
      if (!plainObject(bag)) throw new TypeError("named parameters need one object argument");
      params = names.map((n) => bag[n] ?? null);
    } else {
      params = args.map((a) => a ?? null);
    }
    return this.db.bridgeQuery(sql, params);
  }

  private shape(row: Record<string, unknown>): unknown {
    if (this.plucked) {
      const first = Object.values(row)[0];
      return this.safe ? first : unsafe(first);
    }
    if (!this.safe) for (const k of Object.keys(row)) row[k] = unsafe(row[k]);
    return row;
  }
}

type TxFunction<F extends (...args: never[]) => unknown> = F & {
  immediate: F;
  deferred: F;
  exclusive: F;
};

/**
 * The better-sqlite3-shaped database over one {@link PostgresBridge}; the bridge is shared
 * (the LinkState and the ObjectStore each get a view with their own lock key) and closed by
 * its owner, not by {@link close}.
 */
export class PostgresSqlDatabase {
  /** Shown in messages: the URL without password. */
  readonly name: string;
  private depth = 0;
  private closed = false;

  /**
   * @param bridge - the connection.
   * @param name - the redacted URL.
   * @param lockName - advisory lock of this view's transactions (`hashtext(schema:lockName)`).
   */
  constructor(
    private readonly bridge: PostgresBridge,
    name: string,
    private readonly lockName: string,
  ) {
    if (!/^[a-z_]+$/.test(lockName)) throw new Error(`bad lock name ${lockName}`);
    this.name = name;
  }

  /** True until {@link close} and while the bridge is open. */
  get open(): boolean {
    return !this.closed && this.bridge.open;
  }

  /** True inside a transaction. */
  get inTransaction(): boolean {
    return this.depth > 0;
  }

  /** Translates a SQLite statement (see the module comment). */
  prepare(sql: string): PostgresStatement {
    return new PostgresStatement(this, translateSql(sql));
  }

  /** Runs statements without parameters. */
  exec(sql: string): this {
    this.bridge.exec(sql);
    return this;
  }

  /** SQLite pragmas have no PostgreSQL meaning: every read gives 0, writes do nothing. */
  pragma(_source: string, _options?: { simple?: boolean }): unknown {
    return 0;
  }

  /** Wraps `fn` in a locked transaction (see the module comment). */
  transaction<F extends (...args: never[]) => unknown>(fn: F): TxFunction<F> {
    const run = ((...args: Parameters<F>) => this.inTx(() => fn(...args))) as F;
    return Object.assign(run, { immediate: run, deferred: run, exclusive: run }) as TxFunction<F>;
  }

  /** Forgets this view; the bridge stays open for its owner. */
  close(): void {
    this.closed = true;
  }

  /** @internal Runs a statement, mapping PostgreSQL's unique violation to SQLite's code. */
  bridgeQuery(sql: string, params: unknown[]) {
    try {
      return this.bridge.query(sql, params);
    } catch (e) {
      if (e instanceof PostgresCallError && e.code === "23505") {
        // The SQLite code checks this code to report a duplicate key.
        throw Object.assign(new Error(e.message), { code: "SQLITE_CONSTRAINT_UNIQUE" });
      }
      throw e;
    }
  }

  private inTx<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.depth++;
    try {
      // One round trip; the lock name is checked by the constructor, never user input.
      this.bridge.exec(
        `BEGIN; SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':${this.lockName}'))`,
      );
      const result = fn();
      this.bridge.query("COMMIT");
      return result;
    } catch (e) {
      try {
        this.bridge.query("ROLLBACK");
      } catch {
        // the connection is gone; the server rolls back
      }
      throw e;
    } finally {
      this.depth--;
    }
  }
}
