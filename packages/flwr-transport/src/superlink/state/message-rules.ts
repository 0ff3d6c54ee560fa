/**
 * Flower's message rules shared by every LinkState implementation: validation of instructions
 * and replies (`flwr.server.utils.validate_message`), TTL checks, and the error replies the
 * SuperLink synthesizes when an instruction, its reply or its destination node is unavailable.
 */
import {
  Message as CoreMessage,
  ErrorCode,
  MessageError,
  metadataFromProto,
  objectIdOfInflatable,
} from "@flwr-ts/core";
import type { Message, Metadata } from "@flwr-ts/core/proto";
import {
  HEARTBEAT_PATIENCE,
  MESSAGE_TTL_TOLERANCE,
  MIN_MESSAGE_CREATED_AT,
  SUPERLINK_NODE_ID,
} from "./link-state.js";

/** Reason of a synthesized MESSAGE_UNAVAILABLE reply (Flower's text). */
export const MESSAGE_UNAVAILABLE_ERROR_REASON =
  "Error: Message Unavailable - The requested message could not be found in the " +
  "database. It may have expired due to its TTL, been deleted because the " +
  "destination SuperNode was removed from the federation, or never existed.";

/** Reason of a synthesized REPLY_MESSAGE_UNAVAILABLE reply. */
export const REPLY_MESSAGE_UNAVAILABLE_ERROR_REASON =
  "Error: Reply Message Unavailable - The reply message has expired.";

/** Reason of a synthesized NODE_UNAVAILABLE reply. */
export const NODE_UNAVAILABLE_ERROR_REASON =
  "Error: Node Unavailable — The destination node failed to report a heartbeat " +
  `within ${HEARTBEAT_PATIENCE} × its expected interval.`;

/**
 * Reason of the NODE_UNAVAILABLE reply to an instruction whose node was deactivated (its
 * SuperNode stopped gracefully, e.g. SIGTERM) before it replied. flwr-ts only: Flower gives
 * {@link NODE_UNAVAILABLE_ERROR_REASON} whatever the cause.
 */
export const NODE_DEACTIVATED_ERROR_REASON =
  "Error: Node Unavailable — The destination node was deactivated (its SuperNode stopped) " +
  "before it replied.";

/**
 * Reason of the NODE_UNAVAILABLE reply to an instruction pulled by a SuperNode session that
 * ended when a new session activated the node (a restarted SuperNode) before it replied.
 * flwr-ts only (Flower has no fast re-activation).
 */
export const NODE_RESTARTED_ERROR_REASON =
  "Error: Node Unavailable — The destination node's SuperNode restarted before it replied " +
  "(the instruction was pulled by its previous session and is not delivered again).";

/** Reason of the NODE_UNAVAILABLE reply to an instruction whose node was unregistered. flwr-ts only. */
export const NODE_UNREGISTERED_ERROR_REASON =
  "Error: Node Unavailable — The destination node was unregistered.";

/**
 * How a node's last SuperNode session ended, kept on the node until the next one ends:
 * `""` none yet, `heartbeat` its heartbeat window passed, `deactivated` DeactivateNode,
 * `restarted` ActivateNode of the online node from a new session.
 */
export type SessionEnd = "" | "heartbeat" | "deactivated" | "restarted";

/** Why an instruction's destination cannot answer it any more (see {@link nodeUnavailableCause}). */
export type NodeUnavailableCause = "heartbeat" | "deactivated" | "restarted" | "unregistered";

/** What {@link nodeUnavailableCause} needs of the destination node. */
export interface DestinationNode {
  readonly status: string;
  readonly onlineUntil: number | undefined;
  readonly lastActivatedAt: string | undefined;
  readonly sessionEnd: SessionEnd;
}

/** Microseconds since the epoch of a Flower ISO timestamp (`…T12:00:00[.123456]+00:00`). */
export function isoMicros(iso: string): number {
  const seconds = Date.parse(`${iso.slice(0, 19)}Z`) / 1000;
  const fraction = /^\.(\d{1,6})/.exec(iso.slice(19))?.[1] ?? "";
  return seconds * 1e6 + Number(fraction.padEnd(6, "0") || "0");
}

