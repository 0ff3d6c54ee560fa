/**
 * Server side of inline content (see `inline-content.ts`), shared by the Fleet, ServerAppIo and
 * ClientAppIo servers: answering the client's announcement, inlining what a pull returns, and
 * taking the objects of an inlined push.
 */
import type { ObjectTree } from "@flwr-ts/core";
import type { Message as ProtoMessage } from "@flwr-ts/core/proto";
import type { ObjectStore } from "../object-store/object-store.js";
import type { CallContext, Middleware } from "../wire/call-context.js";
import { Code } from "../wire/code.js";
import { RpcError } from "../wire/rpc-error.js";
import {
  announcedInlineMax,
  DEFAULT_INLINE_MAX_BYTES,
  INLINE_ACCEPT_HEADER,
  InlineContentError,
  inlineBudget,
  inlinedIds,
  inlineFromObjects,
  markInlined,
  receiveInlined,
  withInlineContent,
} from "./inline-content.js";

/**
 * The limit for messages this server sends inline on `ctx` (the client's announcement capped by
 * `serverMax`; 0 when the client did not announce one).
 */
export function inlineLimitOf(ctx: CallContext, serverMax = DEFAULT_INLINE_MAX_BYTES): number {
  return Math.min(announcedInlineMax(ctx.metadata), serverMax);
}

/**
 * Middleware answering every call whose client announced {@link INLINE_ACCEPT_HEADER} with the
 * server's own limit `maxBytes` (0 disables the extension), so the client learns on its first
 * call that it may inline what it pushes.
 */
export function createInlineAnnouncementMiddleware(
  maxBytes = DEFAULT_INLINE_MAX_BYTES,
): Middleware {
  return (_request, ctx) => {
    if (maxBytes > 0 && announcedInlineMax(ctx.metadata) > 0)
      ctx.responseMetadata.set(INLINE_ACCEPT_HEADER, String(maxBytes));
  };
}

/** Reads available object bytes from a store (undefined when unknown or not yet pushed). */
export function availableObjects(store: ObjectStore): (objectId: string) => Uint8Array | undefined {
  return (objectId) => {
    const found = store.get(objectId);
    return found.found && found.available ? found.content : undefined;
  };
}

/**
 * Builds the messages of a pull answer: each one inline while the call's inline budget lasts
 * (`inlineBudget`: the client's limit, at most 48 messages; listed in the response headers), the
 * others as Flower sends them.
 * @returns the messages to send and the ids sent inline.
 */
export function inlinePullAnswer(
  ctx: CallContext,
  serverMax: number,
  store: ObjectStore,
  entries: readonly { message: ProtoMessage; tree: ObjectTree }[],
): { messages: ProtoMessage[]; inlined: string[] } {
  const limit = inlineLimitOf(ctx, serverMax);
  const get = availableObjects(store);
  const budget = inlineBudget(limit);
  const inlined: string[] = [];
  const messages = entries.map(({ message, tree }) => {
    const inline = inlineFromObjects(tree, get, limit, (bytes) => budget.take(bytes));
    if (!inline) return message;
    inlined.push(tree.objectId);
    return withInlineContent(message, inline);
  });
  markInlined(ctx.responseMetadata, inlined);
  return { messages, inlined };
}

/**
 * The verified objects of a pushed message the client listed as inlined, or undefined when it did
 * not (or this server has inlining off).
 * @throws RpcError INVALID_ARGUMENT when the content does not rebuild into the message's tree or
 *   is larger than `serverMax`.
 */
export function inlinePushObjects(
  ctx: CallContext,
  serverMax: number,
  message: ProtoMessage,
  tree: ObjectTree | undefined,
  describe: (detail: string) => string = (d) => d,
): Map<string, Uint8Array> | undefined {
  if (serverMax <= 0 || !tree || !inlinedIds(ctx.metadata).has(tree.objectId)) return undefined;
  let objects: Map<string, Uint8Array>;
  try {
    objects = receiveInlined(message, tree).objects;
  } catch (error) {
    if (error instanceof InlineContentError)
      throw new RpcError(Code.INVALID_ARGUMENT, describe(error.message));
    throw error;
  }
  let total = 0;
  for (const content of objects.values()) total += content.length;
  if (total > serverMax)
    throw new RpcError(
      Code.INVALID_ARGUMENT,
      describe(
        `inline message ${tree.objectId} has ${total} bytes of objects, more than the ${serverMax} this server accepts inline; push it as objects`,
      ),
    );
  return objects;
}

/**
 * Stores the objects of an inlined push that the store still needs.
 * @param missing - what `preregister` returned.
 * @returns the ids still missing (none when every object was in `objects`).
 */
export function putInlineObjects(
  store: ObjectStore,
  missing: readonly string[],
  objects: ReadonlyMap<string, Uint8Array> | undefined,
): string[] {
  if (!objects) return [...missing];
  return missing.filter((id) => {
    const content = objects.get(id);
    return content === undefined || !store.put(id, content);
  });
}
