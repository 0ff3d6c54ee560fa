/**
 * The live SuperNode session of each node, as the Fleet API sees it: the client connections
 * (peers) that carried the node's calls since its last ActivateNode.
 *
 * flwr-ts lets an `online` node be activated again at once (fast restart after a crash), where
 * Flower refuses until its heartbeat window passes. To tell a restarted process from a second
 * live process with the same key, ActivateNode of an online node is refused while one of the
 * current session's connections is still open and is not the caller's: a SIGKILLed SuperNode's
 * connection is closed by its kernel, a live one's channel stays connected (it heartbeats and
 * polls over it). Connections the registry cannot see (HTTP/1.1 Fleet clients) never count as
 * open, so over HTTP the fast restart stays and a duplicate is not detected.
 *
 * In memory only: after a SuperLink restart every connection is new, so nothing is refused.
 */

/** Whether a peer's connection is known to be open (`grpc/peer-connections.ts`). */
export type PeerLiveness = (peer: string) => boolean;

/** Sessions by node id; see the module comment. */
export class NodeSessions {
  private readonly peers = new Map<bigint, Set<string>>();

  /** @param isOpen - liveness of a peer's connection. */
  constructor(private readonly isOpen: PeerLiveness) {}

  /**
   * Records that `peer` carried a call of `nodeId`'s current session.
   * @param options.create - also start tracking a node not tracked yet (default true; false for
   *   calls whose node id is not verified against the state, so unknown ids leave no entry).
   */
  seen(nodeId: bigint, peer: string, options: { create?: boolean } = {}): void {
    const set = this.peers.get(nodeId);
    if (!set) {
      if (options.create !== false) this.peers.set(nodeId, new Set([peer]));
      return;
    }
    if (set.has(peer)) return;
    for (const p of set) if (!this.isOpen(p)) set.delete(p);
    set.add(peer);
  }

  /**
   * An open connection of `nodeId`'s current session other than `peer` (the caller's), or
   * undefined when there is none: then a new session may start.
   */
  liveOtherPeer(nodeId: bigint, peer: string): string | undefined {
    for (const p of this.peers.get(nodeId) ?? []) if (p !== peer && this.isOpen(p)) return p;
    return undefined;
  }

  /** A new session of `nodeId` began on `peer` (ActivateNode succeeded). */
  activated(nodeId: bigint, peer: string): void {
    this.peers.set(nodeId, new Set([peer]));
  }

  /** `nodeId`'s session ended (deactivated or unregistered). */
  ended(nodeId: bigint): void {
    this.peers.delete(nodeId);
  }
}