/**
 * Why an unanswered instruction gets a NODE_UNAVAILABLE reply now, or undefined while it still
 * waits. Flower's rule — the destination is unknown, unregistered or past `online_until` — plus
 * two flwr-ts rules: an `offline` node is unavailable at once (also in the instant of its
 * deactivation), and an instruction delivered before the node's current session began
 * (`delivered_at < last_activated_at`: its SuperNode restarted, or came back after a
 * deactivation or a missed heartbeat) is never answered by that session.
 * @param deliveredAt - the instruction's `delivered_at` ("" when not pulled yet).
 */
export function nodeUnavailableCause(
  deliveredAt: string,
  dst: DestinationNode | undefined,
  nowSeconds: number,
): NodeUnavailableCause | undefined {
  if (!dst || dst.status === "unregistered") return "unregistered";
  const ended = dst.sessionEnd === "" ? "heartbeat" : dst.sessionEnd;
  if (dst.onlineUntil === undefined || dst.onlineUntil < nowSeconds || dst.status === "offline")
    return ended === "restarted" ? "heartbeat" : ended;
  if (
    deliveredAt !== "" &&
    dst.lastActivatedAt !== undefined &&
    isoMicros(deliveredAt) < isoMicros(dst.lastActivatedAt)
  )
    return ended;
  return undefined;
}

const NODE_UNAVAILABLE_REASONS: Record<NodeUnavailableCause, string> = {
  heartbeat: NODE_UNAVAILABLE_ERROR_REASON,
  deactivated: NODE_DEACTIVATED_ERROR_REASON,
  restarted: NODE_RESTARTED_ERROR_REASON,
  unregistered: NODE_UNREGISTERED_ERROR_REASON,
};

/** Message type of system messages. */
export const SYSTEM_MESSAGE_TYPE = "system";

/**
 * Flower's message validation.
 * @param nowSeconds - current time, epoch seconds.
 * @returns the list of problems; empty when valid.
 */
export function validateMessage(message: Message, isReply: boolean, nowSeconds: number): string[] {
  const errors: string[] = [];
  const m = message.metadata;
  if (!m) return ["`metadata` is not set"];
  if (m.messageId === "") errors.push("empty `metadata.message_id`");
  if (!(m.createdAt >= MIN_MESSAGE_CREATED_AT))
    errors.push(
      "`metadata.created_at` must be a float that records the unix timestamp in seconds when the message was created.",
    );
  if (!(m.ttl > 0)) errors.push("`metadata.ttl` must be higher than zero");
  if (m.createdAt + m.ttl <= nowSeconds) errors.push("Message TTL has expired");
  if (m.srcNodeId === 0n) errors.push("`metadata.src_node_id` is not set.");
  if (m.dstNodeId === 0n) errors.push("`metadata.dst_node_id` is not set.");
  if (m.messageType === "") errors.push("`metadata.message_type` MUST be set");
  if ((message.content !== undefined) === (message.error !== undefined))
    errors.push("Either message `content` or `error` MUST be set (but not both)");
  if (!isReply) {
    if (m.replyToMessageId !== "") errors.push("`metadata.reply_to_message_id` MUST not be set.");
    if (m.srcNodeId !== SUPERLINK_NODE_ID)
      errors.push("`metadata.src_node_id` is not 1 (SuperLink node ID)");
    if (m.dstNodeId === SUPERLINK_NODE_ID)
      errors.push("`metadata.dst_node_id` is 1 (SuperLink node ID)");
  } else {
    if (m.replyToMessageId === "") errors.push("`metadata.reply_to_message_id` MUST be set.");
    if (m.srcNodeId === SUPERLINK_NODE_ID)
      errors.push("`metadata.src_node_id` is 1 (SuperLink node ID)");
    if (m.dstNodeId !== SUPERLINK_NODE_ID)
      errors.push("`metadata.dst_node_id` is not 1 (SuperLink node ID)");
  }
  return errors;
}

