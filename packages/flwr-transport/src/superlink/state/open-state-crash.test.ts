/**
 * Crash safety of the SQLite state through `openState`: a process that is SIGKILLed after its
 * writes leaves a file that reopens with every committed node, run, message and object.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { rawObject } from "../../../test/object-store.suite.js";
import { NodeStatus } from "./link-state.js";
import { openState } from "./open-state.js";

const dir = mkdtempSync(join(tmpdir(), "flwr-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// tsx's loader, in this very process: the `tsx` CLI would run the script in a grandchild that
// SIGKILL on the CLI does not reach.
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const openStatePath = fileURLToPath(new URL("./open-state.ts", import.meta.url));
const corePath = fileURLToPath(new URL("../../../../flwr-core/src/index.ts", import.meta.url));

describe("SQLite state after SIGKILL", () => {
  it("committed nodes, statuses, runs, messages and objects survive a killed writer", async () => {
    const file = join(dir, "state.db");
    const script = join(dir, "writer.ts");
    writeFileSync(
      script,
      `
      import { openState } from ${JSON.stringify(openStatePath)};
      import { encodeObjectHead, objectIdOf } from ${JSON.stringify(corePath)};
      const s = openState(${JSON.stringify(file)});
      const pem = (i: number) => Buffer.from("-----BEGIN PUBLIC KEY-----\\nk" + i + "\\n-----END PUBLIC KEY-----\\n");
      const ids = [0, 1, 2].map((i) => s.linkState.createNode("aid", "name", pem(i), 30));
      s.linkState.activateNode(ids[1]!, 600);
      const runId = s.linkState.createRun({ fabId: "a/b", fabVersion: "1", fabHash: "", overrideConfig: new Map(),
        federation: "@none/default", flwrAid: "aid", runType: "serverapp" });
      const ok = s.linkState.storeMessageIns({ metadata: { runId, messageId: "ab".repeat(32), srcNodeId: 1n,
        dstNodeId: ids[1]!, replyToMessageId: "", groupId: "1", ttl: 3600, messageType: "train",
        createdAt: Date.now() / 1000 }, content: { items: [] }, error: undefined }).ok;
      const body = Buffer.from("survives");
      const bytes = Buffer.concat([encodeObjectHead("ConfigRecord", [], body.length), body]);
      const o = { id: objectIdOf(bytes), bytes };
      s.objectStore.preregister(runId, { objectId: o.id, children: [] });
      s.objectStore.put(o.id, o.bytes);
      process.stdout.write(JSON.stringify({ ids: ids.map(String), runId: String(runId), ok }) + "\\n");
      setInterval(() => {}, 1000); // stay alive until killed, connection open
      `,
    );
    const child = spawn(process.execPath, ["--conditions=source", "--import", tsxLoader, script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = once(child, "exit");
    const line = await new Promise<string>((resolve, reject) => {
      let buf = "";
      child.stdout.on("data", (d: Buffer) => {
        buf += d.toString();
        if (buf.includes("\n")) resolve(buf.trim());
      });
      child.once("exit", (code) => reject(new Error(`writer exited early (${code})`)));
    });
    const written = JSON.parse(line) as { ids: string[]; runId: string; ok: boolean };
    expect(written.ok).toBe(true);
    child.kill("SIGKILL");
    expect((await exited)[1]).toBe("SIGKILL");
    // The WAL was not checkpointed by a clean close: the data lives in the -wal file.
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(0);

    const s = openState(file);
    const nodes = s.linkState.getNodeInfo();
    expect(nodes.map((n) => n.nodeId.toString())).toEqual(written.ids);
    expect(nodes.map((n) => n.status)).toEqual([
      NodeStatus.REGISTERED,
      NodeStatus.ONLINE,
      NodeStatus.REGISTERED,
    ]);
    const runId = BigInt(written.runId);
    expect(s.linkState.getRun(runId)?.fabId).toBe("a/b");
    expect(s.linkState.getMessageIdsFromRunId(runId)).toEqual(new Set(["ab".repeat(32)]));
    const o = rawObject("ConfigRecord", [], "survives");
    expect(s.objectStore.get(o.id).available).toBe(true);
    s.close();
  });

  it("free pages go back to the file system after deleteRun and at the next open", () => {
    const file = join(dir, "vacuum.db");
    const big = (fill: number) =>
      rawObject("ArrayChunk", [], new Uint8Array(8 * 1024 * 1024).fill(fill));
    const a = big(7);
    const b = big(8);
    const s = openState(file);
    s.objectStore.preregister(1n, { objectId: a.id, children: [] });
    s.objectStore.preregister(2n, { objectId: b.id, children: [] });
    expect(s.objectStore.put(a.id, a.bytes)).toBe(true);
    expect(s.objectStore.put(b.id, b.bytes)).toBe(true);
    s.close(); // checkpoints the WAL into the file
    expect(statSync(file).size).toBeGreaterThan(16 * 1024 * 1024);

    const t = openState(file);
    t.objectStore.deleteRun(1n); // reclaims at once
    t.objectStore.deleteMessage(b.id); // hot path: pages kept for reuse
    t.close();
    const afterDelete = statSync(file).size;
    expect(afterDelete).toBeLessThan(10 * 1024 * 1024);
    expect(afterDelete).toBeGreaterThan(7 * 1024 * 1024);

    openState(file).close(); // opening reclaims the rest
    expect(statSync(file).size).toBeLessThan(1024 * 1024);
  });
});
