/**
 * Measures the SuperLink state: node registration and listing (10,000 nodes), heartbeats,
 * message inserts and pulls, and object put/get throughput, for the in-memory stores, SQLite in
 * memory and a SQLite file (WAL). Run: `npx tsx --conditions=source bench/state-throughput.ts [nodes]`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeObjectHead, objectIdOf } from "../packages/flwr-core/src/index.js";
import type { Message } from "../packages/flwr-core/src/proto/index.js";
import type { ObjectStore } from "../packages/flwr-transport/src/object-store/object-store.js";
import type { LinkState } from "../packages/flwr-transport/src/superlink/state/link-state.js";
import { openState } from "../packages/flwr-transport/src/superlink/state/open-state.js";

const NODES = Number(process.argv[2] ?? 10_000);
const MESSAGES = 10_000;
const dir = mkdtempSync(join(tmpdir(), "flwr-state-bench-"));

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function makeObject(type: "ArrayChunk" | "ConfigRecord", body: Uint8Array) {
  const head = encodeObjectHead(type, [], body.length);
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  return { id: objectIdOf(bytes), bytes };
}

function pem(i: number): Buffer {
  return Buffer.from(`-----BEGIN PUBLIC KEY-----\nbench-key-${i}\n-----END PUBLIC KEY-----\n`);
}

interface Row {
  backend: string;
  figures: Record<string, string>;
}

function benchLinkState(state: LinkState): Record<string, string> {
  const f: Record<string, string> = {};
  let t = process.hrtime.bigint();
  const ids: bigint[] = [];
  for (let i = 0; i < NODES; i++) ids.push(state.createNode("aid", "name", pem(i), 30));
  let d = ms(t);
  f["register nodes"] = `${NODES} in ${d.toFixed(0)} ms (${((NODES / d) * 1000).toFixed(0)}/s)`;

  t = process.hrtime.bigint();
  for (const id of ids) state.activateNode(id, 30);
  d = ms(t);
  f["activate nodes"] = `${((NODES / d) * 1000).toFixed(0)}/s`;

  t = process.hrtime.bigint();
  for (const id of ids) state.acknowledgeNodeHeartbeat(id, 30);
  d = ms(t);
  f.heartbeats = `${((NODES / d) * 1000).toFixed(0)}/s`;

  const listRuns = 5;
  t = process.hrtime.bigint();
  let listed = 0;
  for (let i = 0; i < listRuns; i++) listed = state.getNodeInfo().length;
  d = ms(t) / listRuns;
  f[`list ${listed} nodes`] = `${d.toFixed(1)} ms`;

  const runId = state.createRun({
    fabId: "bench/app",
    fabVersion: "1.0.0",
    fabHash: "",
    overrideConfig: new Map(),
    federation: "@none/default",
    flwrAid: "aid",
    runType: "serverapp",
  });
  const now = Date.now() / 1000;
  const msgs: Message[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    msgs.push({
      metadata: {
        runId,
        messageId: i.toString(16).padStart(64, "0"),
        srcNodeId: 1n,
        dstNodeId: ids[i % ids.length]!,
        replyToMessageId: "",
        groupId: "1",
        ttl: 3600,
        messageType: "train",
        createdAt: now,
      },
      content: { items: [] },
      error: undefined,
    });
  }
  t = process.hrtime.bigint();
  for (const m of msgs) state.storeMessageIns(m);
  d = ms(t);
  f["store instructions"] = `${((MESSAGES / d) * 1000).toFixed(0)}/s`;

  const pullNodes = Math.min(ids.length, MESSAGES);
  t = process.hrtime.bigint();
  let pulled = 0;
  for (let i = 0; i < pullNodes; i++) pulled += state.getMessageIns(ids[i]!).length;
  d = ms(t);
  f["pull instructions"] =
    `${pulled} by ${pullNodes} nodes, ${((pullNodes / d) * 1000).toFixed(0)} pulls/s`;
  return f;
}

function benchSmallObjects(store: ObjectStore, runId: bigint, salt: number, label: string) {
  const f: Record<string, string> = {};
  const small = Array.from({ length: 10_000 }, (_, i) => {
    const body = new Uint8Array(1024);
    new DataView(body.buffer).setUint32(0, i);
    new DataView(body.buffer).setUint32(4, salt);
    return makeObject("ConfigRecord", body);
  });
  let t = process.hrtime.bigint();
  for (const o of small) {
    store.preregister(runId, { objectId: o.id, children: [] });
    store.put(o.id, o.bytes);
  }
  let d = ms(t);
  f[`preregister+put 1 KiB${label}`] = `${((small.length / d) * 1000).toFixed(0)}/s`;
  t = process.hrtime.bigint();
  for (const o of small) store.get(o.id);
  d = ms(t);
  f[`get 1 KiB${label}`] = `${((small.length / d) * 1000).toFixed(0)}/s`;
  t = process.hrtime.bigint();
  store.deleteRun(runId);
  f[`deleteRun 10k objects${label}`] = `${ms(t).toFixed(0)} ms`;
  return f;
}

function benchObjects(store: ObjectStore): Record<string, string> {
  const f: Record<string, string> = benchSmallObjects(store, 2n, 0, "");
  // Large: 5 MiB ArrayChunks (Flower's chunk size), 40 of them = 200 MiB.
  const chunk = 5 * 1024 * 1024;
  const count = 40;
  const objs = Array.from({ length: count }, (_, i) => {
    const body = new Uint8Array(chunk);
    body.fill(i & 0xff);
    body[0] = i >> 8;
    return makeObject("ArrayChunk", body);
  });
  for (const o of objs) store.preregister(1n, { objectId: o.id, children: [] });
  const mb = (count * chunk) / 1024 / 1024;
  let t = process.hrtime.bigint();
  for (const o of objs) if (!store.put(o.id, o.bytes)) throw new Error("put failed");
  let d = ms(t);
  f["put 5 MiB objects"] = `${((mb / d) * 1000).toFixed(0)} MB/s (incl. SHA-256 check)`;
  t = process.hrtime.bigint();
  let bytes = 0;
  for (const o of objs) {
    const got = store.get(o.id);
    if (got.available) bytes += got.content.byteLength;
  }
  d = ms(t);
  if (bytes !== count * (objs[0]?.bytes.byteLength ?? 0)) throw new Error("get mismatch");
  f["get 5 MiB objects"] = `${((mb / d) * 1000).toFixed(0)} MB/s`;
  for (const o of objs) store.deleteMessage(o.id);
  Object.assign(f, benchSmallObjects(store, 3n, 1, " (after 200 MiB freed)"));

  return f;
}

const rows: Row[] = [];
for (const [backend, database] of [
  ["memory (:flwr-in-memory:)", ":flwr-in-memory:"],
  ["SQLite :memory:", ":memory:"],
  ["SQLite file (WAL)", join(dir, "state.db")],
] as const) {
  const opened = openState(database);
  const figures = { ...benchLinkState(opened.linkState), ...benchObjects(opened.objectStore) };
  opened.close();
  rows.push({ backend, figures });
  console.log(`\n${backend}`);
  for (const [k, v] of Object.entries(figures)) console.log(`  ${k.padEnd(44)} ${v}`);
}

// Reopen cost of a 10k-node SQLite file.
const t = process.hrtime.bigint();
const reopened = openState(join(dir, "state.db"));
const n = reopened.linkState.getNodeInfo().length;
console.log(`\nreopen SQLite file and list ${n} nodes: ${ms(t).toFixed(0)} ms`);
reopened.close();
rmSync(dir, { recursive: true, force: true });
