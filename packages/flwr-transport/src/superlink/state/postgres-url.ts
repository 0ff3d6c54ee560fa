/**
 * `--database postgresql://…` (or `postgres://…`): validation of the URL and one-line errors
 * for the ways opening it fails (bad URL, unreachable server, wrong password, missing database).
 *
 * Accepted: `postgresql://[user[:password]@]host[:port][/database][?param=value…]`. The query
 * parameter `schema` (flwr-ts) names the PostgreSQL schema holding the tables (default
 * `public`; several federations can share one database in different schemas); every other
 * parameter (`sslmode`, `application_name`, …) goes to node-postgres unchanged. A password may
 * also come from `PGPASSWORD` or `~/.pgpass`, as with libpq.
 */
import type pg from "pg";

/** The URL schemes of PostgreSQL. */
export const POSTGRES_URL_SCHEMES = ["postgresql:", "postgres:"] as const;

/** True when a `--database` value names PostgreSQL. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value.trim());
}

/** The PostgreSQL state cannot be opened or used. */
export class PostgresStateError extends Error {
  /** The URL concerned, password removed. */
  readonly url: string;

  /** @param url - the URL (redacted here). @param message - what is wrong. @param cause - underlying error. */
  constructor(url: string, message: string, cause?: unknown) {
    const shown = redactPostgresUrl(url);
    super(`PostgreSQL database '${shown}': ${message}`, { cause });
    this.name = "PostgresStateError";
    this.url = shown;
  }
}

/** A parsed `--database` PostgreSQL URL. */
export interface PostgresLocation {
  /** The URL as given, password removed (for messages and `location`). */
  readonly url: string;
  /** What node-postgres gets. */
  readonly client: pg.ClientConfig;
  /** Schema of the tables. */
  readonly schema: string;
  /** Host and port, for messages. */
  readonly server: string;
  /** Database name ("" = node-postgres's default, the user name). */
  readonly database: string;
  /** User name ("" = the OS user). */
  readonly user: string;
}

/** The URL with its password replaced by `***`. */
export function redactPostgresUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@/]*@/i, "$1:***@");
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Parses a PostgreSQL URL.
 * @throws PostgresStateError for a malformed URL, a missing host, or a bad `schema`.
 */
export function parsePostgresUrl(value: string): PostgresLocation {
  const text = value.trim();
  const usage = "expected postgresql://user[:password]@host[:port]/database[?schema=name]";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PostgresStateError(text, `not a valid URL; ${usage}`);
  }
  if (!(POSTGRES_URL_SCHEMES as readonly string[]).includes(url.protocol.toLowerCase())) {
    throw new PostgresStateError(text, `unknown scheme ${url.protocol}; ${usage}`);
  }
  if (url.hostname === "") throw new PostgresStateError(text, `no host; ${usage}`);
  if (url.port !== "" && !(Number(url.port) >= 1 && Number(url.port) <= 65535)) {
    throw new PostgresStateError(text, `port ${url.port} is out of range; ${usage}`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (database.includes("/")) {
    throw new PostgresStateError(text, `the database name may not contain '/'; ${usage}`);
  }
  const schema = url.searchParams.get("schema") ?? "public";
  if (!SCHEMA_RE.test(schema)) {
    throw new PostgresStateError(
      text,
      `schema '${schema}' is not a lowercase identifier (a-z, 0-9, _; at most 63 characters)`,
    );
  }
  url.searchParams.delete("schema");
  const user = decodeURIComponent(url.username);
  return {
    url: redactPostgresUrl(text),
    client: {
      connectionString: url.toString(),
      connectionTimeoutMillis: 10_000,
      application_name: "flwr-ts-superlink",
    },
    schema,
    server: `${url.hostname}:${url.port || "5432"}`,
    database,
    user,
  };
}

/** One line saying why connecting failed, from node-postgres's error. */
export function describeConnectFailure(location: PostgresLocation, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const user = location.user || "(the OS user)";
  switch (code) {
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ETIMEDOUT":
    case "EAI_AGAIN":
      return `cannot reach the server at ${location.server} (${String(code)}); is PostgreSQL running and listening there?`;
    case "28P01":
      return `password authentication failed for user '${user}'; check the password in the URL, PGPASSWORD or ~/.pgpass`;
    case "28000":
      return `the server refused user '${user}' (${message}); check pg_hba.conf and the user name`;
    case "3D000":
      return `database '${location.database || user}' does not exist on ${location.server}; create it first (createdb ${location.database || user})`;
    case "42501":
      return `user '${user}' lacks a privilege (${message}); grant it CREATE on the database/schema`;
    default:
      if (/timeout/i.test(message)) {
        return `cannot reach the server at ${location.server} (connection timeout); is PostgreSQL running and listening there?`;
      }
      return `cannot connect to ${location.server}: ${message}`;
  }
}
