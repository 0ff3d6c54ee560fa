/** `Message`: what a ServerApp and ClientApps exchange (Python Flower's `Message`). */
import { RecordDict } from "../records/record-dict.js";
import { MessageError } from "./error.js";
import { MessageValidationError } from "./errors.js";
import { DEFAULT_TTL, Metadata } from "./metadata.js";

/** Tolerance (seconds) when limiting a reply's TTL, as in Python Flower. */
export const MESSAGE_TTL_TOLERANCE = 0.1;

/** Options of an instruction message. */
export interface InstructionOptions {
  /** Time-to-live in seconds (default 43200). */
  ttl?: number;
  /** Group id, e.g. the round number (default ""). */
  groupId?: string;
  /** Creation time in Unix seconds (default: now). */
  createdAt?: number;
}

/** Options of a reply message. */
export interface ReplyOptions {
  /** The instruction this message replies to. */
  replyTo: Message;
  /** Time-to-live; capped to the instruction's remaining lifetime (default: that lifetime). */
  ttl?: number;
  /** Creation time in Unix seconds (default: now). */
  createdAt?: number;
}

/** Current time as Unix seconds. */
function nowSeconds(): number {
  return Date.now() / 1000;
}

/**
 * A message: {@link Metadata} plus either content (a {@link RecordDict}) or a {@link MessageError}.
 *
 * - Instruction: `new Message(content, dstNodeId, "train", { ttl, groupId })`.
 * - Reply: `new Message(content, { replyTo: instruction })` or `new Message(error, { replyTo })`.
 * - From existing metadata (decoders, transport): `new Message(metadata, content)`.
 */
export class Message {
  /** The message's metadata. */
  readonly metadata: Metadata;
  private readonly contentValue: RecordDict | undefined;
  private readonly errorValue: MessageError | undefined;

  /** Builds an instruction message. */
  constructor(
    content: RecordDict,
    dstNodeId: bigint,
    messageType: string,
    options?: InstructionOptions,
  );
  /** Builds a reply carrying content or an error. */
  constructor(contentOrError: RecordDict | MessageError, options: ReplyOptions);
  /** Builds a message from complete metadata (used by decoders). */
  constructor(metadata: Metadata, contentOrError: RecordDict | MessageError);
  constructor(
    a: RecordDict | MessageError | Metadata,
    b: bigint | ReplyOptions | RecordDict | MessageError,
    c?: string,
    d?: InstructionOptions,
  ) {
    if (a instanceof Metadata) {
      this.metadata = a;
      [this.contentValue, this.errorValue] = split(b);
      return;
    }
    [this.contentValue, this.errorValue] = split(a);
    if (typeof b === "bigint") {
      if (!(a instanceof RecordDict)) {
        throw new MessageValidationError("an instruction message needs a RecordDict as content");
      }
      this.metadata = new Metadata({
        runId: 0n,
        messageId: "",
        srcNodeId: 0n,
        dstNodeId: b,
        replyToMessageId: "",
        groupId: d?.groupId ?? "",
        createdAt: d?.createdAt ?? nowSeconds(),
        ttl: d?.ttl || DEFAULT_TTL,
        messageType: c as string,
      });
      return;
    }
    if (
      b === null ||
      typeof b !== "object" ||
      !("replyTo" in b) ||
      !(b.replyTo instanceof Message)
    ) {
      throw new MessageValidationError(
        "invalid Message arguments: use new Message(content, dstNodeId, messageType, options?), " +
          "new Message(contentOrError, { replyTo }), or new Message(metadata, contentOrError)",
      );
    }
    const ins = b.replyTo.metadata;
    const current = b.createdAt ?? nowSeconds();
    this.metadata = new Metadata({
      runId: ins.runId,
      messageId: "",
      srcNodeId: ins.dstNodeId,
      dstNodeId: ins.srcNodeId,
      replyToMessageId: ins.messageId,
      groupId: ins.groupId,
      createdAt: current,
      ttl: limitReplyTtl(current, b.ttl, ins),
      messageType: ins.messageType,
    });
  }

  /** True when the message carries content. */
  hasContent(): boolean {
    return this.contentValue !== undefined;
  }

  /** True when the message carries an error. */
  hasError(): boolean {
    return this.errorValue !== undefined;
  }

  /**
   * The content.
   * @throws MessageValidationError when the message carries an error instead.
   */
  get content(): RecordDict {
    if (this.contentValue === undefined) {
      throw new MessageValidationError(
        "message has no content (it carries an error); check hasContent() first",
      );
    }
    return this.contentValue;
  }

  /**
   * The error.
   * @throws MessageValidationError when the message carries content instead.
   */
  get error(): MessageError {
    if (this.errorValue === undefined) {
      throw new MessageValidationError("message carries no error; check hasError() first");
    }
    return this.errorValue;
  }
}

function split(x: unknown): [RecordDict | undefined, MessageError | undefined] {
  if (x instanceof RecordDict) return [x, undefined];
  if (x instanceof MessageError) return [undefined, x];
  throw new MessageValidationError(
    "a message carries exactly one of content (RecordDict) or error (MessageError)",
  );
}

/** Caps a reply's TTL so that it expires no later than the instruction (Python `_limit_reply_ttl`). */
export function limitReplyTtl(current: number, ttl: number | undefined, ins: Metadata): number {
  const maxAllowed = ins.createdAt + ins.ttl - current;
  if (ttl !== undefined && ttl - maxAllowed > MESSAGE_TTL_TOLERANCE) return maxAllowed;
  return ttl || maxAllowed;
}
