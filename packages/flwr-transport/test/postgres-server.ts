/**
 * Test helper: a throw-away PostgreSQL server on 127.0.0.1 (a real one: `initdb` in a temp
 * directory, `pg_ctl start` on a free port, password authentication for user `flwr`), stopped
 * and removed by {@link TestPostgres.stop}.
 *
 * Binaries: `$FLWR_TS_PG_BIN`, else the newest `/usr/lib/postgresql/<version>/bin` (Debian's
 * `postgresql` package, installed by `scripts/setup.sh`), else `initdb` on the PATH. `initdb`
 * refuses to run as root, so as root the server runs as the `postgres` system user
 * (`runuser -u postgres --`) in a directory it owns.
 *
 * {@link postgresUnavailable} says why no server can be started (tests then fail with that
 * line unless `FLWR_TS_SKIP_POSTGRES=1` asks to skip them).
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/** The test user's name and password. */
export const TEST_PG_USER = "flwr";
/** Password of {@link TEST_PG_USER}. */
export const TEST_PG_PASSWORD = "flwr-test-pw";

/** A running server. */
export interface TestPostgres {
  /** Port on 127.0.0.1. */
  readonly port: number;
  /** URL of `database` (default `postgres`) as the test user. */
  url(database?: string): string;
  /** Creates a database (for isolation between tests). */
  createDatabase(name: string): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): void;
}

function findBinDir(): string | undefined {
  const explicit = process.env.FLWR_TS_PG_BIN;
  if (explicit) return existsSync(join(explicit, "initdb")) ? explicit : undefined;
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], "bin");
  }
  const which = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" });
  const path = which.stdout.trim();
  return which.status === 0 && path !== "" ? join(path, "..") : undefined;
}

const isRoot = process.getuid?.() === 0;

/** Why a test server cannot be started here, or undefined when it can. */
export function postgresUnavailable(): string | undefined {
  if (findBinDir() === undefined) {
    return "PostgreSQL is not installed (no initdb in $FLWR_TS_PG_BIN, /usr/lib/postgresql/*/bin or PATH): run scripts/setup.sh or apt-get install postgresql";
  }
  if (isRoot && spawnSync("id", ["-u", "postgres"]).status !== 0) {
    return "running as root without a 'postgres' system user for initdb: install Debian's postgresql package or run the tests as a normal user";
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Starts a server (throws with initdb's/pg_ctl's output when it cannot). */
export async function startTestPostgres(): Promise<TestPostgres> {
  const problem = postgresUnavailable();
  if (problem !== undefined) throw new Error(problem);
  const bin = findBinDir()!;
  const dir = mkdtempSync(join(tmpdir(), "flwr-pg-"));
  const data = join(dir, "data");
  const pwfile = join(dir, "pw");
  writeFileSync(pwfile, `${TEST_PG_PASSWORD}\n`);
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = isRoot
      ? ["runuser", ["-u", "postgres", "--", join(bin, cmd), ...args]]
      : [join(bin, cmd), args];
    try {
      execFileSync(file, argv, { stdio: ["ignore", "pipe", "pipe"], cwd: dir });
    } catch (e) {
      const err = e as { stderr?: Buffer; stdout?: Buffer };
      throw new Error(
        `${cmd} failed: ${String(err.stderr ?? "")}${String(err.stdout ?? "")}`.trim(),
      );
    }
  };
  if (isRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
    chownSync(pwfile, uid, gid);
    chmodSync(dir, 0o700);
  }
  const port = await freePort();
  run("initdb", [
    "-D",
    data,
    "-U",
    TEST_PG_USER,
    `--pwfile=${pwfile}`,
    "--auth=scram-sha-256",
    "--no-sync",
    "-E",
    "UTF8",
    "--locale=C",
  ]);
  const options = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${dir}`,
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=200",
  ].join(" ");
  run("pg_ctl", ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-t", "30", "start"]);
  let stopped = false;
  const url = (database = "postgres") =>
    `postgresql://${TEST_PG_USER}:${TEST_PG_PASSWORD}@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    async createDatabase(name: string) {
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
    },
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
