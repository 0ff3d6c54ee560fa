import {
  ErrorCode,
  inflateMessage,
  Message,
  Metadata,
  objectIdOfInflatable,
  RecordDict,
} from "@flwr-ts/core";
import { describe, expect, test } from "vitest";
import { buildErrorReply, EXECUTION_UNAVAILABLE_REASON } from "./error-reply.js";

function instruction(): Message {
  const md = new Metadata({
    runId: 123n,
    messageId: "",
    srcNodeId: 1n,
    dstNodeId: 456n,
    replyToMessageId: "",
    groupId: "7",
    createdAt: 1_774_800_000,
    ttl: 43_200,
    messageType: "train",
  });
  const msg = new Message(md, new RecordDict());
  md.messageId = objectIdOfInflatable(msg);
  return msg;
}

describe("buildErrorReply (Flower's reply rules)", () => {
  test("swaps src/dst, keeps run/group/type, replies to the instruction, ttl = remaining lifetime", () => {
    const ins = instruction();
    const now = 1_774_800_000 + 200.5;
    const { message } = buildErrorReply(ins, undefined, undefined, now);
    const md = message.metadata;
    expect(md.srcNodeId).toBe(456n);
    expect(md.dstNodeId).toBe(1n);
    expect(md.runId).toBe(123n);
    expect(md.groupId).toBe("7");
    expect(md.messageType).toBe("train");
    expect(md.replyToMessageId).toBe(ins.metadata.messageId);
    expect(md.createdAt).toBe(now);
    expect(md.ttl).toBeCloseTo(43_200 - 200.5, 6);
    expect(md.createdAt + md.ttl).toBeCloseTo(ins.metadata.createdAt + ins.metadata.ttl, 6);
    expect(message.error.code).toBe(ErrorCode.LOAD_CLIENT_APP_EXCEPTION);
    expect(message.error.reason).toBe(EXECUTION_UNAVAILABLE_REASON);
  });

  test("message_id is the reply's object id (computed with message_id blank) and it round-trips", () => {
    const { message, deflated } = buildErrorReply(instruction(), 2n, "boom", 1_774_800_010);
    expect(message.metadata.messageId).toBe(deflated.messageId);
    expect(deflated.tree).toEqual({ objectId: deflated.messageId, children: [] });
    const back = inflateMessage(deflated.objects, deflated.messageId);
    expect(back.metadata.messageId).toBe(message.metadata.messageId);
    expect(back.error.code).toBe(2n);
    expect(back.error.reason).toBe("boom");
    // Changing anything changes the id.
    const other = buildErrorReply(instruction(), 2n, "boom!", 1_774_800_010);
    expect(other.deflated.messageId).not.toBe(deflated.messageId);
  });
});
