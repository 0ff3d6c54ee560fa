import { describe, expect, it } from "vitest";
import { ClientApp } from "../app/client-app.js";
import { MemoryLogger } from "../app/logger.js";
import { ErrorCode } from "../message/error.js";
import { Message } from "../message/message.js";
import { objectIdOfInflatable } from "../objects/deflate.js";
import { ArrayRecord } from "../records/array-record.js";
import { ConfigRecord } from "../records/config-record.js";
import { RecordDict } from "../records/record-dict.js";
import { InvalidInstructionError, stampInstruction } from "./grid.js";
import { InMemoryGrid } from "./in-memory-grid.js";

function echoApp(): ClientApp {
  const app = new ClientApp({ logger: new MemoryLogger() });
  app.query()((msg, ctx) => {
    const content = new RecordDict([
      ["echo", msg.content.configRecords.get("c") ?? new ConfigRecord()],
      ["who", new ConfigRecord({ node: ctx.nodeId, part: ctx.nodeConfig["partition-id"] ?? "" })],
    ]);
    return new Message(content, { replyTo: msg });
  });
  return app;
}

function query(dst: bigint, text = "hi"): Message {
  return new Message(new RecordDict({ c: new ConfigRecord({ text }) }), dst, "query");
}

describe("stampInstruction", () => {
  it("fills runId, src=1 and the message id (the object id with a blank id)", () => {
    const m = query(5n);
    const id = stampInstruction(m, 77n);
    expect(m.metadata.runId).toBe(77n);
    expect(m.metadata.srcNodeId).toBe(1n);
    expect(m.metadata.messageId).toBe(id);
    expect(objectIdOfInflatable(m)).toBe(id);
    expect(m.metadata.ttl).toBe(43200);
  });

  it("rejects replies, non-positive TTLs and bad destinations", () => {
    const ins = query(5n);
    stampInstruction(ins, 1n);
    const reply = new Message(new RecordDict(), { replyTo: ins });
    expect(() => stampInstruction(reply, 1n)).toThrow(InvalidInstructionError);
    const noTtl = query(5n);
    noTtl.metadata.ttl = 0;
    expect(() => stampInstruction(noTtl, 1n)).toThrow(/ttl/);
    expect(() => stampInstruction(query(1n), 1n)).toThrow(/dstNodeId/);
  });
});

