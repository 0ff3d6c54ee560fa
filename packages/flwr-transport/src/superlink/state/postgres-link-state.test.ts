import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { linkStateSuite } from "../../../test/link-state.suite.js";
import {
  postgresUnavailable,
  startTestPostgres,
  TEST_PG_PASSWORD,
  TEST_PG_USER,
  type TestPostgres,
} from "../../../test/postgres-server.js";
import { NOOP_FEDERATION, NOOP_FLWR_AID, PublicKeyInUseError } from "./link-state.js";
import { openPostgresState } from "./open-postgres-state.js";
import { openState, parseDatabaseOption } from "./open-state.js";
import { PostgresBridge } from "./postgres-bridge.js";
import { POSTGRES_STATE_CHANNEL, PostgresLinkState } from "./postgres-link-state.js";
import { preparePostgresSchema } from "./postgres-schema.js";
import { parsePostgresUrl } from "./postgres-url.js";
import { waitForChange } from "./wait-for-change.js";

const unavailable = postgresUnavailable();
const SUITE_TABLES =
  "node, run, logs, context, message_ins, message_res, token_store, nonce_store, fab, task";
const skip = unavailable !== undefined && process.env.FLWR_TS_SKIP_POSTGRES === "1";

if (unavailable !== undefined && !skip) {
  // Not silent: CI without PostgreSQL fails here with what to install.
  test("a PostgreSQL server can be started for the PostgreSQL LinkState tests", () => {
    throw new Error(`${unavailable} (or set FLWR_TS_SKIP_POSTGRES=1 to skip these tests)`);
  });
}

describe.skipIf(unavailable !== undefined)("PostgreSQL LinkState", () => {
  let server: TestPostgres;
  let n = 0;
  beforeAll(async () => {
    server = await startTestPostgres();
  });
  afterAll(() => server?.stop());

  // The suite's states share one connection (a worker thread each would cost ~0.3 s per test)
  // and one schema, emptied before each test; the opener's own path is tested below.
  let bridge: PostgresBridge | undefined;
  afterAll(() => bridge?.close());
  linkStateSuite("postgres", (options) => {
    if (bridge === undefined) {
      bridge = new PostgresBridge(parsePostgresUrl(server.url()).client, POSTGRES_STATE_CHANNEL);
      expect(preparePostgresSchema(bridge, "suite")).toBeUndefined();
    }
    bridge.exec(`TRUNCATE ${SUITE_TABLES} RESTART IDENTITY CASCADE`);
    const state = new PostgresLinkState({ ...options, bridge, name: "suite", schema: "suite" });
    // No notifications into the suite's states: its tests run one state at a time, and a
    // previous test's state (another origin on the shared connection) can still have NOTIFYs in
    // flight, which would reach this state as events of "another SuperLink" (a CI run saw one
    // wake a waitForChange that expected a timeout). Cross-SuperLink delivery is tested below.
    bridge.onNotification = undefined;
    return state;
  });

  test("parses postgresql:// and postgres:// URLs and hides the password", () => {
    expect(parseDatabaseOption("postgresql://u:secret@db.example:5433/flwr")).toEqual({
      kind: "postgres",
      url: "postgresql://u:***@db.example:5433/flwr",
      schema: "public",
    });
    expect(parseDatabaseOption("postgres://u@h/db?schema=fed_a")).toMatchObject({
      kind: "postgres",
      schema: "fed_a",
    });
  });

  test("bad URL, unreachable server, wrong password and missing database are one line each", () => {
    const message = (url: string) => {
      try {
        openState(url).close();
        return "opened";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(message("postgresql://u@/db")).toMatch(/not a valid URL; expected postgresql:\/\//);
    expect(message("postgresql://u@h:99999/db")).toMatch(/not a valid URL|out of range/);
    expect(message("postgresql://u@h/db?schema=Bad-Name")).toMatch(/schema 'Bad-Name'/);
    expect(message("postgresql://u@127.0.0.1:1/db")).toMatch(
      /cannot reach the server at 127\.0\.0\.1:1 \(ECONNREFUSED\)/,
    );
    expect(message(`postgresql://${TEST_PG_USER}:wrong@127.0.0.1:${server.port}/postgres`)).toMatch(
      /^PostgreSQL database 'postgresql:\/\/flwr:\*\*\*@.*password authentication failed/,
    );
    expect(message(server.url("no_such_db"))).toMatch(
      /database 'no_such_db' does not exist on 127\.0\.0\.1:\d+; create it first/,
    );
    for (const m of [message(server.url("no_such_db")), message("postgresql://u@127.0.0.1:1/d")]) {
      expect(m).not.toContain("\n");
      expect(m).not.toContain(TEST_PG_PASSWORD);
    }
  });

  test("two SuperLinks' states share nodes and runs, and wake each other by NOTIFY", async () => {
    const url = `${server.url()}?schema=shared_${n++}`;
    const a = openPostgresState(url);
    const b = openPostgresState(url);
    try {
      const key = Buffer.from("-----BEGIN PUBLIC KEY-----\nshared\n-----END PUBLIC KEY-----\n");
      const nodeId = a.linkState.createNode(NOOP_FLWR_AID, "none", key, 30);
      expect(b.linkState.getNodeIdByPublicKey(key)).toBe(nodeId);
      expect(() => b.linkState.createNode(NOOP_FLWR_AID, "none", key, 30)).toThrow(
        PublicKeyInUseError,
      );
      expect(b.linkState.activateNode(nodeId, 30)).toBe(true);
      const runId = a.linkState.createRun({
        fabId: "",
        fabVersion: "",
        fabHash: "",
        overrideConfig: new Map(),
        federation: NOOP_FEDERATION,
        flwrAid: NOOP_FLWR_AID,
        runType: "serverapp",
      });
      // B waits for the instruction that A stores: the event crosses by LISTEN/NOTIFY.
      const woke = waitForChange(
        b.linkState,
        (e) => e.type === "message-ins" && e.dstNodeId === nodeId,
        { timeoutMs: 10_000 },
      );
      const now = Date.now() / 1000;
      const stored = a.linkState.storeMessageIns({
        metadata: {
          runId,
          messageId: "ab".repeat(32),
          srcNodeId: 1n,
          dstNodeId: nodeId,
          replyToMessageId: "",
          groupId: "1",
          ttl: 600,
          messageType: "train",
          createdAt: now,
        },
        content: { items: [] },
        error: undefined,
      });
      expect(stored.ok).toBe(true);
      expect(await woke).toBe("event");
      const pulled = b.linkState.getMessageIns(nodeId);
      expect(pulled.map((m) => m.metadata?.messageId)).toEqual(["ab".repeat(32)]);
      expect(a.linkState.getMessageIns(nodeId)).toEqual([]); // delivered once, whichever SuperLink
    } finally {
      a.linkState.close();
      a.objectStore.close();
      b.linkState.close();
      b.objectStore.close();
    }
  });
});
