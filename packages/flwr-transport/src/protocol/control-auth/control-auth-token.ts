/**
 * The operator bearer token of the Control API (flwr-ts, beyond Flower's open Control API), shared
 * by the SuperLink (`--control-auth-token-file`) and the `flwr` CLI (the federation key
 * `operator-token-file`). A caller presents it in either of two places, so that every CLI that
 * exists can send it:
 *
 * - `authorization: Bearer <token>`: what the flwr-ts CLI sends on both wires, and what Python
 *   Flower 1.42's CLI sends over HTTP (`CliAccountAuthHttpInterceptor`);
 * - `flwr-oidc-access-token: <token>`: what Python Flower 1.29's (and 1.42's gRPC) CLI sends on
 *   every Control call once its credential store holds an OIDC access token
 *   (`CliAccountAuthInterceptor`, `ACCESS_TOKEN_KEY`), so an operator can hand Python's `flwr`
 *   the token by writing it into `$FLWR_HOME/credentials.yaml` (see the transport README).
 *
 * A token is one line of 32–512 visible ASCII characters (no spaces): a metadata value must be
 * ASCII, and a short token could be guessed.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import type { RequestMetadata } from "../../wire/metadata.js";

/** The standard header. */
export const AUTHORIZATION_HEADER = "authorization";
/** Flower's `ACCESS_TOKEN_KEY` (`flwr/common/constant.py`), sent by Python's CLI. */
export const FLOWER_ACCESS_TOKEN_HEADER = "flwr-oidc-access-token";

/** Shortest accepted token. */
export const MIN_TOKEN_LENGTH = 32;
/** Longest accepted token. */
export const MAX_TOKEN_LENGTH = 512;

const TOKEN_PATTERN = /^[\x21-\x7e]+$/;

/** A token file that cannot be used; the message says what to fix. */
export class ControlAuthTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ControlAuthTokenError";
  }
}

/**
 * Checks a token's text (a trailing newline already removed).
 * @returns undefined when it is valid, else what is wrong.
 */
export function tokenProblem(token: string): string | undefined {
  if (token.length < MIN_TOKEN_LENGTH || token.length > MAX_TOKEN_LENGTH)
    return `must hold one token of ${MIN_TOKEN_LENGTH}-${MAX_TOKEN_LENGTH} characters (got ${token.length}); create one with \`openssl rand -hex 32 > FILE\``;
  if (!TOKEN_PATTERN.test(token))
    return "must hold one line of visible ASCII characters (no spaces or other lines)";
  return undefined;
}

/**
 * Reads a token file: its text without one trailing newline (`\n` or `\r\n`).
 * @param what - how messages name the file, e.g. `--control-auth-token-file`.
 * @throws ControlAuthTokenError naming the file and the fix.
 */
export function readControlAuthToken(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ControlAuthTokenError(
      `${what} '${path}' ${code === "ENOENT" ? "does not exist" : `cannot be read (${code ?? String(error)})`}.`,
    );
  }
  const token = text.replace(/\r?\n$/, "");
  const problem = tokenProblem(token);
  if (problem) throw new ControlAuthTokenError(`${what} '${path}' ${problem}.`);
  return token;
}

/**
 * The token a call presents: `authorization: Bearer <token>` first, else Flower's
 * `flwr-oidc-access-token`; undefined when neither is there.
 */
export function presentedToken(metadata: RequestMetadata): string | undefined {
  const auth = metadata.get(AUTHORIZATION_HEADER)[0];
  if (auth !== undefined) {
    const text = typeof auth === "string" ? auth : auth.toString("latin1");
    const m = /^Bearer\s+(\S+)\s*$/i.exec(text);
    if (m) return m[1];
  }
  const flower = metadata.get(FLOWER_ACCESS_TOKEN_HEADER)[0];
  if (flower === undefined) return undefined;
  return typeof flower === "string" ? flower : flower.toString("latin1");
}

/** Compares a presented token with the expected one in constant time (SHA-256 of both). */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash("sha256").update(presented, "utf8").digest();
  const b = createHash("sha256").update(expected, "utf8").digest();
  return timingSafeEqual(a, b);
}
