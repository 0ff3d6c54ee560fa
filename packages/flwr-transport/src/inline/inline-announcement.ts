/**
 * Server side of the inline-content handshake (see `inline-content.ts`): every call whose client
 * announced {@link INLINE_ACCEPT_HEADER} is answered with the server's own limit, so the client
 * learns on its first call that it may inline what it pushes.
 */
import type { CallContext, Middleware } from "../grpc/server-handlers.js";
import {
  announcedInlineMax,
  DEFAULT_INLINE_MAX_BYTES,
  INLINE_ACCEPT_HEADER,
} from "./inline-content.js";

/**
 * The limit for messages this server sends inline on `ctx` (the client's announcement capped by
 * `serverMax`; 0 when the client did not announce one).
 */
export function inlineLimitOf(ctx: CallContext, serverMax = DEFAULT_INLINE_MAX_BYTES): number {
  return Math.min(announcedInlineMax(ctx.metadata), serverMax);
}

/** Middleware answering inline announcements with `maxBytes` (0 disables the extension). */
export function createInlineAnnouncementMiddleware(
  maxBytes = DEFAULT_INLINE_MAX_BYTES,
): Middleware {
  return (_request, ctx) => {
    if (maxBytes > 0 && announcedInlineMax(ctx.metadata) > 0)
      ctx.responseMetadata.set(INLINE_ACCEPT_HEADER, String(maxBytes));
  };
}
