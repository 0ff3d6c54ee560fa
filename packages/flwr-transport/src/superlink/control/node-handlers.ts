/**
 * Control API SuperNode rpcs (`flwr supernode register|unregister|list`), as Flower 1.29's
 * ControlServicer: keys are PEM SubjectPublicKeyInfo on a NIST curve, unique forever; nodes are
 * owned by the caller's account, which alone may list and unregister them. Failures carry Flower
 * 1.42's API error codes for the HTTP wire (22, 23, 24: `flwr/supercore/error/catalog.py`); gRPC
 * callers see 1.29's status and message only.
 *
 * ListNodes never claims a node online that has not spoken to this SuperLink process (issue #12,
 * finding 5): a node whose persisted status is online but whose last heartbeat (`online_until` −
 * patience × interval) is older than the SuperLink's start is listed offline since the start,
 * until its first heartbeat. Python 1.29 lists it online until the persisted `online_until`
 * passes. Only the listing changes; the Fleet and the ServerApps see the state as it is.
 */
import { createPublicKey } from "node:crypto";
import type {
  ListNodesResponse,
  NodeInfo,
  RegisterNodeRequest,
  RegisterNodeResponse,
  UnregisterNodeRequest,
  UnregisterNodeResponse,
} from "@flwr-ts/core/proto";
import { nistCurveOf } from "@flwr-ts/crypto";
import type { CallContext } from "../../wire/call-context.js";
import { Code } from "../../wire/code.js";
import { ApiErrorCode } from "../../wire/http/api-errors.js";
import { RpcError } from "../../wire/rpc-error.js";
import {
  HEARTBEAT_DEFAULT_INTERVAL,
  HEARTBEAT_PATIENCE,
  type LinkState,
  NodeNotFoundError,
  NodeStatus,
  PublicKeyInUseError,
} from "../state/link-state.js";
import { isoTimestamp } from "../state/state-values.js";
import type { AccountResolver } from "./account.js";

/** Flower's `PUBLIC_KEY_NOT_VALID`. */
export const PUBLIC_KEY_NOT_VALID = "The provided public key is not valid";
/** Flower's `PUBLIC_KEY_ALREADY_IN_USE_MESSAGE`. */
export const PUBLIC_KEY_ALREADY_IN_USE_MESSAGE = "Public key already in use";
/** Flower's `NODE_NOT_FOUND_MESSAGE`. */
export const NODE_NOT_FOUND_MESSAGE = "Node ID not found for account";

/** True when `bytes` is a PEM SubjectPublicKeyInfo of an EC key on a NIST curve. */
export function isValidNodePublicKey(bytes: Uint8Array): boolean {
  const text = Buffer.from(bytes).toString("latin1");
  if (!text.includes("-----BEGIN PUBLIC KEY-----")) return false;
  try {
    return nistCurveOf(createPublicKey({ key: text, format: "pem" })) !== undefined;
  } catch {
    return false;
  }
}

/** Dependencies of the node rpcs. */
export interface NodeHandlerDeps {
  /** SuperLink state. */
  state: LinkState;
  /** The caller's account. */
  account: AccountResolver;
  /** Clock in epoch ms (for `now`); default `Date.now`. */
  clock?: () => number;
  /**
   * Epoch ms of the SuperLink's start: online nodes without a heartbeat since are listed
   * offline. Default: when the handlers are created.
   */
  startedAtMs?: number;
}

/**
 * A node as ListNodes shows it: online only when it sent a heartbeat (or activated) at or after
 * `startedAtMs`; otherwise offline, deactivated at `startedAtMs`.
 */
export function listedNodeInfo(node: NodeInfo, startedAtMs: number): NodeInfo {
  if (node.status !== NodeStatus.ONLINE || node.onlineUntil === undefined) return node;
  const lastSeenMs = (node.onlineUntil - HEARTBEAT_PATIENCE * node.heartbeatInterval) * 1000;
  // 1 ms of slack: online_until is stored as float seconds.
  if (lastSeenMs >= startedAtMs - 1) return node;
  return {
    ...node,
    status: NodeStatus.OFFLINE,
    lastDeactivatedAt: isoTimestamp(startedAtMs),
    onlineUntil: Math.min(node.onlineUntil, startedAtMs / 1000),
  };
}

/** The Control API's SuperNode rpcs. */
export function createNodeHandlers(deps: NodeHandlerDeps) {
  const { state, account } = deps;
  const clock = deps.clock ?? Date.now;
  const startedAtMs = deps.startedAtMs ?? clock();
  return {
    registerNode: (request: RegisterNodeRequest, ctx: CallContext): RegisterNodeResponse => {
      if (!isValidNodePublicKey(request.publicKey))
        throw new RpcError(Code.FAILED_PRECONDITION, PUBLIC_KEY_NOT_VALID, {
          apiErrorCode: ApiErrorCode.PUBLIC_KEY_NOT_VALID,
        });
      const { flwrAid, accountName } = account(ctx);
      try {
        const nodeId = state.createNode(
          flwrAid,
          accountName,
          request.publicKey,
          HEARTBEAT_DEFAULT_INTERVAL,
        );
        return { nodeId };
      } catch (error) {
        if (error instanceof PublicKeyInUseError)
          throw new RpcError(Code.FAILED_PRECONDITION, PUBLIC_KEY_ALREADY_IN_USE_MESSAGE, {
            apiErrorCode: ApiErrorCode.PUBLIC_KEY_ALREADY_IN_USE,
          });
        throw error;
      }
    },

    unregisterNode: (request: UnregisterNodeRequest, ctx: CallContext): UnregisterNodeResponse => {
      try {
        state.deleteNode(account(ctx).flwrAid, request.nodeId);
      } catch (error) {
        if (error instanceof NodeNotFoundError)
          throw new RpcError(Code.NOT_FOUND, NODE_NOT_FOUND_MESSAGE, {
            apiErrorCode: ApiErrorCode.NODE_NOT_FOUND,
          });
        throw error;
      }
      return {};
    },

    listNodes: (_request: unknown, ctx: CallContext): ListNodesResponse => ({
      nodesInfo: state
        .getNodeInfo({ ownerAids: [account(ctx).flwrAid] })
        .map((node) => listedNodeInfo(node, startedAtMs)),
      now: isoTimestamp(clock()),
    }),
  };
}
