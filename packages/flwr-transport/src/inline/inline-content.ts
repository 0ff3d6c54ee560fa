/**
 * Inline content: a flwr-ts extension of Flower's message transfer, used only between flwr-ts
 * peers and only for small messages.
 *
 * Flower 1.29 moves a message as metadata plus an object tree in PushMessages/PullMessages, then
 * one PushObject/PullObject call per object and a ConfirmMessageReceived — for a no-op reply that
 * is five round trips (each signed and verified on the Fleet API) where one would do. The
 * `flwr.proto.Message` that these calls already carry has a `content` field (older Flower sent
 * content there); flwr-ts fills it for small messages when both sides have said they understand:
 *
 * - A client that understands sends the request header {@link INLINE_ACCEPT_HEADER} (the largest
 *   inline message it accepts, in bytes of objects). A flwr-ts server answers every such call with
 *   the same header (the largest it accepts). Python Flower neither sends nor answers it, so
 *   between flwr-ts and Python nothing changes.
 * - The side sending messages lists, in the header {@link INLINED_HEADER} (of the PushMessages
 *   request, or of the PullMessages response), the ids of the messages whose `content` is the full
 *   RecordDict. The receiver rebuilds their objects from it and checks them against the object
 *   tree — the same content-addressed verification as for pulled objects: the rebuilt root id
 *   must equal the message id and the rebuilt tree the sent one, or the message is refused.
 * - An inlined message needs no PushObject/PullObject and no ConfirmMessageReceived: the server
 *   stores (push) or releases (pull) its objects at once.
 *
 * A message is inlined only when its objects total at most the receiver's limit and rebuilding
 * them from the records gives the same ids (an array split into several chunks by a small
 * `FLWR_PRIVATE_MAX_ARRAY_CHUNK_SIZE` is rebuilt as one chunk, so such messages travel as objects).
 */
import {
  deflateMessage,
  inflateMessage,
  type Message,
  messageFromProto,
  type ObjectTree,
  objectTreeIds,
  recordDictToProto,
} from "@flwr-ts/core";
import type { Message as ProtoMessage, RecordDict as ProtoRecordDict } from "@flwr-ts/core/proto";
import { INLINE_ACCEPT_HEADER, INLINED_HEADER } from "../protocol/flwr-ts-headers.js";
import type { MutableMetadata, RequestMetadata } from "../wire/metadata.js";

export { INLINE_ACCEPT_HEADER, INLINED_HEADER };
/**
 * Default inline budget (bytes of objects) of one call: every message inlined in a PushMessages
 * request or a PullMessages response counts against it. Inline content is per message (messages
 * sharing arrays each carry their own copy, where objects are pushed once), so the budget is per
 * call, and messages beyond it travel as objects.
 */
export const DEFAULT_INLINE_MAX_BYTES = 1 << 20;
/** At most this many messages are inlined in one call (keeps {@link INLINED_HEADER} small). */
export const MAX_INLINED_PER_CALL = 48;
/** Largest limit honoured from a peer (bytes); larger messages always travel as objects. */
export const MAX_INLINE_MAX_BYTES = 16 << 20;
/** Environment variable overriding {@link DEFAULT_INLINE_MAX_BYTES}; `0` turns the extension off. */
export const INLINE_MAX_ENV = "FLWR_TS_INLINE_MAX_BYTES";

/**
 * This process's inline limit: {@link INLINE_MAX_ENV} when set to a decimal number of bytes
 * (capped at {@link MAX_INLINE_MAX_BYTES}; 0 disables inlining), else the default.
 * @throws Error naming the variable when its value is not a number.
 */
export function inlineMaxFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): number {
  const raw = env[INLINE_MAX_ENV];
  if (raw === undefined || raw.trim() === "") return DEFAULT_INLINE_MAX_BYTES;
  if (!/^\d{1,10}$/.test(raw.trim()))
    throw new Error(
      `${INLINE_MAX_ENV} must be a number of bytes (0 turns inlining off), got "${raw}"`,
    );
  return Math.min(Number(raw.trim()), MAX_INLINE_MAX_BYTES);
}

/** Chunk size for rebuilding inline content: every array becomes one chunk. */
const INLINE_CHUNK_SIZE = 2 ** 31;

/** An inlined message did not rebuild into the objects its tree names. */
export class InlineContentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InlineContentError";
  }
}

/**
 * The inline limit a peer announced in `metadata` (0 when it did not, or the value is not a
 * plain decimal number).
 */
export function announcedInlineMax(metadata: RequestMetadata): number {
  const raw = metadata.get(INLINE_ACCEPT_HEADER)[0];
  if (typeof raw !== "string" || !/^\d{1,10}$/.test(raw)) return 0;
  return Math.min(Number(raw), MAX_INLINE_MAX_BYTES);
}

/** Sets {@link INLINE_ACCEPT_HEADER} on `metadata`. */
export function announceInline<M extends MutableMetadata>(
  metadata: M,
  maxBytes = DEFAULT_INLINE_MAX_BYTES,
): M {
  metadata.set(INLINE_ACCEPT_HEADER, String(maxBytes));
  return metadata;
}

/**
 * A client's side of the inline-content handshake (Fleet, ServerAppIo and ClientAppIo alike):
 * announces this process's limit on every call and learns the server's from its answers.
 */
export class InlineHandshake {
  private serverMax = 0;

  /** @param maxBytes - this process's limit (0 turns inlining off); default from the env. */
  constructor(readonly maxBytes: number = inlineMaxFromEnv()) {}

  /** Adds the announcement to a call's metadata. */
  announce<M extends MutableMetadata>(metadata: M): M {
    return this.maxBytes > 0 ? announceInline(metadata, this.maxBytes) : metadata;
  }

