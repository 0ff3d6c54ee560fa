import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { linkStateSuite } from "../../../test/link-state.suite.js";
import { NOOP_FEDERATION, NOOP_FLWR_AID, NodeStatus } from "./link-state.js";
import { LOG_CACHE_RELEASE_BYTES } from "./log-retention.js";
import { openSqliteDatabase, StateDatabaseError } from "./sqlite-database.js";
import { SqliteLinkState } from "./sqlite-link-state.js";

const betterSqlite3 = createRequire(import.meta.url).resolve("better-sqlite3");
const dir = mkdtempSync(join(tmpdir(), "flwr-linkstate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

linkStateSuite(
  "sqlite",
  (options) => new SqliteLinkState({ ...options, location: join(dir, `suite-${n++}.db`) }),
);
linkStateSuite(
  "sqlite :memory:",
  (options) => new SqliteLinkState({ ...options, location: ":memory:" }),
);

const T0 = Date.UTC(2026, 2, 29, 12, 0, 0);
const pem = (i: number) =>
  Buffer.from(`-----BEGIN PUBLIC KEY-----\nk${i}\n-----END PUBLIC KEY-----\n`);

describe("SqliteLinkState persistence", () => {
  it("nodes, runs, contexts, messages, tokens and FABs survive close and reopen", () => {
    const file = join(dir, "reopen.db");
    let now = T0;
    const clock = () => now;
    const a = new SqliteLinkState({ clock, location: file });
    const ids = [0, 1, 2, 3].map((i) => a.createNode(NOOP_FLWR_AID, "none", pem(i), 30));
    expect(a.activateNode(ids[1]!, 30)).toBe(true);
    expect(a.activateNode(ids[2]!, 20)).toBe(true);
    expect(a.deactivateNode(ids[2]!)).toBe(true);
    a.deleteNode(NOOP_FLWR_AID, ids[3]!);
    const runId = a.createRun({
      fabId: "flwrlabs/app",
      fabVersion: "1.0.0",
      fabHash: "ab".repeat(32),
      overrideConfig: new Map([
        ["lr", { scalar: { $case: "double", value: 0.1 } }],
        ["big", { scalar: { $case: "uint64", value: (1n << 64n) - 1n } }],
      ]),
      federation: NOOP_FEDERATION,
      federationConfig: Buffer.from([1, 2, 3]),
      flwrAid: NOOP_FLWR_AID,
      runType: "serverapp",
    });
    expect(a.updateRunStatus(runId, { status: "starting", subStatus: "", details: "" })).toBe(true);
    const context = {
      runId,
      nodeId: 1n,
      nodeConfig: new Map(),
      state: { items: [] },
      runConfig: new Map([["k", { scalar: { $case: "sint64" as const, value: -(1n << 63n) } }]]),
      seriesId: 0n,
    };
    a.setServerAppContext(runId, context);
    a.storeTraffic(runId, { bytesSent: 2 ** 40, bytesRecv: 3 });
    const token = a.createToken(runId)!;
    const msg = {
      metadata: {
        runId,
        messageId: "ab".repeat(32),
        srcNodeId: 1n,
        dstNodeId: ids[1]!,
        replyToMessageId: "",
        groupId: "g",
        ttl: 3600,
        messageType: "train",
        createdAt: now / 1000,
      },
      content: { items: [] },
      error: undefined,
    };
    expect(a.storeMessageIns(msg).ok).toBe(true);
    const fabHash = a.storeFab({
      hashStr: "",
      content: Buffer.from("fab"),
      verifications: new Map([["v", "1"]]),
    });
    a.addServerAppLog(runId, "hello\n");
    const nodesBefore = a.getNodeInfo();
    const runBefore = a.getRun(runId);
    a.close();

    now += 1000; // one second later, same process "restarted"
    const b = new SqliteLinkState({ clock, location: file });
    expect(b.getNodeInfo()).toEqual(nodesBefore);
    expect(b.getNodeInfo().map((x) => x.status)).toEqual([
      NodeStatus.REGISTERED,
      NodeStatus.ONLINE,
      NodeStatus.OFFLINE,
      NodeStatus.UNREGISTERED,
    ]);
    expect(b.getNodeIdByPublicKey(pem(1))).toBe(ids[1]);
    expect(b.getRun(runId)).toEqual(runBefore);
    expect(b.getRun(runId)!.overrideConfig.get("big")).toEqual({
      scalar: { $case: "uint64", value: (1n << 64n) - 1n },
    });
    expect(b.getRun(runId)!.bytesSent).toBe(2n ** 40n);
    expect(Buffer.from(b.getFederationConfig(runId)!)).toEqual(Buffer.from([1, 2, 3]));
    expect(b.getServerAppContext(runId)).toEqual(context);
    expect(b.verifyToken(runId, token)).toBe(true);
    expect(b.getFab(fabHash)?.verifications.get("v")).toBe("1");
    expect(b.getServerAppLog(runId).logs).toBe("hello\n");
    const pulled = b.getMessageIns(ids[1]!);
    expect(pulled).toHaveLength(1);
    expect(pulled[0]!.metadata).toEqual(msg.metadata);
    b.close();
  });

  it("node ids above 2^63 are stored as negative int64 and read back exactly", () => {
    const file = join(dir, "ids.db");
    const s = new SqliteLinkState({ location: file });
    const ids: bigint[] = [];
    for (let i = 0; i < 64; i++) ids.push(s.createNode("a", "b", pem(i), 30));
    s.close();
    const db = openSqliteDatabase(file);
    const raw = db.prepare("SELECT node_id FROM node ORDER BY rowid").pluck().all() as bigint[];
    db.close();
    expect(raw.some((v) => v < 0n)).toBe(true);
    expect(raw.map((v) => BigInt.asUintN(64, v))).toEqual(ids);
  });

  it("a second process can read the database while it is open (WAL)", () => {
    const file = join(dir, "wal.db");
    const s = new SqliteLinkState({ location: file });
    const id = s.createNode("a", "b", pem(1), 30);
    expect(existsSync(`${file}-wal`)).toBe(true);
    const script = `
      const Database = require(${JSON.stringify(betterSqlite3)});
      const db = new Database(${JSON.stringify(file)}, { timeout: 5000 });
      db.defaultSafeIntegers(true);
      const mode = db.pragma("journal_mode", { simple: true });
      const id = db.prepare("SELECT node_id FROM node").pluck().get();
      db.prepare("INSERT INTO nonce_store (namespace, nonce, expires_at) VALUES ('other', 'p', 1e12)").run();
      console.log(JSON.stringify({ mode, id: BigInt.asUintN(64, id).toString() }));
    `;
    const out = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
    expect(out.stderr).toBe("");
    expect(JSON.parse(out.stdout)).toEqual({ mode: "wal", id: id.toString() });
    // the other process's write is visible here, and the nonce is taken
    expect(s.reserveNonce("other", "p", Date.now() / 1000 + 10)).toBe(false);
    s.close();
  });

  it("a writer waits for another process's write transaction (busy_timeout)", async () => {
    const file = join(dir, "busy.db");
    const s = new SqliteLinkState({ location: file });
    // The child takes the write lock, says so, holds it ~500 ms, then commits a row.
    const script = `
      const Database = require(${JSON.stringify(betterSqlite3)});
      const db = new Database(${JSON.stringify(file)}, { timeout: 5000 });
      db.exec("BEGIN IMMEDIATE");
      db.prepare("INSERT INTO nonce_store (namespace, nonce, expires_at) VALUES ('x', 'y', 1e12)").run();
      process.stdout.write("locked\\n");
      setTimeout(() => { db.exec("COMMIT"); db.close(); }, 500);
    `;
    const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = once(child, "exit");
    await new Promise<void>((resolve, reject) => {
      child.stdout.once("data", (d: Buffer) =>
        d.toString() === "locked\n" ? resolve() : reject(new Error(d.toString())),
      );
      child.once("error", reject);
    });
    // Blocks (synchronously) until the child commits, then succeeds instead of SQLITE_BUSY.
    const id = s.createNode("a", "b", pem(99), 30);
    expect(id).toBeGreaterThan(1n);
    // The child's row committed first: the nonce is taken.
    expect(s.reserveNonce("x", "y", Date.now() / 1000 + 10)).toBe(false);
    expect((await exited)[0]).toBe(0);
    s.close();
  });
});

describe("SqliteLinkState schema version 2 (Runtime API tasks)", () => {
  it("a version-1 database stays readable: its runs get their tasks (task id = run id)", () => {
    const file = join(dir, "v1.db");
    const a = new SqliteLinkState({ location: file });
    const run = (fabHash: string, runType: string) =>
      a.createRun({
        fabId: "flwrlabs/app",
        fabVersion: "1.0.0",
        fabHash,
        overrideConfig: new Map(),
        federation: NOOP_FEDERATION,
        flwrAid: NOOP_FLWR_AID,
        runType,
      });
    const pending = run("cd".repeat(32), "serverapp");
    const finished = run("", "simulation");
    expect(
      a.updateRunStatus(finished, { status: "finished", subStatus: "stopped", details: "" }),
    ).toBe(true);
    a.close();
    // Turn the file back into what flwr-ts wrote before version 2.
    const db = openSqliteDatabase(file);
    db.exec(
      "DROP TABLE task; ALTER TABLE node DROP COLUMN session_end; UPDATE schema_version SET version = 1 WHERE component = 'linkstate'",
    );
    db.close();

    const b = new SqliteLinkState({ location: file });
    expect(b.getRun(pending)?.fabHash).toBe("cd".repeat(32));
    const task = b.getPrimaryTask(pending)!;
    expect(task).toMatchObject({ taskId: pending, runId: pending, type: "flwr-serverapp" });
    expect(task.fabHash).toBe("cd".repeat(32));
    expect(b.getPrimaryTask(finished)).toMatchObject({ type: "flwr-simulation" });
    expect(b.getPrimaryTask(finished)!.status?.subStatus).toBe("stopped");
    const claimed = b.claimTask(["flwr-serverapp"])!;
    expect(claimed.task.taskId).toBe(pending);
    expect(b.getTaskByToken(claimed.token)?.runId).toBe(pending);
    b.close();
    const check = openSqliteDatabase(file);
    expect(
      check
        .prepare("SELECT version FROM schema_version WHERE component = 'linkstate'")
        .pluck()
        .get(),
    ).toBe(3n);
    check.close();
  });
});

describe("SqliteLinkState schema version 3 (node.session_end)", () => {
  it("a version-2 database keeps its nodes, which start with no ended session", () => {
    const file = join(dir, "v2.db");
    const a = new SqliteLinkState({ location: file });
    const nodeId = a.createNode(NOOP_FLWR_AID, "none", Buffer.from("key-v2"), 30);
    expect(a.activateNode(nodeId, 30)).toBe(true);
    a.close();
    // Turn the file back into what flwr-ts wrote before version 3.
    const db = openSqliteDatabase(file);
    db.exec(
      "ALTER TABLE node DROP COLUMN session_end; UPDATE schema_version SET version = 2 WHERE component = 'linkstate'",
    );
    db.close();

    const b = new SqliteLinkState({ location: file });
    expect(b.getNodeInfo({ nodeIds: [nodeId] })[0]?.status).toBe("online");
    expect(b.deactivateNode(nodeId)).toBe(true);
    b.close();
    const check = openSqliteDatabase(file);
    expect(
      check
        .prepare("SELECT session_end FROM node WHERE public_key = ?")
        .pluck()
        .get(Buffer.from("key-v2")),
    ).toBe("deactivated");
    check.close();
  });
});

describe("SqliteLinkState refuses files it must not touch", () => {
  it("a non-SQLite file gives a clear error naming the file and is left untouched", () => {
    const file = join(dir, "not-a-db.db");
    const text = "this is a text file, not a database\n".repeat(10);
    writeFileSync(file, text);
    let err: unknown;
    try {
      new SqliteLinkState({ location: file });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateDatabaseError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/not a SQLite database/);
    expect(readFileSync(file, "utf8")).toBe(text);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it("a corrupt SQLite file gives a clear error", () => {
    const file = join(dir, "corrupt.db");
    const good = new SqliteLinkState({ location: file });
    for (let i = 0; i < 200; i++) good.createNode("a", "b", pem(i), 30);
    good.close();
    const bytes = readFileSync(file);
    // keep the header, destroy every page after it
    for (let i = 100; i < bytes.length; i++) bytes[i] = 0xa5;
    writeFileSync(file, bytes);
    let err: unknown;
    try {
      const s = new SqliteLinkState({ location: file });
      s.getNodeInfo();
      s.close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateDatabaseError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/corrupt|not a SQLite database|malformed/);
  });

  it("a missing directory, a directory path, and a foreign schema are refused", () => {
    expect(() => new SqliteLinkState({ location: join(dir, "nope", "state.db") })).toThrow(
      /directory .* does not exist/,
    );
    expect(() => new SqliteLinkState({ location: dir })).toThrow(/is a directory/);
    const file = join(dir, "foreign.db");
    const db = openSqliteDatabase(file);
    db.exec("CREATE TABLE node (node_id INTEGER); CREATE TABLE alembic_version (v TEXT)");
    db.close();
    expect(() => new SqliteLinkState({ location: file })).toThrow(/another program/);
  });

  it("a schema newer than this program is refused", () => {
    const file = join(dir, "newer.db");
    new SqliteLinkState({ location: file }).close();
    const db = openSqliteDatabase(file);
    db.prepare("UPDATE schema_version SET version = 99 WHERE component = 'linkstate'").run();
    db.close();
    expect(() => new SqliteLinkState({ location: file })).toThrow(/newer than this flwr-ts/);
  });

  it("a closed state refuses calls", () => {
    const s = new SqliteLinkState();
    s.close();
    s.close();
    expect(() => s.getNodeInfo()).toThrow(/closed/);
  });
});

describe("SqliteLinkState page cache and the run log", () => {
  it("releases SQLite's page cache after each LOG_CACHE_RELEASE_BYTES of log text (issue #13: RSS followed the logs table)", () => {
    const db = openSqliteDatabase(join(dir, "log-cache.db"));
    const s = new SqliteLinkState({ database: db, runLogMaxBytes: 64 * 1024 * 1024 });
    const pragma = vi.spyOn(db, "pragma");
    const runId = s.createRun({
      fabId: "flwrlabs/app",
      fabVersion: "1.0.0",
      fabHash: "ab".repeat(32),
      overrideConfig: new Map(),
      federation: NOOP_FEDERATION,
      federationConfig: Buffer.alloc(0),
      flwrAid: NOOP_FLWR_AID,
      runType: "serverapp",
    });
    const line = `${"x".repeat(1023)}\n`;
    const releases = () => pragma.mock.calls.filter(([p]) => p === "shrink_memory").length;
    const perRelease = LOG_CACHE_RELEASE_BYTES / line.length;
    for (let i = 0; i < perRelease - 1; i++) s.addServerAppLog(runId, line);
    expect(releases()).toBe(0);
    s.addServerAppLog(runId, line);
    expect(releases()).toBe(1);
    for (let i = 0; i < 2 * perRelease; i++) s.addServerAppLog(runId, line);
    expect(releases()).toBe(3);
    // the log itself is untouched
    expect(s.getServerAppLog(runId).logs.length).toBe(3 * perRelease * line.length);
    s.close();
    db.close();
  });
});
