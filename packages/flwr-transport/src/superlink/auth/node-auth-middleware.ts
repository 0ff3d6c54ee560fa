/**
 * The one authentication guard on every Fleet call, on both wires (Flower's gRPC
 * `NodeAuthServerInterceptor` and 1.40+'s HTTP `NodeAuthMiddleware`; the headers are read by
 * `node-auth-headers.ts`), run before each handler. In Flower's order and with Flower's messages
 * (UNAUTHENTICATED on gRPC, 401 on HTTP):
 * 1. the three metadata entries are present — else UNAUTHENTICATED "Missing authentication metadata";
 * 2. the signature over the timestamp verifies — else "Invalid signature" (a malformed PEM
 *    gives "Invalid public key", still UNAUTHENTICATED: never INTERNAL);
 * 3. −5 s < now − timestamp < 305 s — else "Invalid timestamp" (also for a malformed timestamp);
 * 4. for every rpc except RegisterNode/ActivateNode: the node registered with exactly these key
 *    bytes is the node the request names (`node.node_id`, or `node_id` for Deactivate/Unregister)
 *    — else "Invalid node ID";
 * 5. flwr-ts addition: RegisterNode/ActivateNode must carry the signing key itself in
 *    `public_key` — else "Invalid public key". Python SuperNodes always do; this is what lets an
 *    ActivateNode prove possession of the node's key (the fast-restart rule, see fleet-servicer).
 *    Flower 1.42's HTTP middleware has the same rule;
 * 6. flwr-ts addition: the (key, timestamp) pair was not seen before — else "Replayed request".
 *    Checked last and only for registered keys, so the replay cache holds entries of registered
 *    nodes alone: an anonymous caller signing with a key of its own makes the SuperLink keep
 *    nothing (the verifier caches a parsed key only once its signature verified, too);
 * 7. flwr-ts addition: a registered key's call signed before this middleware was created (the
 *    SuperLink's start) — else UNAVAILABLE "Request signed before the SuperLink started". The
 *    replay cache lives in memory, so this is what keeps a call captured before a restart from
 *    being accepted once more after it. UNAVAILABLE because a SuperNode whose signature was made
 *    just before the restart (ours sign one call ahead; any node whose clock is behind) retries
 *    it with a fresh signature, as it retries a SuperLink that is down.
 *
 * On success the handler finds the verified key bytes in `ctx.attributes` under
 * {@link AUTH_PUBLIC_KEY_ATTRIBUTE}. Its `beforeBody` check (steps 1-3, and a registered key for
 * every rpc except RegisterNode/ActivateNode) runs on the HTTP wire before a large body is read.
 */
import { ReplayCache, SignatureVerifier } from "@flwr-ts/crypto";
import type { CallContext, Middleware } from "../../wire/call-context.js";
import { Code, RpcError } from "../../wire/rpc-error.js";
import type { LinkState } from "../state/link-state.js";
import { readNodeAuthHeaders } from "./node-auth-headers.js";

/** `ctx.attributes` key of the verified public key bytes (Buffer). */
export const AUTH_PUBLIC_KEY_ATTRIBUTE = "flwr.publicKey";

/** Flower's message for a request whose node id is not the signer's. */
export const INVALID_NODE_ID_MESSAGE = "Invalid node ID";
/** Message for a signed timestamp seen before (flwr-ts replay protection). */
export const REPLAYED_REQUEST_MESSAGE = "Replayed request";
/** Message for a Register/Activate request whose body key is not the signing key. */
export const KEY_MISMATCH_MESSAGE = "Invalid public key";

const KEY_IN_BODY = new Set(["/flwr.proto.Fleet/RegisterNode", "/flwr.proto.Fleet/ActivateNode"]);

/** Options of {@link createNodeAuthMiddleware}. */
export interface NodeAuthOptions {
  /** Where node ids are looked up by public key. */
  state: Pick<LinkState, "getNodeIdByPublicKey">;
  /** Signature/timestamp verifier (default: a new one with the system clock). */
  verifier?: SignatureVerifier;
  /** Replay cache; `null` disables replay protection (default: a new one). */
  replayCache?: ReplayCache | null;
  /** Epoch ms before which calls of registered keys are refused (default: now, at creation). */
  startedAtMs?: number;
}

/** Message for a registered key's call signed before the SuperLink started (rule 7). */
export const SIGNED_BEFORE_START_MESSAGE =
  "Request signed before the SuperLink started; sign it again";

function requestedNodeId(request: unknown): bigint | undefined {
  if (typeof request !== "object" || request === null) return undefined;
  const r = request as { node?: { nodeId?: unknown }; nodeId?: unknown };
  if ("node" in r) return typeof r.node?.nodeId === "bigint" ? r.node.nodeId : 0n;
  return typeof r.nodeId === "bigint" ? r.nodeId : undefined;
}

function sameBytes(a: unknown, b: Buffer): boolean {
  return a instanceof Uint8Array && Buffer.compare(Buffer.from(a), b) === 0;
}

/** Builds the Fleet authentication middleware. */
export function createNodeAuthMiddleware(options: NodeAuthOptions): Middleware {
  const verifier = options.verifier ?? new SignatureVerifier();
  const replay = options.replayCache === undefined ? new ReplayCache() : options.replayCache;
  const { state } = options;
  const startedAtMicros = (options.startedAtMs ?? Date.now()) * 1000;
  const middleware: Middleware = async (request: unknown, ctx: CallContext) => {
    // Verified on libuv's thread pool: the event loop serves other calls meanwhile.
    const result = await verifier.verifyAsync(readNodeAuthHeaders(ctx));
    if (!result.ok) throw new RpcError(Code.UNAUTHENTICATED, result.message);
    let registered: boolean;
    if (KEY_IN_BODY.has(ctx.method)) {
      const bodyKey = (request as { publicKey?: unknown } | null)?.publicKey;
      if (!sameBytes(bodyKey, result.publicKey))
        throw new RpcError(Code.UNAUTHENTICATED, KEY_MISMATCH_MESSAGE);
      registered = state.getNodeIdByPublicKey(result.publicKey) !== undefined;
    } else {
      const claimed = requestedNodeId(request);
      const actual = state.getNodeIdByPublicKey(result.publicKey);
      if (claimed === undefined || actual === undefined || claimed !== actual)
        throw new RpcError(Code.UNAUTHENTICATED, INVALID_NODE_ID_MESSAGE);
      registered = true;
    }
    if (registered && result.timestampMicros < startedAtMicros)
      throw new RpcError(Code.UNAVAILABLE, SIGNED_BEFORE_START_MESSAGE);
    // Only calls of registered keys are remembered: a caller with a self-made key pins nothing.
    if (
      registered &&
      replay &&
      !replay.checkAndRemember(result.publicKey, result.timestamp, result.timestampMicros)
    )
      throw new RpcError(Code.UNAUTHENTICATED, REPLAYED_REQUEST_MESSAGE);
    ctx.attributes.set(AUTH_PUBLIC_KEY_ATTRIBUTE, result.publicKey);
  };
  middleware.beforeBody = async (ctx: CallContext) => {
    const result = await verifier.verifyAsync(readNodeAuthHeaders(ctx));
    if (!result.ok) throw new RpcError(Code.UNAUTHENTICATED, result.message);
    if (!KEY_IN_BODY.has(ctx.method) && state.getNodeIdByPublicKey(result.publicKey) === undefined)
      throw new RpcError(Code.UNAUTHENTICATED, INVALID_NODE_ID_MESSAGE);
  };
  return middleware;
}
