/**
 * Flower 1.29's AppIo token policy (`flwr.supercore.auth.policy` + `AppIoTokenServerInterceptor`):
 * app processes send their token as the `flwr-app-token` metadata entry on every call, and the
 * ServerAppIo / ClientAppIo servers refuse calls of token-protected methods without a valid token
 * with UNAUTHENTICATED "Authentication failed.". Methods the SuperExec calls before it has a token
 * (ListAppsToLaunch, RequestToken, GetRun) are open.
 */

import { APP_TOKEN_HEADER } from "../protocol/flwr-ts-headers.js";
import type { Middleware } from "../wire/call-context.js";
import { Code } from "../wire/code.js";
import { RpcError } from "../wire/rpc-error.js";

export { APP_TOKEN_HEADER };

/** Flower's message for any token failure. */
export const AUTHENTICATION_FAILED_MESSAGE = "Authentication failed.";

/** Methods callable without a token (both AppIo services). */
export const TOKEN_FREE_METHODS = new Set(["ListAppsToLaunch", "RequestToken", "GetRun"]);

/** The token checks a state must offer. */
export interface TokenVerifier {
  /** The run of an unexpired token. */
  getRunIdByToken(token: string): bigint | undefined;
  /** True when `token` is the run's current, unexpired token. */
  verifyToken(runId: bigint, token: string): boolean;
}

/** The token sent by the caller in metadata, if any. */
export function tokenFromMetadata(values: readonly (string | Buffer)[]): string | undefined {
  const raw = values[0];
  if (raw === undefined) return undefined;
  return typeof raw === "string" ? raw : raw.toString("utf8");
}

/**
 * Middleware enforcing the token policy of `serviceName` (`ServerAppIo` or `ClientAppIo`);
 * every method not in {@link TOKEN_FREE_METHODS} needs a valid `flwr-app-token`.
 * The verified run id is attached as the `appRunId` attribute.
 */
export function createAppTokenMiddleware(verifier: TokenVerifier): Middleware {
  return (_request, ctx) => {
    const method = ctx.method.slice(ctx.method.lastIndexOf("/") + 1);
    if (TOKEN_FREE_METHODS.has(method)) return;
    const token = tokenFromMetadata(ctx.metadata.get(APP_TOKEN_HEADER));
    if (token === undefined)
      throw new RpcError(Code.UNAUTHENTICATED, AUTHENTICATION_FAILED_MESSAGE);
    const runId = verifier.getRunIdByToken(token);
    if (runId === undefined || !verifier.verifyToken(runId, token))
      throw new RpcError(Code.UNAUTHENTICATED, AUTHENTICATION_FAILED_MESSAGE);
    ctx.attributes.set("appRunId", runId);
  };
}
