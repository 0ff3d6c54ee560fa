/**
 * Authentication of a Runtime API (the SuperLink's and the SuperNode's), in one place, as
 * Flower 1.42 does it
 * (`flwr/supercore/dependencies/superexec.py`, `task.py`, `flwr/supercore/auth/superexec.py`):
 *
 * - **AcquireTask** (the SuperExec) needs no task token. When the SuperLink has a SuperExec
 *   secret (`--superexec-auth-secret-file`) it must carry exactly one non-empty value of each
 *   `flwr-superexec-ts/-nonce/-body-sha256/-signature` header: an integer Unix timestamp within
 *   (−5 s, 305 s) of now, the SHA-256 hex of the request's deterministic protobuf bytes, the
 *   HMAC-SHA256 hex over `method=…\nts=…\nnonce=…\nbody_sha256=…` keyed with the derived secret
 *   (`protocol/runtime/superexec-auth.ts` signs the same), and a nonce not seen before
 *   (reserved in the state under `superexec:<method>` until the window closes, only once the
 *   rest verified). Without a secret, 1.42 checks nothing (`authenticate_superexec_request`
 *   returns at once) and neither does flwr-ts.
 * - **Every other route** needs exactly one `flwr-task-token` header naming the token of an
 *   unfinished task; the task and token are attached to the call for the handlers
 *   ({@link taskOfCall}).
 *
 * Any failure is 401 `{"code":1008,"detail":"Authentication failed."}`, whatever the cause.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { AcquireTaskRequest, Task } from "@flwr-ts/core/proto/runtime";
import type { CallContext, Middleware } from "../../wire/call-context.js";
import type { MetadataValue } from "../../wire/metadata.js";
import { RuntimeDefinition } from "./runtime-definition.js";
import { runtimeAuthenticationFailed } from "./runtime-errors.js";
import { deriveAuthSecret, SUPEREXEC_AUTH_HEADERS, superExecSignature } from "./superexec-auth.js";

/** The method that SuperExec signatures protect (`SuperExecAuthDependency`). */
export const ACQUIRE_TASK_PATH = `/${RuntimeDefinition.fullName}/AcquireTask`;

/** Flower's task token header (`TASK_TOKEN_HEADER`). */
export const TASK_TOKEN_HEADER = "flwr-task-token";

/** Accepted age of a SuperExec timestamp, seconds (exclusive): `MIN/MAX_TIMESTAMP_DIFF_SECONDS`. */
export const SUPEREXEC_TIMESTAMP_WINDOW = { min: -5, max: 305 } as const;

const TASK_ATTRIBUTE = "runtimeTask";

/** The task a call authenticated as, and its token. */
export interface AuthenticatedTask {
  /** The task (status as of authentication). */
  readonly task: Task;
  /** Its token. */
  readonly token: string;
}

/** What the middleware needs from a SuperLink's or SuperNode's state. */
export interface RuntimeAuthState {
  /** The unfinished task holding `token`, if any. */
  getTaskByToken(token: string): Task | undefined;
  /** Reserves `nonce` in `namespace` until `expiresAt` (epoch s); false when already used. */
  reserveNonce(namespace: string, nonce: string, expiresAt: number): boolean;
}

/** Options of {@link createRuntimeAuthMiddleware}. */
export interface RuntimeAuthOptions {
  /** State holding tasks, tokens and nonces (a `LinkState`, or the SuperNode's task table). */
  state: RuntimeAuthState;
  /** The SuperExec master secret (the file's exact bytes); undefined: no SuperExec auth. */
  superExecAuthSecret?: Uint8Array | undefined;
  /** Wall clock, epoch ms (default `Date.now`). */
  clock?: () => number;
}

/** The one value of a header, or undefined when absent, repeated or empty. */
function single(values: MetadataValue[]): string | undefined {
  if (values.length !== 1) return undefined;
  const value = values[0]!;
  const text = typeof value === "string" ? value : value.toString("utf8");
  return text === "" ? undefined : text;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The task the middleware attached to this call. @throws 401 when there is none. */
export function taskOfCall(ctx: CallContext): AuthenticatedTask {
  const auth = ctx.attributes.get(TASK_ATTRIBUTE) as AuthenticatedTask | undefined;
  if (!auth) throw runtimeAuthenticationFailed();
  return auth;
}

/** Builds the Runtime API's authentication middleware. */
export function createRuntimeAuthMiddleware(options: RuntimeAuthOptions): Middleware {
  const { state } = options;
  const clock = options.clock ?? Date.now;
  const authSecret =
    options.superExecAuthSecret !== undefined
      ? deriveAuthSecret(options.superExecAuthSecret)
      : undefined;

  const verifySuperExec = (request: unknown, ctx: CallContext): boolean => {
    if (authSecret === undefined) return true;
    const timestampRaw = single(ctx.metadata.get(SUPEREXEC_AUTH_HEADERS.timestamp));
    const nonce = single(ctx.metadata.get(SUPEREXEC_AUTH_HEADERS.nonce));
    const bodySha256 = single(ctx.metadata.get(SUPEREXEC_AUTH_HEADERS.bodySha256));
    const signature = single(ctx.metadata.get(SUPEREXEC_AUTH_HEADERS.signature));
    if (!timestampRaw || !nonce || !bodySha256 || !signature) return false;
    if (!/^[+-]?\d{1,15}$/.test(timestampRaw.trim())) return false;
    const timestamp = Number.parseInt(timestampRaw.trim(), 10);
    const age = clock() / 1000 - timestamp;
    if (!(SUPEREXEC_TIMESTAMP_WINDOW.min < age && age < SUPEREXEC_TIMESTAMP_WINDOW.max))
      return false;
    const body = RuntimeDefinition.methods.acquireTask.requestType
      .encode(request as AcquireTaskRequest)
      .finish();
    const actualSha256 = createHash("sha256").update(body).digest("hex");
    if (actualSha256 !== bodySha256) return false;
    const expected = superExecSignature(authSecret, {
      method: ACQUIRE_TASK_PATH,
      timestamp,
      nonce,
      bodySha256: actualSha256,
    });
    if (!sameText(expected, signature)) return false;
    // The nonce is spent only by a request that verified (1.42's order).
    return state.reserveNonce(
      `superexec:${ACQUIRE_TASK_PATH}`,
      nonce,
      timestamp + SUPEREXEC_TIMESTAMP_WINDOW.max,
    );
  };

  return (request, ctx) => {
    if (ctx.method === ACQUIRE_TASK_PATH) {
      if (!verifySuperExec(request, ctx)) throw runtimeAuthenticationFailed();
      return;
    }
    const token = single(ctx.metadata.get(TASK_TOKEN_HEADER));
    const task = token === undefined ? undefined : state.getTaskByToken(token);
    if (token === undefined || task === undefined) throw runtimeAuthenticationFailed();
    ctx.attributes.set(TASK_ATTRIBUTE, { task, token } satisfies AuthenticatedTask);
  };
}
