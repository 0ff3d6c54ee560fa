/**
 * The one authorization guard of the Control API, on both wires (gRPC `--control-api-address`
 * and the HTTP port's `/v1/control/*`), run before every Control handler. Flower leaves Control
 * open to anyone who can reach it (and holds the CA certificate); flwr-ts can require an operator:
 *
 * - an **operator certificate**: a TLS client certificate the TLS layer verified against the
 *   SuperLink's CA (`--ssl-ca-certfile`), with ExtendedKeyUsage clientAuth; its subject CN is the
 *   operator's name (`flwr-ts gen-certs --operator NAME`);
 * - or the **operator token** of `--control-auth-token-file`, as `authorization: Bearer <token>`
 *   or Flower's `flwr-oidc-access-token` metadata (what Python's `flwr` CLI sends; see
 *   `protocol/control-auth/control-auth-token.ts`); its identity is `token`.
 *
 * With `required`, a call with neither ends UNAUTHENTICATED (HTTP 401) before its handler runs
 * (and, on HTTP, before its body is read); a wrong token is refused whether or not a certificate
 * is also presented. Without `required` nothing is refused and every caller is
 * {@link ANONYMOUS_OPERATOR}, as in Flower. Either way the handler (and the audit log,
 * `control-audit.ts`) finds the caller in `ctx.attributes` under {@link OPERATOR_ATTRIBUTE}.
 */
import { operatorNameOfCertificate } from "@flwr-ts/crypto";
import { presentedToken, tokenMatches } from "../../protocol/control-auth/control-auth-token.js";
import type { CallContext, Middleware } from "../../wire/call-context.js";
import { Code } from "../../wire/code.js";
import { RpcError } from "../../wire/rpc-error.js";
import type { Logger } from "../logger.js";

/** `ctx.attributes` key of the caller's {@link Operator}. */
export const OPERATOR_ATTRIBUTE = "flwr-ts.operator";

/** Who called the Control API. */
export interface Operator {
  /** The operator's name: a certificate's CN, `token`, or `anonymous`. */
  readonly name: string;
  /** How the caller proved it. */
  readonly via: "certificate" | "token" | "none";
}

/** The caller when operator authentication is off. */
export const ANONYMOUS_OPERATOR: Operator = { name: "anonymous", via: "none" };

/** The message of a call without operator credentials. */
export const OPERATOR_REQUIRED_MESSAGE =
  "Control API calls need operator authentication on this SuperLink: present an operator " +
  "certificate (flwr-ts gen-certs --operator NAME; federation keys operator-certificate and " +
  "operator-key) or the SuperLink's operator token (federation key operator-token-file)";

/** The message of a wrong token. */
export const INVALID_TOKEN_MESSAGE = "Invalid operator token";

/** Options of {@link createControlAuthMiddleware}. */
export interface ControlAuthOptions {
  /** Refuse callers that are not operators (`--require-control-auth`). */
  readonly required: boolean;
  /** The operator token (`--control-auth-token-file`); undefined = certificates only. */
  readonly token?: string | undefined;
  /** Where refusals are logged (WARNING, one line each); default nowhere. */
  readonly log?: Logger;
}

/** The caller of a Control call, as the middleware attached it (anonymous when absent). */
export function operatorOf(ctx: CallContext): Operator {
  const operator = ctx.attributes.get(OPERATOR_ATTRIBUTE) as Operator | undefined;
  return operator ?? ANONYMOUS_OPERATOR;
}

/** Builds the Control API's authorization middleware. */
export function createControlAuthMiddleware(options: ControlAuthOptions): Middleware {
  const { required, token } = options;
  const refuse = (ctx: CallContext, message: string): never => {
    options.log?.(
      "WARNING",
      `Control API: refused ${ctx.method.slice(ctx.method.lastIndexOf("/") + 1)} from ${ctx.peer}: ${message}`,
    );
    throw new RpcError(Code.UNAUTHENTICATED, message);
  };
  const identify = (ctx: CallContext): Operator => {
    if (!required) return ANONYMOUS_OPERATOR;
    const presented = presentedToken(ctx.metadata);
    if (presented !== undefined) {
      if (token !== undefined && tokenMatches(presented, token))
        return { name: "token", via: "token" };
      // A certificate holder whose CLI also sends a stale token is refused: say which is wrong.
      return refuse(ctx, INVALID_TOKEN_MESSAGE);
    }
    const der = ctx.peerCertificate;
    const name = der === undefined ? undefined : operatorNameOfCertificate(der);
    if (name !== undefined) return { name, via: "certificate" };
    return refuse(ctx, OPERATOR_REQUIRED_MESSAGE);
  };
  const check = (ctx: CallContext): void => {
    if (!ctx.attributes.has(OPERATOR_ATTRIBUTE))
      ctx.attributes.set(OPERATOR_ATTRIBUTE, identify(ctx));
  };
  const middleware: Middleware = (_request, ctx) => check(ctx);
  middleware.beforeBody = check;
  return middleware;
}
