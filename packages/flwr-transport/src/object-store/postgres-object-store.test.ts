import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, test } from "vitest";
import { objectStoreSuite, rawObject } from "../../test/object-store.suite.js";
import {
  postgresUnavailable,
  startTestPostgres,
  type TestPostgres,
} from "../../test/postgres-server.js";
import { openPostgresState } from "../superlink/state/open-postgres-state.js";
import { PostgresBridge } from "../superlink/state/postgres-bridge.js";
import { POSTGRES_STATE_CHANNEL } from "../superlink/state/postgres-link-state.js";
import { preparePostgresSchema } from "../superlink/state/postgres-schema.js";
import { parsePostgresUrl } from "../superlink/state/postgres-url.js";
import { PostgresObjectStore } from "./postgres-object-store.js";

const unavailable = postgresUnavailable();
const skip = unavailable !== undefined && process.env.FLWR_TS_SKIP_POSTGRES === "1";

if (unavailable !== undefined && !skip) {
  // Not silent: CI without PostgreSQL fails here with what to install.
  test("a PostgreSQL server can be started for the PostgreSQL ObjectStore tests", () => {
    throw new Error(`${unavailable} (or set FLWR_TS_SKIP_POSTGRES=1 to skip these tests)`);
  });
}

describe.skipIf(unavailable !== undefined)("PostgreSQL ObjectStore", () => {
  let server: TestPostgres;
  let bridge: PostgresBridge | undefined;
  beforeAll(async () => {
    server = await startTestPostgres();
  });
  afterAll(() => {
    bridge?.close();
    server?.stop();
  });

  // One connection and schema for the suite (emptied before each test).
  objectStoreSuite("postgres", () => {
    if (bridge === undefined) {
      bridge = new PostgresBridge(parsePostgresUrl(server.url()).client, POSTGRES_STATE_CHANNEL);
      expect(preparePostgresSchema(bridge, "suite")).toBeUndefined();
    }
    bridge.exec("TRUNCATE objects, object_children, run_objects CASCADE");
    return new PostgresObjectStore({ bridge, name: "suite" });
  });

  it("an object pushed through one SuperLink is pulled through another; big objects are bytea", () => {
    const url = `${server.url()}?schema=shared_objects`;
    const a = openPostgresState(url);
    const b = openPostgresState(url);
    try {
      // 16 MiB of incompressible bytes under one object id.
      const body = Buffer.alloc(16 * 1024 * 1024);
      for (let i = 0; i < body.length; i += 32) {
        createHash("sha256").update(String(i)).digest().copy(body, i);
      }
      const big = rawObject("ConfigRecord", [], body);
      const msg = rawObject("Message", [big.id], "shared-msg");
      const tree = { objectId: msg.id, children: [{ objectId: big.id, children: [] }] };
      expect(a.objectStore.preregister(5n, tree)).toEqual([big.id, msg.id]);
      expect(b.objectStore.preregister(5n, tree)).toEqual([big.id, msg.id]);
      expect(a.objectStore.put(big.id, big.bytes)).toBe(true);
      expect(b.objectStore.put(msg.id, msg.bytes)).toBe(true);
      const got = b.objectStore.get(big.id);
      expect(got.available && Buffer.from(got.content).equals(Buffer.from(big.bytes))).toBe(true);
      expect(a.objectStore.contentLength(big.id)).toBe(big.bytes.length);
      expect(b.objectStore.getObjectTree(msg.id)).toEqual(tree);
      a.objectStore.deleteMessage(msg.id);
      expect(b.objectStore.has(msg.id)).toBe(false);
      expect(b.objectStore.has(big.id)).toBe(false);
    } finally {
      for (const s of [a, b]) {
        s.linkState.close();
        s.objectStore.close();
      }
    }
  });
});
