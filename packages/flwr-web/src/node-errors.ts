/**
 * What the page tells its user when the SuperLink refuses the node: one clear sentence per cause,
 * from Flower's error details (the SuperLink's JSON `detail`): a key that is not registered, a
 * registration revoked while the node was online, a clock outside Flower's window (5 s ahead,
 * 300 s behind), a rejected signature, an unreachable SuperLink.
 */
import { FleetCallError } from "./fetch-fleet-client.js";

/** Why the node stopped. */
export type FatalKind =
  | "not-registered"
  | "revoked"
  | "clock"
  | "signature"
  | "unreachable"
  | "other";

/** A condition the browser SuperNode cannot recover from by itself. */
export class BrowserNodeFatalError extends Error {
  constructor(
    readonly kind: FatalKind,
    message: string,
  ) {
    super(message);
    this.name = "BrowserNodeFatalError";
  }
}

/** The SuperLink's answer to an unknown key (ActivateNode). */
export const NO_NODE_PATTERN = /No SuperNode found/i;

/**
 * The fatal error of a failed call, or undefined when it may be retried (the SuperLink restarted,
 * a network blip, a lost node that can activate again).
 * @param wasOnline - the node had been online in this page (a vanished key is then revoked).
 */
export function fatalErrorOf(
  error: unknown,
  wasOnline: boolean,
): BrowserNodeFatalError | undefined {
  if (!(error instanceof FleetCallError)) return undefined;
  const detail = error.detail;
  if (error.status === 412 && NO_NODE_PATTERN.test(detail))
    return wasOnline
      ? new BrowserNodeFatalError(
          "revoked",
          "This node's registration was revoked on the SuperLink (flwr supernode unregister): it is offline. Register its public key again with `flwr supernode register` and reload the page to rejoin.",
        )
      : new BrowserNodeFatalError(
          "not-registered",
          "The SuperLink does not know this node's key: register the public key shown below with `flwr supernode register <key.pub> <app> <federation>` (or import the key that was registered), then start again.",
        );
  if (error.status === 401 && /timestamp/i.test(detail))
    return new BrowserNodeFatalError(
      "clock",
      "The SuperLink rejected the request time: this computer's clock differs from the SuperLink's by more than Flower allows (5 s ahead, 300 s behind). Set the system clock right and start again.",
    );
  if (error.status === 401 && /signature|public key/i.test(detail))
    return new BrowserNodeFatalError(
      "signature",
      `The SuperLink rejected this node's signature (${detail}).`,
    );
  return undefined;
}
