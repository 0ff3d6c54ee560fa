/**
 * Which client connections of this process's gRPC servers are open, by the peer string a call
 * reports (`CallContext.peer`, grpc-js's `getPeer()`: `<remote address>:<remote port>`).
 *
 * The SuperLink's Fleet API uses it to tell a restarted SuperNode from a second live one with the
 * same key (`superlink/fleet/node-sessions.ts`): a SIGKILLed process's TCP connection is closed
 * by its kernel at once, so its peer is no longer open when the restarted process activates,
 * while a live SuperNode keeps its channel's connection open.
 *
 * Process-wide: every server guarded by `guardServerSessions` (`session-guard.ts`, which every
 * gRPC server of the SuperLink goes through) registers its HTTP/2 sessions here, because grpc-js
 * gives handlers no handle on their connection. A peer string names one TCP connection of a host
 * (its source port); two servers of this process reached from the same source port would share
 * an entry, which is counted, never confused with a closed one.
 */
import type { ServerHttp2Session } from "node:http2";

const open = new Map<string, number>();

/** The peer string of a socket, as grpc-js's `getPeer()` prints it. */
function peerOf(address: string | undefined, port: number | undefined): string | undefined {
  if (!address) return undefined;
  return port ? `${address}:${port}` : address;
}

/** Registers `session` as open until its "close" event. */
export function trackPeerConnection(session: ServerHttp2Session): void {
  const peer = peerOf(session.socket?.remoteAddress, session.socket?.remotePort);
  if (peer === undefined || session.closed || session.destroyed) return;
  open.set(peer, (open.get(peer) ?? 0) + 1);
  session.once("close", () => {
    const left = (open.get(peer) ?? 1) - 1;
    if (left > 0) open.set(peer, left);
    else open.delete(peer);
  });
}

/**
 * True while a tracked connection from `peer` is open; false once it closed, and for peers this
 * registry never saw (HTTP/1.1 clients, servers not guarded): callers must treat false as
 * "not known to be alive".
 */
export function isPeerConnectionOpen(peer: string): boolean {
  return open.has(peer);
}