describe("InMemoryGrid", () => {
  it("delivers through the object format and matches replies by reply_to", async () => {
    const grid = new InMemoryGrid({ runId: 5n });
    const a = grid.addNode({ clientApp: echoApp(), nodeConfig: { "partition-id": 0n } });
    const b = grid.addNode({ clientApp: echoApp(), nodeConfig: { "partition-id": 1n } });
    expect(new Set(await grid.getNodeIds())).toEqual(new Set([a, b]));
    const msgs = [query(a, "to-a"), query(b, "to-b")];
    const replies = await grid.sendAndReceive(msgs);
    expect(replies).toHaveLength(2);
    for (const r of replies) {
      const ins = msgs.find((m) => m.metadata.messageId === r.metadata.replyToMessageId)!;
      expect(r.metadata.srcNodeId).toBe(ins.metadata.dstNodeId);
      expect(r.metadata.dstNodeId).toBe(1n);
      expect(r.metadata.runId).toBe(5n);
      expect(r.metadata.messageId).toBe(objectIdOfInflatable(r));
      // the ClientApp saw a deserialized copy, not the instruction object itself
      expect(r.content.configRecords.get("echo")).not.toBe(ins.content.configRecords.get("c"));
      expect(r.content.configRecords.get("echo")?.get("text")).toBe(
        ins.content.configRecords.get("c")?.get("text"),
      );
      expect(r.content.configRecords.get("who")?.get("node")).toBe(ins.metadata.dstNodeId);
    }
    // pulled replies are forgotten; pulling again gives MESSAGE_UNAVAILABLE
    const again = await grid.pullMessages([msgs[0]!.metadata.messageId]);
    expect(again[0]?.error.code).toBe(ErrorCode.MESSAGE_UNAVAILABLE);
    expect(again[0]?.metadata.messageType).toBe("system");
  });

  it("push then pull: pending ids yield nothing until the reply exists", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const app = new ClientApp();
    app.query()(async (msg) => {
      await gate;
      return new Message(new RecordDict(), { replyTo: msg });
    });
    const grid = new InMemoryGrid({ nodes: [{ clientApp: app, nodeId: 10n }] });
    const [id] = await grid.pushMessages([query(10n)]);
    expect(await grid.pullMessages([id!])).toEqual([]);
    release();
    const replies = await grid.sendAndReceive([]); // flushes nothing, resolves at once
    expect(replies).toEqual([]);
    await new Promise((r) => setImmediate(r));
    const got = await grid.pullMessages([id!]);
    expect(got).toHaveLength(1);
    expect(got[0]!.metadata.replyToMessageId).toBe(id);
  });

  it("sendAndReceive returns the replies received when the timeout passes", async () => {
    const slow = new ClientApp();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    slow.query()(async (msg) => {
      await gate;
      return new Message(new RecordDict(), { replyTo: msg });
    });
    const grid = new InMemoryGrid({
      nodes: [
        { clientApp: echoApp(), nodeId: 2n },
        { clientApp: slow, nodeId: 3n },
      ],
    });
    const replies = await grid.sendAndReceive([query(2n), query(3n)], { timeout: 0.02 });
    expect(replies.map((r) => r.metadata.srcNodeId)).toEqual([2n]);
    release();
  });

  it("synthesizes NODE_UNAVAILABLE for instructions pending on a removed node", async () => {
    const hang = new ClientApp();
    hang.query()(() => new Promise<Message>(() => {}));
    const grid = new InMemoryGrid({ nodes: [{ clientApp: hang, nodeId: 4n }] });
    const pending = grid.sendAndReceive([query(4n)]);
    await new Promise((r) => setImmediate(r));
    grid.removeNode(4n);
    const [r] = await pending;
    expect(r!.error.code).toBe(ErrorCode.NODE_UNAVAILABLE);
    expect(r!.metadata.srcNodeId).toBe(1n);
    expect(await grid.getNodeIds()).toEqual([]);
  });

  it("rejects unknown destinations and invalid node ids", async () => {
    const grid = new InMemoryGrid({ nodes: [{ clientApp: echoApp(), nodeId: 2n }] });
    await expect(grid.pushMessages([query(99n)])).rejects.toThrow(/no node with id 99/);
    expect(() => grid.addNode({ clientApp: echoApp(), nodeId: 2n })).toThrow(/already used/);
    expect(() => grid.addNode({ clientApp: echoApp(), nodeId: 1n })).toThrow(
      InvalidInstructionError,
    );
  });

  it("turns a reply that cannot be serialized into an error reply", async () => {
    const bad = new ClientApp({ logger: new MemoryLogger() });
    bad.query()((msg) => {
      const content = new RecordDict({ a: new ArrayRecord() });
      const reply = new Message(content, { replyTo: msg });
      // corrupt the reply after construction so that deflating fails
      (reply.metadata as unknown as { runId: unknown }).runId = "not a bigint";
      return reply;
    });
    const grid = new InMemoryGrid({ nodes: [{ clientApp: bad, nodeId: 2n }] });
    const [r] = await grid.sendAndReceive([query(2n)]);
    expect(r!.hasError()).toBe(true);
    expect(r!.error.code).toBe(ErrorCode.CLIENT_APP_RAISED_EXCEPTION);
  });

  it("keeps each node's context state across messages", async () => {
    const app = new ClientApp();
    app.query()((msg, ctx) => {
      const n = ((ctx.state.configRecords.get("s")?.get("n") as bigint | undefined) ?? 0n) + 1n;
      ctx.state.set("s", new ConfigRecord({ n }));
      return new Message(new RecordDict({ r: new ConfigRecord({ n }) }), { replyTo: msg });
    });
    const grid = new InMemoryGrid({ nodes: [{ clientApp: app, nodeId: 2n }] });
    await grid.sendAndReceive([query(2n)]);
    const [r] = await grid.sendAndReceive([query(2n)]);
    expect(r!.content.configRecords.get("r")?.get("n")).toBe(2n);
    expect(grid.contextOf(2n).state.configRecords.get("s")?.get("n")).toBe(2n);
  });
});
