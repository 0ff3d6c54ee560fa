/**
 * Per-call latency of the SuperLink state on PostgreSQL (the synchronous worker-thread bridge,
 * `postgres-bridge.ts`) beside SQLite (a WAL file) and the in-memory stores, in one run: the
 * figures in the transport README ("Several SuperLinks on PostgreSQL"). PostgreSQL is a
 * throw-away local server (`packages/flwr-transport/test/postgres-server.ts`, loopback TCP).
 * Python Flower has no PostgreSQL LinkState to compare with (its SqlLinkState is SQLite).
 *
 * Run: `npx tsx --conditions=source bench/postgres-state-latency.ts [calls]` (default 2000).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeObjectHead, objectIdOf } from "../packages/flwr-core/src/index.js";
import { openState } from "../packages/flwr-transport/src/superlink/state/open-state.js";
import { PostgresBridge } from "../packages/flwr-transport/src/superlink/state/postgres-bridge.js";
import { parsePostgresUrl } from "../packages/flwr-transport/src/superlink/state/postgres-url.js";
import { startTestPostgres } from "../packages/flwr-transport/test/postgres-server.js";

const CALLS = Number(process.argv[2] ?? 2000);

function perCall(n: number, fn: (i: number) => void): string {
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const us = Number(process.hrtime.bigint() - t) / 1e3 / n;
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} µs`;
}

function object(body: Uint8Array) {
  const head = encodeObjectHead("ConfigRecord", [], body.length);
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  return { id: objectIdOf(bytes), bytes };
}

function measure(database: string): Record<string, string> {
  const { linkState: s, objectStore: o, close } = openState(database);
  const f: Record<string, string> = {};
  const key = (i: number) =>
    Buffer.from(`-----BEGIN PUBLIC KEY-----\nb${i}\n-----END PUBLIC KEY-----\n`);
  const ids: bigint[] = [];
  f.createNode = perCall(CALLS, (i) => ids.push(s.createNode("aid", "n", key(i), 30)));
  for (const id of ids) s.activateNode(id, 30);
  f.heartbeat = perCall(CALLS, (i) => s.acknowledgeNodeHeartbeat(ids[i]!, 30));
  const runId = s.createRun({
    fabId: "",
    fabVersion: "",
    fabHash: "",
    overrideConfig: new Map(),
    federation: "@none/default",
    flwrAid: "aid",
    runType: "serverapp",
  });
  const now = Date.now() / 1000;
  f.storeMessageIns = perCall(CALLS, (i) => {
    s.storeMessageIns({
      metadata: {
        runId,
        messageId: i.toString(16).padStart(64, "0"),
        srcNodeId: 1n,
        dstNodeId: ids[i]!,
        replyToMessageId: "",
        groupId: "1",
        ttl: 3600,
        messageType: "train",
        createdAt: now,
      },
      content: { items: [] },
      error: undefined,
    });
  });
  f["getMessageIns (1 msg)"] = perCall(CALLS, (i) => s.getMessageIns(ids[i]!));
  f["getMessageIns (empty)"] = perCall(CALLS, (i) => s.getMessageIns(ids[i]!));
  const small = Array.from({ length: CALLS }, (_, i) => {
    const b = new Uint8Array(1024);
    new DataView(b.buffer).setUint32(0, i);
    return object(b);
  });
  f["preregister+put 1 KiB"] = perCall(CALLS, (i) => {
    o.preregister(runId, { objectId: small[i]!.id, children: [] });
    o.put(small[i]!.id, small[i]!.bytes);
  });
  f["get 1 KiB"] = perCall(CALLS, (i) => o.get(small[i]!.id));
  const big = object(new Uint8Array(16 * 1024 * 1024).fill(7));
  o.preregister(runId, { objectId: big.id, children: [] });
  f["put 16 MiB"] = perCall(1, () => o.put(big.id, big.bytes));
  f["get 16 MiB"] = perCall(3, () => o.get(big.id));
  close();
  return f;
}

const dir = mkdtempSync(join(tmpdir(), "flwr-pg-bench-"));
const pg = await startTestPostgres();
try {
  await pg.createDatabase("bench");
  const bridge = new PostgresBridge(parsePostgresUrl(pg.url("bench")).client, "bench");
  const roundTrip = perCall(CALLS, () => bridge.query("SELECT 1"));
  bridge.close();
  const columns = {
    memory: measure(":flwr-in-memory:"),
    "SQLite file": measure(join(dir, "state.db")),
    PostgreSQL: measure(pg.url("bench")),
  };
  const rows = Object.keys(columns.PostgreSQL);
  const names = Object.keys(columns) as (keyof typeof columns)[];
  console.log(
    `per call, ${CALLS} calls each (PostgreSQL bridge SELECT 1 round trip: ${roundTrip})`,
  );
  console.log(`| operation | ${names.join(" | ")} |`);
  console.log(`|---|${names.map(() => "---").join("|")}|`);
  for (const r of rows) console.log(`| ${r} | ${names.map((n) => columns[n][r]).join(" | ")} |`);
} finally {
  pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
