/**
 * Input limits grpc-js has no option for, applied to a bound grpc-js `Server` (issue #12,
 * finding 2). Measured with grpc-js 1.14.7 on Node 20:
 * - `grpc.max_metadata_size` is a client-side option only; the server takes any header list
 *   node:http2 takes (64 KiB by default), so a Python client's 20 KB metadata reached handlers.
 *   {@link checkMetadataSize} (run by `server-handlers.ts` before any middleware) answers
 *   metadata over Flower's 16 KiB hard limit RESOURCE_EXHAUSTED, as grpcio does. node:http2's
 *   own limit (`SETTINGS_MAX_HEADER_LIST_SIZE`, kept at 64 KiB here) is no substitute: it resets
 *   the stream, with ENHANCE_YOUR_CALM the first time but INTERNAL_ERROR for a second oversized
 *   stream of a connection, which clients report as INTERNAL.
 * - A single header field over 64 KiB makes nghttp2's HPACK decoder give up on the whole
 *   connection: it queues GOAWAY(COMPRESSION_ERROR) and ignores all further input, but node:http2
 *   is not told, so the socket stays open, unread, until keepalive (210 s), and a grpcio client
 *   waits for its deadline. Such a session has begun a stream that never reached node's "stream"
 *   event (`state.lastProcStreamID` is ahead of it); it is then pinged, and if that PING cannot
 *   even be written (node's outbound queue stays non-empty) for about a second, the session is
 *   destroyed, so the client gets UNAVAILABLE and its descriptor is released.
 *
 * Own code because neither grpc-js nor node:http2 offers it; it reaches grpc-js's HTTP/2 servers
 * through the private `http2Servers` map (checked, so a grpc-js change fails loudly in the tests
 * rather than silently dropping the limits).
 */
import type { Http2SecureServer, Http2Server, ServerHttp2Session } from "node:http2";
import type { Metadata, Server } from "@grpc/grpc-js";
import { Code, RpcError } from "../wire/rpc-error.js";
import { trackPeerConnection } from "./peer-connections.js";

/** Flower's hard metadata limit (grpcio's default `grpc.max_metadata_size`): 16 KiB. */
export const MAX_METADATA_BYTES = 16 * 1024;

/** The header list size node:http2 accepts before it resets a stream (64 KiB). */
export const MAX_HEADER_LIST_BYTES = 64 * 1024;

/**
 * Refuses a call whose metadata exceeds `max` bytes (HTTP/2's accounting: name + value + 32 per
 * entry, as grpcio counts it).
 * @throws RpcError RESOURCE_EXHAUSTED with grpcio's wording.
 */
export function checkMetadataSize(metadata: Metadata, max: number = MAX_METADATA_BYTES): void {
  let size = 0;
  for (const [key, values] of Object.entries(metadata.toHttp2Headers())) {
    for (const v of Array.isArray(values) ? values : [values])
      size += key.length + String(v).length + 32;
  }
  if (size > max)
    throw new RpcError(
      Code.RESOURCE_EXHAUSTED,
      `received initial metadata size exceeds limit (${size} vs. ${max})`,
    );
}

/** How often sessions are checked, ms. */
const TICK_MS = 200;
/** Ticks a ping may stay unwritten before the session counts as dead. */
const DEAD_AFTER_TICKS = 2;

interface Watched {
  /** Highest stream id node:http2 has emitted a "stream" event for. */
  lastStreamId: number;
  /** Ticks since the outstanding ping was sent; undefined when none is outstanding. */
  pingTicks: number | undefined;
}

function http2ServersOf(server: Server): Iterable<Http2Server | Http2SecureServer> {
  const map = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(map instanceof Map))
    throw new Error("grpc-js Server has no http2Servers map: session limits cannot be applied");
  return (map as Map<Http2Server | Http2SecureServer, unknown>).keys();
}

/**
 * Applies node:http2's header list limit and the dead-session check to every HTTP/2 server
 * `server` has bound so far, and registers its connections in `peer-connections.ts`; call it
 * after each `bindAsync` has completed.
 * @param maxHeaderListBytes - largest header list node:http2 takes (default
 *   {@link MAX_HEADER_LIST_BYTES}).
 * @returns a function that stops the check (also stopped by the servers' "close").
 * @throws Error when grpc-js no longer exposes its HTTP/2 servers.
 */
export function guardServerSessions(
  server: Server,
  maxHeaderListBytes: number = MAX_HEADER_LIST_BYTES,
): () => void {
  const sessions = new Map<ServerHttp2Session, Watched>();
  const servers = [...http2ServersOf(server)];
  for (const http2 of servers) {
    http2.updateSettings({ maxHeaderListSize: maxHeaderListBytes });
    http2.on("session", (session: ServerHttp2Session) => {
      trackPeerConnection(session);
      const watched: Watched = { lastStreamId: 0, pingTicks: undefined };
      sessions.set(session, watched);
      session.on("stream", (stream: { id?: number }) => {
        watched.lastStreamId = Math.max(watched.lastStreamId, stream.id ?? 0);
      });
      session.once("close", () => sessions.delete(session));
    });
  }
  const tick = () => {
    for (const [session, w] of sessions) {
      if (session.destroyed || session.closed) {
        sessions.delete(session);
        continue;
      }
      if (w.pingTicks !== undefined) {
        if ((session.state.outboundQueueSize ?? 0) === 0) continue;
        w.pingTicks += 1;
        if (w.pingTicks >= DEAD_AFTER_TICKS)
          // After the poll phase: a pong that arrived while the event loop was busy is read first.
          setImmediate(() => {
            if (w.pingTicks !== undefined && (session.state.outboundQueueSize ?? 0) > 0)
              session.destroy();
          });
        continue;
      }
      // A header block still arriving looks the same for a moment; a ping costs nothing then.
      if ((session.state.lastProcStreamID ?? 0) <= w.lastStreamId) continue;
      w.pingTicks = 0;
      const pinged = session.state.lastProcStreamID ?? 0;
      try {
        // Answered: the session is alive (the stream was refused, e.g. for its size).
        session.ping(() => {
          w.pingTicks = undefined;
          w.lastStreamId = Math.max(w.lastStreamId, pinged);
        });
      } catch {
        w.pingTicks = undefined;
      }
    }
  };
  const timer = setInterval(tick, TICK_MS);
  timer.unref();
  const stop = () => clearInterval(timer);
  for (const http2 of servers) http2.once("close", stop);
  return stop;
}
