/** Message metadata (Python Flower's `Metadata`). */
import { MessageValidationError } from "./errors.js";
import { isValidMessageType } from "./message-type.js";

/** Default message time-to-live in seconds (12 hours). */
export const DEFAULT_TTL = 43200;

const UINT64_MAX = (1n << 64n) - 1n;

/** Checks a uint64 id (run id, node id). */
export function checkUint64(name: string, v: unknown): bigint {
  if (typeof v !== "bigint" || v < 0n || v > UINT64_MAX) {
    throw new MessageValidationError(
      `${name} must be a bigint between 0 and 2^64-1, got ${String(v)}`,
    );
  }
  return v;
}

function checkString(name: string, v: unknown): string {
  if (typeof v !== "string") throw new MessageValidationError(`${name} must be a string`);
  return v;
}

function checkNumber(name: string, v: unknown): number {
  if (typeof v !== "number") throw new MessageValidationError(`${name} must be a number (seconds)`);
  return v;
}

/** Fields of {@link Metadata}. */
export interface MetadataInit {
  /** Run id (uint64). */
  runId: bigint;
  /** Message id: the message's object id ("" until computed). */
  messageId: string;
  /** Sending node id (uint64; 1 is the SuperLink/ServerApp). */
  srcNodeId: bigint;
  /** Receiving node id (uint64). */
  dstNodeId: bigint;
  /** Id of the instruction this message replies to ("" for instructions). */
  replyToMessageId: string;
  /** Group id, e.g. the round number as a string. */
  groupId: string;
  /** Unix timestamp (seconds, float) when the message was created. */
  createdAt: number;
  /** Time-to-live in seconds. */
  ttl: number;
  /** Message type, e.g. `train`, `evaluate.foo` (validated). */
  messageType: string;
}

/** Information about a message: who sends it to whom, when, for which run, and what for. */
export class Metadata implements MetadataInit {
  /** Run id (uint64). */
  runId: bigint;
  /** Message id ("" until computed; equals the message's object id). */
  messageId: string;
  /** Sending node id. */
  srcNodeId: bigint;
  /** Receiving node id. */
  dstNodeId: bigint;
  /** Id of the instruction this message replies to ("" for instructions). */
  replyToMessageId: string;
  /** Group id. */
  groupId: string;
  /** Unix timestamp (seconds) of creation. */
  createdAt: number;
  /** Time-to-live in seconds. */
  ttl: number;
  private type = "";

  /** @throws MessageValidationError for fields of the wrong type or an invalid message type. */
  constructor(init: MetadataInit) {
    this.runId = checkUint64("runId", init.runId);
    this.messageId = checkString("messageId", init.messageId);
    this.srcNodeId = checkUint64("srcNodeId", init.srcNodeId);
    this.dstNodeId = checkUint64("dstNodeId", init.dstNodeId);
    this.replyToMessageId = checkString("replyToMessageId", init.replyToMessageId);
    this.groupId = checkString("groupId", init.groupId);
    this.createdAt = checkNumber("createdAt", init.createdAt);
    this.ttl = checkNumber("ttl", init.ttl);
    this.messageType = init.messageType;
  }

  /** Message type; setting it validates the format like Python Flower. */
  get messageType(): string {
    return this.type;
  }

  set messageType(value: string) {
    if (!isValidMessageType(value)) {
      throw new MessageValidationError(
        `invalid message type ${JSON.stringify(value)}: expected '<category>' or '<category>.<action>' ` +
          "where <category> is train, evaluate, query or system and <action> is an identifier",
      );
    }
    this.type = value;
  }

  /** A copy with some fields replaced. */
  with(changes: Partial<MetadataInit>): Metadata {
    return new Metadata({ ...this.toJSON(), ...changes });
  }

  /** The fields as a plain object. */
  toJSON(): MetadataInit {
    return {
      runId: this.runId,
      messageId: this.messageId,
      srcNodeId: this.srcNodeId,
      dstNodeId: this.dstNodeId,
      replyToMessageId: this.replyToMessageId,
      groupId: this.groupId,
      createdAt: this.createdAt,
      ttl: this.ttl,
      messageType: this.messageType,
    };
  }
}
