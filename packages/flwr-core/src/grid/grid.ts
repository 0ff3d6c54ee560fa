/** The `Grid`: how a ServerApp sends messages to nodes and receives replies (Python `Grid`). */
import type { Message } from "../message/message.js";
import { objectIdOfInflatable } from "../objects/deflate.js";

/** The node id of the SuperLink / ServerApp side (`SUPERLINK_NODE_ID`). */
export const SUPERLINK_NODE_ID = 1n;

/** Options of {@link Grid.sendAndReceive}. */
export interface SendAndReceiveOptions {
  /**
   * Seconds to wait for replies (Flower's unit). Undefined waits until every reply arrived.
   * When it passes, the replies received so far are returned. A message stays valid until its
   * TTL, which `timeout` does not change.
   */
  timeout?: number;
}

/**
 * Sends messages to nodes and receives their replies.
 *
 * Implementations follow Flower's rules: {@link Grid.pushMessages} sets each message's
 * `runId`, `srcNodeId = 1` and `messageId` (the message's object id) — see
 * {@link stampInstruction} — and rejects messages that are replies or have no positive TTL;
 * replies are matched to instructions by `replyToMessageId`.
 */
export interface Grid {
  /** The run this grid operates in. */
  readonly runId: bigint;
  /** Ids of the nodes currently available to the run. */
  getNodeIds(): Promise<bigint[]>;
  /**
   * Pushes messages to their `dstNodeId`s.
   * @returns the message ids, in order, for {@link Grid.pullMessages}.
   */
  pushMessages(messages: Iterable<Message>): Promise<string[]>;
  /**
   * Returns the replies available now for the given instruction ids (each reply is returned
   * once; its instruction is then forgotten).
   */
  pullMessages(messageIds: Iterable<string>): Promise<Message[]>;
  /**
   * Pushes messages and resolves with their replies once all have arrived or `timeout` passed.
   */
  sendAndReceive(messages: Iterable<Message>, options?: SendAndReceiveOptions): Promise<Message[]>;
}

/** A message given to a Grid is not a valid instruction. */
export class InvalidInstructionError extends Error {
  override name = "InvalidInstructionError";
}

/**
 * Prepares an instruction for pushing, as Python's `Grid.push_messages` does: sets `runId`,
 * `srcNodeId` = 1 and `messageId` = the message's object id (computed with `messageId` blank),
 * then checks it is an instruction (empty `replyToMessageId`, `ttl > 0`, a destination).
 * @returns the message id.
 * @throws InvalidInstructionError when the message is a reply, has no positive TTL or no
 *   destination, or carries an error instead of content.
 */
export function stampInstruction(message: Message, runId: bigint): string {
  const md = message.metadata;
  if (md.replyToMessageId !== "") {
    throw new InvalidInstructionError(
      "cannot push a reply message: instructions must have an empty replyToMessageId",
    );
  }
  if (!(md.ttl > 0)) {
    throw new InvalidInstructionError(`invalid message ttl ${md.ttl}: it must be > 0 seconds`);
  }
  if (md.dstNodeId === 0n || md.dstNodeId === SUPERLINK_NODE_ID) {
    throw new InvalidInstructionError(
      `invalid dstNodeId ${md.dstNodeId}: send instructions to a node id from getNodeIds()`,
    );
  }
  if (!message.hasContent()) {
    throw new InvalidInstructionError("an instruction must carry content, not an error");
  }
  md.runId = runId;
  md.srcNodeId = SUPERLINK_NODE_ID;
  md.messageId = "";
  const id = objectIdOfInflatable(message);
  md.messageId = id;
  return id;
}