  /** Records the server's limit from a call's response headers. */
  readonly learn = (metadata: RequestMetadata): void => {
    if (this.maxBytes > 0) this.serverMax = announcedInlineMax(metadata);
  };

  /** The server's limit (0 until a flwr-ts server answered). */
  get serverMaxBytes(): number {
    return this.serverMax;
  }
}

/** The message ids listed in {@link INLINED_HEADER} of `metadata`. */
export function inlinedIds(metadata: RequestMetadata): Set<string> {
  const out = new Set<string>();
  for (const value of metadata.get(INLINED_HEADER)) {
    if (typeof value !== "string") continue;
    for (const id of value.split(",")) if (/^[0-9a-f]{64}$/.test(id)) out.add(id);
  }
  return out;
}

/** Sets {@link INLINED_HEADER} on `metadata` when `ids` is not empty. */
export function markInlined<M extends MutableMetadata>(metadata: M, ids: readonly string[]): M {
  if (ids.length > 0) metadata.set(INLINED_HEADER, ids.join(","));
  return metadata;
}

/** The content to put in a message proto when inlining it: a RecordDict, or none (an error). */
export interface InlineContent {
  /** The full RecordDict, or undefined for a message that carries an error. */
  readonly content: ProtoRecordDict | undefined;
}

function sameTree(a: ObjectTree, b: ObjectTree): boolean {
  if (a.objectId !== b.objectId || a.children.length !== b.children.length) return false;
  return a.children.every((child, i) => sameTree(child, b.children[i]!));
}

/**
 * Inline content of a message the caller holds as records (a client about to push it).
 * @param objectBytes - total size of the message's objects, as deflated for sending.
 * @returns undefined when the message is larger than `maxBytes` or would not rebuild into the
 *   same objects on the receiver.
 */
export function inlineFromMessage(
  message: Message,
  tree: ObjectTree,
  objectBytes: number,
  maxBytes: number,
): InlineContent | undefined {
  if (maxBytes <= 0 || objectBytes > maxBytes) return undefined;
  const id = message.metadata.messageId;
  message.metadata.messageId = "";
  try {
    const rebuilt = deflateMessage(message, { chunkSize: INLINE_CHUNK_SIZE });
    if (!sameTree(rebuilt.tree, tree)) return undefined;
  } finally {
    message.metadata.messageId = id;
  }
  return { content: message.hasContent() ? recordDictToProto(message.content) : undefined };
}

/**
 * Inline content of a message the caller holds as objects (a server answering a pull).
 * @param get - the bytes of one object, or undefined when it is not (yet) available.
 * @param accept - a last say on the objects' total size (a call's inline budget).
 * @returns undefined when an object is missing, the objects exceed `maxBytes` or are not accepted,
 *   or they would not rebuild into the same objects on the receiver.
 */
export function inlineFromObjects(
  tree: ObjectTree,
  get: (objectId: string) => Uint8Array | undefined,
  maxBytes: number,
  accept: (objectBytes: number) => boolean = () => true,
): InlineContent | undefined {
  if (maxBytes <= 0) return undefined;
  const objects = new Map<string, Uint8Array>();
  let total = 0;
  for (const id of objectTreeIds(tree)) {
    const content = get(id);
    if (content === undefined) return undefined;
    total += content.length;
    if (total > maxBytes) return undefined;
    objects.set(id, content);
  }
  if (!accept(total)) return undefined;
  let message: Message;
  try {
    message = inflateMessage(objects, tree.objectId);
  } catch {
    return undefined; // not inflatable: let the receiver pull (and judge) the objects
  }
  return inlineFromMessage(message, tree, total, maxBytes);
}

/**
 * Spends a call's inline budget: {@link MAX_INLINED_PER_CALL} messages and `maxBytes` of objects.
 * `take(bytes)` says whether a message of that many object bytes still fits (and counts it).
 */
export function inlineBudget(maxBytes: number): { take(bytes: number): boolean } {
  let left = maxBytes;
  let count = 0;
  return {
    take(bytes: number): boolean {
      if (count >= MAX_INLINED_PER_CALL || bytes > left) return false;
      left -= bytes;
      count++;
      return true;
    },
  };
}

/** An inlined message as received: the message and its verified objects. */
export interface ReceivedInline {
  /** The message, `metadata.messageId` set to its id. */
  readonly message: Message;
  /** Object id → bytes, every object of the tree. */
  readonly objects: Map<string, Uint8Array>;
}

/**
 * Rebuilds the objects of an inlined message and verifies them against `tree`.
 * @param proto - the message as received: metadata plus the full content (or its error).
 * @throws InlineContentError when the content is not the message the tree describes.
 */
export function receiveInlined(proto: ProtoMessage, tree: ObjectTree): ReceivedInline {
  let message: Message;
  try {
    message = messageFromProto(proto);
  } catch (error) {
    throw new InlineContentError(
      `inline message ${tree.objectId} is malformed: ${(error as Error).message}`,
    );
  }
  message.metadata.messageId = "";
  const rebuilt = deflateMessage(message, { chunkSize: INLINE_CHUNK_SIZE });
  if (rebuilt.messageId !== tree.objectId || !sameTree(rebuilt.tree, tree))
    throw new InlineContentError(
      `inline content of message ${tree.objectId} does not match its object tree (rebuilt ${rebuilt.messageId})`,
    );
  message.metadata.messageId = rebuilt.messageId;
  return { message, objects: rebuilt.objects };
}

/** The proto of `proto` with `content` replaced by the inline content. */
export function withInlineContent(proto: ProtoMessage, inline: InlineContent): ProtoMessage {
  return { ...proto, content: inline.content };
}
