/**
 * Moving a message's objects between an app process and its AppIo server: push the ids the
 * server asked for (several at once), pull a tree (retrying objects not yet pushed with a short
 * adaptive backoff — 2 ms doubling to 100 ms — instead of Flower's 1 s, since the sender is
 * usually a few milliseconds behind), verify and inflate.
 */
import {
  type DeflatedMessage,
  deflateMessage,
  errorToProto,
  inflateMessage,
  type Message,
  metadataToProto,
  type ObjectTree,
  objectTreeIds,
} from "@flwr-ts/core";
import type { Message as ProtoMessage } from "@flwr-ts/core/proto";
import {
  inlineBudget,
  inlineFromMessage,
  receiveInlined,
  withInlineContent,
} from "../inline/inline-content.js";
import type { PulledObject } from "../supernode/fleet-connection.js";
import type { ObjectCache } from "../supernode/object-cache.js";
import { type PULL_LIMITS, pullObjects } from "../supernode/pull-objects.js";

/** Objects pushed at once. */
export const PUSH_CONCURRENCY = 16;

/** Limits of pulls from an AppIo server (objects arrive within milliseconds). */
export const APPIO_PULL_LIMITS = {
  initialDelayMs: 2,
  maxDelayMs: 100,
  maxTriesPerObject: 1_000_000,
  maxTimeMs: 3_600_000,
  concurrency: 16,
} as const;

/** A message ready to push: its id set and its objects deflated. */
export interface OutgoingMessage {
  /** The message (its `metadata.messageId` is its object id). */
  readonly message: Message;
  /** Its objects. */
  readonly deflated: DeflatedMessage;
  /** The proto to send: metadata plus an empty content (or the error), or the full content when inlined. */
  readonly proto: ProtoMessage;
  /** True when `proto` carries the content inline (flwr-ts extension). */
  readonly inlined: boolean;
}

/**
 * Prepares messages for one PushMessages call: inline while the call's budget lasts
 * (`inlineBudget`: `inlineMaxBytes` of objects, at most 48 messages), the others as objects.
 */
export function prepareOutgoingBatch(
  messages: Iterable<Message>,
  inlineMaxBytes: number,
): OutgoingMessage[] {
  const budget = inlineBudget(inlineMaxBytes);
  const out: OutgoingMessage[] = [];
  for (const message of messages) {
    const plain = prepareOutgoing(message);
    if (inlineMaxBytes <= 0) {
      out.push(plain);
      continue;
    }
    let bytes = 0;
    for (const content of plain.deflated.objects.values()) bytes += content.length;
    const inline = budget.take(bytes)
      ? inlineFromMessage(message, plain.deflated.tree, bytes, inlineMaxBytes)
      : undefined;
    out.push(
      inline ? { ...plain, proto: withInlineContent(plain.proto, inline), inlined: true } : plain,
    );
  }
  return out;
}

/** Deflates `message`, sets its id and builds the content-less proto Flower sends. */
export function prepareOutgoing(message: Message): OutgoingMessage {
  message.metadata.messageId = "";
  const deflated = deflateMessage(message);
  message.metadata.messageId = deflated.messageId;
  const proto: ProtoMessage = {
    metadata: metadataToProto(message.metadata),
    content: message.hasContent() ? { items: [] } : undefined,
    error: message.hasError() ? errorToProto(message.error) : undefined,
  };
  return { message, deflated, proto, inlined: false };
}

/**
 * Pushes the objects of `outgoing` whose ids are in `wanted`, `PUSH_CONCURRENCY` at a time.
 * @param push - one PushObject call; returns the server's `stored`.
 * @throws Error when the server refuses an object.
 */
export async function pushWantedObjects(
  outgoing: readonly OutgoingMessage[],
  wanted: Iterable<string>,
  push: (objectId: string, content: Uint8Array) => Promise<boolean>,
): Promise<void> {
  const contents = new Map<string, Uint8Array>();
  for (const o of outgoing) for (const [id, c] of o.deflated.objects) contents.set(id, c);
  const queue = [...new Set(wanted)];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      const content = contents.get(id);
      if (!content)
        throw new Error(
          `the server asked for object ${id}, which is not part of the pushed messages`,
        );
      if (!(await push(id, content))) throw new Error(`the server did not store object ${id}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PUSH_CONCURRENCY, queue.length) }, worker));
}

/**
 * Pulls and inflates the message rooted at `tree`, then confirms its reception. Objects found in
 * `cache` (verified earlier; an id is the SHA-256 of its bytes) are not pulled again, and the
 * pulled ones are added to it.
 * @returns the message with `metadata.messageId` set to its id.
 */
export async function pullMessage(
  tree: ObjectTree,
  pull: (objectId: string) => Promise<PulledObject>,
  confirm: (messageId: string) => Promise<void>,
  signal?: AbortSignal,
  cache?: ObjectCache,
): Promise<Message> {
  const objects = await pullObjects(
    tree,
    (objectId) => {
      const cached = cache?.get(objectId);
      return cached
        ? Promise.resolve({ found: true, available: true, content: cached })
        : pull(objectId);
    },
    { limits: APPIO_PULL_LIMITS as unknown as Partial<typeof PULL_LIMITS>, signal },
  );
  if (cache) for (const [id, content] of objects) cache.set(id, content);
  const message = inflateMessage(objects, tree.objectId, { consume: true });
  message.metadata.messageId = tree.objectId;
  await confirm(tree.objectId);
  return message;
}

/**
 * Receives a pulled message: from its inline content when the server inlined it (no object pulls,
 * no confirmation), else by {@link pullMessage}.
 */
export async function receiveMessage(
  proto: ProtoMessage,
  tree: ObjectTree,
  inlined: boolean,
  pull: (objectId: string) => Promise<PulledObject>,
  confirm: (messageId: string) => Promise<void>,
  signal?: AbortSignal,
  cache?: ObjectCache,
): Promise<Message> {
  if (!inlined) return pullMessage(tree, pull, confirm, signal, cache);
  const { message, objects } = receiveInlined(proto, tree);
  if (cache) for (const [id, content] of objects) cache.set(id, content);
  return message;
}

/** All ids of a tree (re-exported for servicers). */
export { objectTreeIds };