/** True when `created_at + ttl < now` (Flower's `message_ttl_has_expired`). */
export function messageTtlHasExpired(m: Metadata, nowSeconds: number): boolean {
  return m.ttl + m.createdAt < nowSeconds;
}

/**
 * Why a reply may not be stored for `ins` (run, source, TTL rules), or undefined when it may.
 */
export function checkReplyAgainstInstruction(reply: Metadata, ins: Metadata): string | undefined {
  if (ins.dstNodeId !== reply.srcNodeId)
    return `reply source node ${reply.srcNodeId} is not the instruction's destination ${ins.dstNodeId}`;
  const maxAllowedTtl = ins.createdAt + ins.ttl - reply.createdAt;
  if (reply.ttl && reply.ttl - maxAllowedTtl > MESSAGE_TTL_TOLERANCE)
    return `reply TTL ${reply.ttl.toFixed(2)} exceeds the allowed maximum ${maxAllowedTtl.toFixed(2)}`;
  if (reply.runId !== ins.runId) return "`metadata.run_id` is invalid";
  return undefined;
}

/** A proto message for storage: content reduced to an empty RecordDict, presence kept. */
export function withoutContent(message: Message): Message {
  return {
    metadata: message.metadata ? { ...message.metadata } : undefined,
    content: message.content !== undefined ? { items: [] } : undefined,
    error: message.error ? { ...message.error } : undefined,
  };
}

/** A deep-enough copy of a stored proto message, so callers cannot mutate the store. */
export function copyMessage(message: Message): Message {
  return withoutContent(message);
}

function errorReply(metadata: Metadata, code: bigint, reason: string): Message {
  const core = new CoreMessage(metadataFromProto(metadata), new MessageError(code, reason));
  const messageId = objectIdOfInflatable(core);
  return {
    metadata: { ...metadata, messageId },
    content: undefined,
    error: { code, reason },
  };
}

/**
 * The error reply for an unknown or expired instruction (code 3): run 0, type `system`, ttl 0,
 * src = dst = 1; `message_id` is its object id.
 */
export function messageUnavailableReply(replyToMessageId: string, nowSeconds: number): Message {
  return errorReply(
    {
      runId: 0n,
      messageId: "",
      srcNodeId: SUPERLINK_NODE_ID,
      dstNodeId: SUPERLINK_NODE_ID,
      replyToMessageId,
      groupId: "",
      ttl: 0,
      messageType: SYSTEM_MESSAGE_TYPE,
      createdAt: nowSeconds,
    },
    ErrorCode.MESSAGE_UNAVAILABLE,
    MESSAGE_UNAVAILABLE_ERROR_REASON,
  );
}

/**
 * The error reply for an instruction whose reply expired (code 4) or whose destination node is
 * unavailable (code 5): same run, group and type as the instruction, its remaining TTL. Built
 * as Flower's `create_message_error_unavailable_res_message`; `cause` picks the reason of a
 * code-5 reply (Flower's own text for `heartbeat`).
 */
export function instructionErrorReply(
  ins: Metadata,
  kind: "reply-unavailable" | "node-unavailable",
  nowSeconds: number,
  cause: NodeUnavailableCause = "heartbeat",
): Message {
  const ttl = Math.max(ins.ttl - (nowSeconds - ins.createdAt), 0);
  return errorReply(
    {
      runId: ins.runId,
      messageId: "",
      srcNodeId: SUPERLINK_NODE_ID,
      dstNodeId: SUPERLINK_NODE_ID,
      replyToMessageId: ins.messageId,
      groupId: ins.groupId,
      ttl,
      messageType: ins.messageType,
      createdAt: nowSeconds,
    },
    kind === "reply-unavailable" ? ErrorCode.REPLY_MESSAGE_UNAVAILABLE : ErrorCode.NODE_UNAVAILABLE,
    kind === "reply-unavailable"
      ? REPLY_MESSAGE_UNAVAILABLE_ERROR_REASON
      : NODE_UNAVAILABLE_REASONS[cause],
  );
}
