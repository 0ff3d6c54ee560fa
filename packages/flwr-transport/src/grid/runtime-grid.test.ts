/**
 * `RuntimeGrid` against a Flower 1.42 SuperLink Runtime API on a real local HTTP server
 * (`test/superlink-runtime-server.ts`, 1.42's handler rules): the task token on every call,
 * GetNodes, instructions pushed with their objects in the answered session as node 1, replies
 * pulled, verified, confirmed and matched to their instructions, unavailable reply objects as
 * 1.42's MESSAGE_UNAVAILABLE reply, and a revoked token (a stopped run) as RunNotRunningError.
 * The whole ServerApp process against Python 1.42 runs in e2e/serverapp-on-python-1.42.test.ts.
 */
import { ErrorCode, Message, MetricRecord, RecordDict } from "@flwr-ts/core";
import { PushObjectRequest } from "@flwr-ts/core/proto";
import { afterEach, describe, expect, it } from "vitest";
import {
  type SuperLinkRuntime,
  startSuperLinkRuntime,
} from "../../test/superlink-runtime-server.js";
import { RunNotRunningError } from "../app-runtime/appio-errors.js";
import { RuntimeGrid } from "./runtime-grid.js";

const RUN = 77n;
const TOKEN = "task-token-1";

function instruction(dst: bigint, x: number): Message {
  return new Message(new RecordDict({ metrics: new MetricRecord({ x }) }), dst, "train");
}

describe("RuntimeGrid (Flower 1.42 SuperLink Runtime API)", () => {
  let server: SuperLinkRuntime | undefined;
  let grid: RuntimeGrid | undefined;
  afterEach(async () => {
    grid?.close();
    await server?.close();
    grid = undefined;
    server = undefined;
  });

  const connect = async (nodes: bigint[] = [11n, 12n]) => {
    server = await startSuperLinkRuntime({ token: TOKEN, runId: RUN, nodes });
    grid = new RuntimeGrid({ address: server.address, insecure: true, token: TOKEN });
    grid.setRun(RUN);
    return { server, grid };
  };

  it("refuses an empty token", () => {
    expect(() => new RuntimeGrid({ address: "127.0.0.1:1", insecure: true, token: "" })).toThrow(
      /token must not be empty/,
    );
  });

  it("lists the run's nodes with GetNodes, sending the task token", async () => {
    const { server, grid } = await connect([5n, 9n, 2n ** 63n + 1n]);
    expect(await grid.getNodeIds()).toEqual([5n, 9n, 2n ** 63n + 1n]);
    expect(server.calls.map((c) => [c.path, c.token])).toEqual([["/v1/runtime/get-nodes", TOKEN]]);
  });

  it("sendAndReceive pushes instructions and their objects, then returns the verified replies", async () => {
    const { server, grid } = await connect();
    const sent = [instruction(11n, 1), instruction(12n, 2)];
    const pending = grid.sendAndReceive(sent, { timeout: 20 });
    // The SuperNodes answer a little later, as a real federation does.
    const until = Date.now() + 5_000;
    while (server.instructions.size < 2 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    for (const [id] of server.instructions)
      server.reply(id, (ins) => {
        const x = Number(ins.content.metricRecords.get("metrics")?.get("x"));
        return new Message(new RecordDict({ metrics: new MetricRecord({ doubled: x * 2 }) }), {
          replyTo: ins,
        });
      });
    const replies = await pending;

    // Instructions: stamped, ids = object ids, all objects stored in the answered session.
    expect([...server.instructions.keys()].sort()).toEqual(
      sent.map((m) => m.metadata.messageId).sort(),
    );
    for (const m of sent) {
      expect(m.metadata.runId).toBe(RUN);
      expect(m.metadata.srcNodeId).toBe(1n);
    }
    for (const [id, content] of server.objects)
      expect(content, `object ${id} was not pushed`).toBeDefined();
    const pushes = server.calls.filter((c) => c.path === "/v1/runtime/push-object");
    expect(pushes.length).toBeGreaterThan(0);
    for (const p of pushes) {
      const req = PushObjectRequest.decode(p.body);
      expect(req).toMatchObject({ sessionId: "session-1", runId: RUN, node: { nodeId: 1n } });
    }

    // Replies: matched to their instructions, content intact, each confirmed.
    expect(replies).toHaveLength(2);
    const byInstruction = new Map(replies.map((r) => [r.metadata.replyToMessageId, r]));
    for (const [i, m] of sent.entries()) {
      const r = byInstruction.get(m.metadata.messageId);
      expect(r?.content.metricRecords.get("metrics")?.get("doubled")).toBe((i + 1) * 2);
      expect(r?.metadata.srcNodeId).toBe(m.metadata.dstNodeId);
    }
    const confirms = server.calls.filter((c) => c.path === "/v1/runtime/confirm-message-received");
    expect(confirms).toHaveLength(2);
    expect(new Set(server.calls.map((c) => c.token))).toEqual(new Set([TOKEN]));
  });

  it("pullMessages turns a reply whose objects are gone into 1.42's MESSAGE_UNAVAILABLE reply", async () => {
    const { server, grid } = await connect();
    const [id] = await grid.pushMessages([instruction(11n, 3)]);
    server.reply(
      id!,
      (ins) =>
        new Message(new RecordDict({ metrics: new MetricRecord({ y: 1 }) }), { replyTo: ins }),
      { withholdObjects: true },
    );
    const [reply] = await grid.pullMessages([id!]);
    expect(reply?.hasError()).toBe(true);
    expect(reply?.error.code).toBe(ErrorCode.MESSAGE_UNAVAILABLE);
    expect(reply?.error.reason).toMatch(/^Reply message objects are unavailable\./);
    expect(reply?.metadata.replyToMessageId).toBe(id);
    expect(server.calls.map((c) => c.path)).not.toContain("/v1/runtime/confirm-message-received");
  });

  it("a revoked token (the run was stopped) fails the next call with RunNotRunningError", async () => {
    const { server, grid } = await connect();
    const pending = grid.sendAndReceive([instruction(11n, 4)], { timeout: 20 });
    while (server.instructions.size === 0) await new Promise((r) => setTimeout(r, 10));
    server.revoke();
    await expect(pending).rejects.toBeInstanceOf(RunNotRunningError);
    await expect(grid.getNodeIds()).rejects.toThrow(/revoked the task token/);
  });

  it("a push too large for the HTTP path (413) gives no ids, as 1.42's HttpGrid", async () => {
    server = await startSuperLinkRuntime({ token: TOKEN, runId: RUN, maxRequestBytes: 2_000 });
    grid = new RuntimeGrid({ address: server.address, insecure: true, token: TOKEN });
    grid.setRun(RUN);
    const big = new Message(
      new RecordDict({
        metrics: new MetricRecord({ xs: Array.from({ length: 500 }, (_, i) => i) }),
      }),
      11n,
      "train",
    );
    expect(await grid.pushMessages([instruction(11n, 1), big])).toEqual([]);
    // The metadata went through; the big array object was refused with 413.
    expect([...server.objects.values()].some((c) => c === undefined)).toBe(true);
    // Small ones still go through.
    expect(await grid.pushMessages([instruction(11n, 2)])).toHaveLength(1);
  });

  it("an instruction that is not one is refused before anything is sent", async () => {
    const { server, grid } = await connect();
    const bad = instruction(1n, 1);
    await expect(grid.pushMessages([bad])).rejects.toThrow(/invalid dstNodeId 1/);
    expect(server.calls).toHaveLength(0);
  });
});
