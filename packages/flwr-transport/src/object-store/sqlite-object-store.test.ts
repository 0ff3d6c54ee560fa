import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { objectStoreSuite, rawObject } from "../../test/object-store.suite.js";
import { openSqliteDatabase } from "../superlink/state/sqlite-database.js";
import { SqliteObjectStore } from "./sqlite-object-store.js";

const dir = mkdtempSync(join(tmpdir(), "flwr-objstore-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

objectStoreSuite("sqlite :memory:", () => new SqliteObjectStore({ location: ":memory:" }));
objectStoreSuite("sqlite file", () => new SqliteObjectStore({ location: join(dir, `s${n++}.db`) }));

describe("SqliteObjectStore persistence", () => {
  it("objects, children, refcounts and run registrations survive a reopen", () => {
    const file = join(dir, "reopen.db");
    const a = rawObject("ConfigRecord", [], "persist");
    const m = rawObject("Message", [a.id], "persist-msg");
    const tree = { objectId: m.id, children: [{ objectId: a.id, children: [] }] };
    const s1 = new SqliteObjectStore({ location: file });
    s1.preregister((1n << 64n) - 2n, tree);
    expect(s1.put(a.id, a.bytes)).toBe(true);
    s1.close();

    const s2 = new SqliteObjectStore({ location: file });
    expect(s2.preregister(3n, tree)).toEqual([m.id]);
    expect(s2.put(m.id, m.bytes)).toBe(true);
    expect(s2.getObjectTree(m.id)).toEqual(tree);
    const got = s2.get(a.id);
    expect(got.available && Buffer.from(got.content).equals(Buffer.from(a.bytes))).toBe(true);
    // the run id above 2^63 was stored losslessly: deleting it frees the message
    s2.deleteRun((1n << 64n) - 2n);
    expect(s2.has(m.id)).toBe(false);
    expect(s2.has(a.id)).toBe(false);
    s2.close();
  });

  it("shares a connection without closing it", () => {
    const db = openSqliteDatabase(join(dir, "shared.db"));
    const s = new SqliteObjectStore({ database: db });
    s.close();
    expect(db.open).toBe(true);
    db.close();
  });
});
