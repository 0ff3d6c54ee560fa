/**
 * The Fleet API's refusal of a second live SuperNode with an online node's key, shared by the
 * flwr-ts SuperLink (which sends it) and SuperNode (which recognizes it and exits).
 */

/** The words the refusal carries, which a flwr-ts SuperNode looks for. */
export const ANOTHER_SUPERNODE_ONLINE = "another SuperNode with this key is online";

/**
 * The one line a refused SuperNode prints: what happened and what to do.
 * @param nodeId - the node the key belongs to.
 */
export function anotherSuperNodeOnlineLine(nodeId: bigint | string): string {
  return `${ANOTHER_SUPERNODE_ONLINE} (node id ${nodeId}); stop it first`;
}

/**
 * The ActivateNode refusal's details (FAILED_PRECONDITION, as Flower refuses an online node):
 * Flower's "SuperNode with node ID N could not be activated." followed by the reason.
 */
export function anotherSuperNodeOnlineDetails(nodeId: bigint): string {
  return `SuperNode with node ID ${nodeId} could not be activated: ${anotherSuperNodeOnlineLine(nodeId)}.`;
}
