/**
 * Interop with the pinned Python flwr (interop/record_vectors.py): random messages of every
 * record value kind and dtype (0-d and empty arrays, unicode keys, uint64 > 2^63, negative
 * ints, bytes, bool lists, a > 5 MiB array and repeated identical chunks) must serialize to
 * byte-identical objects with identical IDs in both directions, and objects made by flwr-ts
 * must inflate in Python to equal records.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pythonFlwrAvailable, pythonPath, repoRoot } from "../../../interop/python.js";
import {
  ArrayRecord,
  ConfigRecord,
  DEFAULT_MAX_ARRAY_CHUNK_SIZE,
  deflateMessage,
  inflateMessage,
  Message,
  Metadata,
  NdArray,
  RecordDict,
} from "../src/index.js";
import { messageArb } from "./records-arbitraries.js";
import { type MessageDesc, messageFromDesc, messageToDesc } from "./records-desc.js";

const SCRIPT = join(repoRoot, "interop/record_vectors.py");

interface Case {
  desc: MessageDesc;
  root: string;
  objects: Record<string, string>;
}

function py(args: string[], input?: string): string {
  return execFileSync(pythonPath, [SCRIPT, ...args], {
    encoding: "utf8",
    input,
    maxBuffer: 1 << 30,
  });
}

function pythonCases(seed: number, chunkSize: number, big: boolean): Case[] {
  return (
    JSON.parse(py(["gen", String(seed), String(chunkSize), big ? "1" : "0"])) as { cases: Case[] }
  ).cases;
}

function pythonCheck(cases: Case[], chunkSize: number): { ok: boolean; problems: string[] }[] {
  return (
    JSON.parse(py(["check", String(chunkSize)], JSON.stringify({ cases }))) as {
      results: { ok: boolean; problems: string[] }[];
    }
  ).results;
}

const toMap = (objects: Record<string, string>) =>
  new Map(Object.entries(objects).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, "base64"))]));

function expectSameAsPython(c: Case, chunkSize: number): void {
  const msg = messageFromDesc(c.desc);
  const d = deflateMessage(msg, { chunkSize });
  expect(d.messageId).toBe(c.root);
  const theirs = toMap(c.objects);
  expect([...d.objects.keys()].sort()).toEqual([...theirs.keys()].sort());
  for (const [id, bytes] of d.objects) {
    expect(Buffer.from(bytes).equals(Buffer.from(theirs.get(id)!)), `object ${id}`).toBe(true);
  }
  const back = inflateMessage(theirs, c.root);
  // (Python's descriptions may repeat a key; a dict, like a Map, keeps the last value.)
  expect(messageToDesc(back)).toEqual(messageToDesc(msg));
}

function toCase(msg: Message, chunkSize: number): Case {
  const d = deflateMessage(msg, { chunkSize });
  const objects: Record<string, string> = {};
  for (const [id, b] of d.objects) objects[id] = Buffer.from(b).toString("base64");
  return { desc: messageToDesc(msg), root: d.messageId, objects };
}

function bigMessage(): Message {
  const zeros = new Float64Array(2 * 1024 * 1024 + 3); // > 16 MiB: repeated identical chunks
  const random = new Float32Array(6 * 256 * 1024 + 4); // > 5 MiB
  for (let i = 0; i < random.length; i++) random[i] = Math.sin(i) * 1000;
  const content = new RecordDict({
    big: new ArrayRecord({
      zeros: NdArray.fromTypedArray(zeros),
      random: NdArray.fromTypedArray(random, [random.length / 4, 4]),
    }),
    config: new ConfigRecord({ "server-round": 3n, lr: 0.01 }),
  });
  return new Message(
    new Metadata({
      runId: 7n,
      messageId: "",
      srcNodeId: 1n,
      dstNodeId: 9n,
      replyToMessageId: "",
      groupId: "3",
      ttl: 43200,
      createdAt: 1774800000.5,
      messageType: "train",
    }),
    content,
  );
}

describe.skipIf(!pythonFlwrAvailable)("records and objects interop with Python flwr", () => {
  it("Python → TS: byte-identical objects and IDs, equal inflated records (5 MiB chunks, big arrays)", () => {
    const cases = pythonCases(1, DEFAULT_MAX_ARRAY_CHUNK_SIZE, true);
    expect(cases.length).toBe(6);
    const big = cases[1]!;
    const bigArrays = big.desc.content!.find(([k]) => k === "big");
    expect(bigArrays).toBeDefined();
    for (const c of cases) expectSameAsPython(c, DEFAULT_MAX_ARRAY_CHUNK_SIZE);
  });

  it("Python → TS with 64-byte chunks (many repeated chunks), several seeds", () => {
    for (const seed of [2, 3, 4, 5]) {
      for (const c of pythonCases(seed, 64, false)) expectSameAsPython(c, 64);
    }
  });

  it("TS → Python: random messages inflate in Python to equal records, byte-identical", () => {
    const msgs = fc.sample(messageArb, { numRuns: 40, seed: 20260329 });
    for (const chunkSize of [DEFAULT_MAX_ARRAY_CHUNK_SIZE, 64]) {
      const results = pythonCheck(
        msgs.map((m) => toCase(m, chunkSize)),
        chunkSize,
      );
      const bad = results.flatMap((r, i) => (r.ok ? [] : [`case ${i}: ${r.problems.join("; ")}`]));
      expect(bad).toEqual([]);
    }
  });

  it("the Python check detects a description that differs from the objects", () => {
    const msg = fc.sample(messageArb, { numRuns: 1, seed: 7 })[0]!;
    const c = toCase(msg, 64);
    c.desc.metadata.group_id += "x";
    const [result] = pythonCheck([c], 64);
    expect(result!.ok).toBe(false);
    expect(result!.problems.join()).toMatch(/differs|root id/);
  });

  it("TS → Python: a > 5 MiB array and a 16 MiB zeros array (repeated chunks)", () => {
    const msg = bigMessage();
    const c = toCase(msg, DEFAULT_MAX_ARRAY_CHUNK_SIZE);
    // zeros: [header+zeros][zeros][zeros][rest] → the two middle chunks are one object;
    // random: 2 chunks. Objects: 3 + 2 chunks, 2 Arrays, ArrayRecord, ConfigRecord, RecordDict, Message.
    expect(Object.keys(c.objects).length).toBe(11);
    const [result] = pythonCheck([c], DEFAULT_MAX_ARRAY_CHUNK_SIZE);
    expect(result).toEqual({ ok: true, problems: [] });
  });
});
