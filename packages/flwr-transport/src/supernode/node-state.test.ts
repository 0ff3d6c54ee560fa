/** The SuperNode's NodeState: pending runs, token rules, CLIENT_APP_CRASHED on token expiry. */
import { deflateMessage, ErrorCode, Message, messageFromProto, RecordDict } from "@flwr-ts/core";
import { describe, expect, test } from "vitest";
import { prepareOutgoing } from "../app-runtime/object-transfer.js";
import { CLIENT_APP_CRASHED_REASON, NodeState } from "./node-state.js";

function instruction(runId: bigint) {
  const m = new Message(new RecordDict(), 5n, "train");
  m.metadata.runId = runId;
  m.metadata.srcNodeId = 1n;
  const out = prepareOutgoing(m);
  return { message: m, out };
}

describe("NodeState", () => {
  test("a stored instruction makes its run pending until a token is taken", () => {
    const state = new NodeState();
    const { out } = instruction(7n);
    state.storeInstruction(out.proto, out.deflated.tree, out.deflated.objects);
    expect(state.runIdsWithPendingMessages()).toEqual([7n]);
    const token = state.createToken(7n)!;
    expect(token).toMatch(/^[0-9a-f]{256}$/);
    expect(state.createToken(7n)).toBeUndefined();
    expect(state.runIdsWithPendingMessages()).toEqual([]);
    expect(state.getRunIdByToken(token)).toBe(7n);
    expect(state.takeInstruction(7n)?.metadata?.messageId).toBe(out.deflated.messageId);
    expect(state.takeInstruction(7n)).toBeUndefined();
    state.close();
  });

  test("an expired token answers the retrieved instruction with CLIENT_APP_CRASHED", () => {
    let now = 1_800_000_000_000;
    const state = new NodeState(() => now);
    const { out } = instruction(9n);
    state.storeInstruction(out.proto, out.deflated.tree, out.deflated.objects);
    const token = state.createToken(9n)!;
    state.takeInstruction(9n);
    now += 25_000;
    expect(state.acknowledgeAppHeartbeat(token)).toBe(true); // now valid for 60 s
    now += 59_000;
    state.expireTokens();
    expect(state.getReply(out.deflated.messageId)).toBeUndefined();
    now += 2_000;
    state.expireTokens();
    expect(state.verifyToken(9n, token)).toBe(false);
    const reply = state.getReply(out.deflated.messageId)!;
    expect(reply.error).toEqual({
      code: ErrorCode.CLIENT_APP_CRASHED,
      reason: CLIENT_APP_CRASHED_REASON,
    });
    // The synthesized reply is a valid Flower reply whose objects are in the node's store.
    const core = messageFromProto(reply);
    expect(core.metadata.replyToMessageId).toBe(out.deflated.messageId);
    expect(core.metadata.dstNodeId).toBe(1n);
    const id = reply.metadata!.messageId;
    expect(state.store.get(id).available).toBe(true);
    core.metadata.messageId = "";
    expect(deflateMessage(core).messageId).toBe(id);
    state.close();
  });
});
