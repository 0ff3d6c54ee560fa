/**
 * The reply a SuperNode sends when it cannot run the ClientApp for an instruction, built by the
 * rules of Python Flower's `Message(Error(...), reply_to=instruction)`:
 * src/dst swapped, same run, group and message type, `reply_to_message_id` = the instruction's
 * id, `created_at` = now, `ttl` = the instruction's remaining lifetime, and `message_id` = the
 * reply's object id (computed with `message_id` blank, brief §6.3).
 */
import {
  type DeflatedMessage,
  deflateMessage,
  ErrorCode,
  Message,
  MessageError,
} from "@flwr-ts/core";

/** Why this SuperNode answers with an error: it does not execute ClientApps yet. */
export const EXECUTION_UNAVAILABLE_REASON =
  "flwr-ts SuperNode cannot run ClientApps yet: message execution is not implemented in this " +
  "version, so the message was received and answered with this error";

/** A reply ready to push: the message (with its id set) and its objects. */
export interface PreparedReply {
  /** The reply; `metadata.messageId` is its object id. */
  readonly message: Message;
  /** Its object tree and bytes. */
  readonly deflated: DeflatedMessage;
}

/**
 * Builds an error reply to `instruction`.
 * @param instruction - the received message (its `metadata.messageId` must be set).
 * @param code - Flower error code (default LOAD_CLIENT_APP_EXCEPTION, 1).
 * @param reason - the error text.
 * @param nowSeconds - creation time, Unix seconds (default: now).
 */
export function buildErrorReply(
  instruction: Message,
  code: bigint = ErrorCode.LOAD_CLIENT_APP_EXCEPTION,
  reason: string = EXECUTION_UNAVAILABLE_REASON,
  nowSeconds: number = Date.now() / 1000,
): PreparedReply {
  const reply = new Message(new MessageError(code, reason), {
    replyTo: instruction,
    createdAt: nowSeconds,
  });
  const deflated = deflateMessage(reply);
  reply.metadata.messageId = deflated.messageId;
  return { message: reply, deflated };
}
