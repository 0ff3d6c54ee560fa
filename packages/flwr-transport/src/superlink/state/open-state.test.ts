import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { rawObject } from "../../../test/object-store.suite.js";
import { MemoryObjectStore } from "../../object-store/memory-object-store.js";
import { SqliteObjectStore } from "../../object-store/sqlite-object-store.js";
import { MemoryLinkState } from "./memory-link-state.js";
import { openState, parseDatabaseOption } from "./open-state.js";
import { StateDatabaseError } from "./sqlite-database.js";
import { SqliteLinkState } from "./sqlite-link-state.js";

const dir = mkdtempSync(join(tmpdir(), "flwr-openstate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pem = Buffer.from("-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----\n");

describe("parseDatabaseOption (Flower's --database)", () => {
  it.each([
    [":flwr-in-memory:", { kind: "memory" }],
    [":memory:", { kind: "sqlite-memory" }],
    ["sqlite://", { kind: "sqlite-memory" }],
    ["sqlite:///:memory:", { kind: "sqlite-memory" }],
    ["state.db", { kind: "sqlite-file", file: "state.db" }],
    ["/var/lib/flwr/state.db", { kind: "sqlite-file", file: "/var/lib/flwr/state.db" }],
    ["sqlite:///rel/state.db", { kind: "sqlite-file", file: "rel/state.db" }],
    ["sqlite:////abs/state.db", { kind: "sqlite-file", file: "/abs/state.db" }],
    [
      "postgres://u:pw@h:5433/db",
      { kind: "postgres", url: "postgres://u:***@h:5433/db", schema: "public" },
    ],
  ])("%s", (value, expected) => {
    expect(parseDatabaseOption(value)).toEqual(expected);
  });

  it.each([
    ["", /empty --database/],
    ["   ", /empty --database/],
    ["mysql://host/db", /unsupported URL scheme/],
    ["postgresql://u@/db", /not a valid URL/],
    ["sqlite:relative.db", /sqlite:\/\/\/relative/],
    ["sqlite:///x.db?mode=ro", /query parameters/],
  ])("refuses %j", (value, message) => {
    expect(() => parseDatabaseOption(value)).toThrow(message);
  });
});

describe("openState", () => {
  it("defaults to the pure in-memory stores", () => {
    const s = openState();
    expect(s.linkState).toBeInstanceOf(MemoryLinkState);
    expect(s.objectStore).toBeInstanceOf(MemoryObjectStore);
    expect(s.location).toEqual({ kind: "memory" });
    s.close();
  });

  it(":memory: gives SQLite stores sharing one in-memory connection", () => {
    const s = openState(":memory:");
    expect(s.linkState).toBeInstanceOf(SqliteLinkState);
    expect(s.objectStore).toBeInstanceOf(SqliteObjectStore);
    const ls = s.linkState as SqliteLinkState;
    const os = s.objectStore as SqliteObjectStore;
    expect(ls.database).toBe(os.database);
    s.close();
    expect(ls.database.open).toBe(false);
  });

  it("a file path and a sqlite:/// URL open the same file; state and objects survive", () => {
    const file = join(dir, "state.db");
    const a = openState(file);
    expect(a.location).toEqual({ kind: "sqlite-file", file: resolve(file) });
    const nodeId = a.linkState.createNode("aid", "name", pem, 30);
    const o = rawObject("ConfigRecord", [], "kept");
    a.objectStore.preregister(5n, { objectId: o.id, children: [] });
    expect(a.objectStore.put(o.id, o.bytes)).toBe(true);
    // closing the stores one by one releases the connection
    a.linkState.close();
    expect((a.objectStore as SqliteObjectStore).database.open).toBe(true);
    a.objectStore.close();
    expect((a.objectStore as SqliteObjectStore).database.open).toBe(false);

    // an absolute path in a URL: sqlite:////abs/path (resolve() starts with /)
    const b = openState(`sqlite:///${resolve(file)}`);
    expect(b.linkState.getNodeIdByPublicKey(pem)).toBe(nodeId);
    expect(b.objectStore.get(o.id).available).toBe(true);
    b.close();
  });

  it("errors name the file: missing directory, not a database", () => {
    const missing = join(dir, "no-such-dir", "state.db");
    expect(() => openState(missing)).toThrow(StateDatabaseError);
    expect(() => openState(missing)).toThrow(missing);
    const junk = join(dir, "junk.db");
    writeFileSync(junk, "hello");
    expect(() => openState(junk)).toThrow(new RegExp(`${junk}.*not a SQLite database`));
  });
});
