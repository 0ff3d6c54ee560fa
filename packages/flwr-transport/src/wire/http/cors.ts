/**
 * CORS for the HTTP Fleet API (flwr-ts, `flower-superlink --fleet-cors-origin`): lets a web page
 * served from an allowed origin (the browser SuperNode of `@flwr-ts/web`) call
 * `POST /v1/fleet/*` with `fetch`. Off by default (no allow-list: no CORS header is ever sent, as
 * Flower's FastAPI app sends none). Only the Fleet routes get CORS; Control and the Runtime API
 * never do, so a page cannot drive `flwr` commands from a browser.
 *
 * What an allowed origin gets:
 * - a preflight `OPTIONS /v1/fleet/<method>` answered 204 with `access-control-allow-origin`
 *   (the exact origin, never `*`), `access-control-allow-methods: POST`,
 *   `access-control-allow-headers` (the protobuf content type and Flower's signed-metadata
 *   headers, plus flwr-ts's long-poll header), `access-control-max-age: 600`;
 * - `access-control-allow-origin` and `vary: origin` on the POST's answer, success or error, so
 *   the page can read Flower's JSON error bodies ("Invalid signature", "Invalid timestamp", …).
 *
 * A preflight from another origin is answered 403 without CORS headers (the browser then blocks
 * the call); a POST from another origin is served as usual but carries no CORS header (a
 * non-browser client does not care; a browser does not let the page read the answer).
 *
 * Own code (a few header rules) rather than the `cors` package: the router is plain `node:http`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** The request headers a browser SuperNode sends (lower case). */
export const FLEET_CORS_ALLOWED_HEADERS = [
  "content-type",
  "accept",
  "flwr-public-key",
  "flwr-timestamp",
  "flwr-signature",
  "flwr-ts-pull-wait-ms",
] as const;

/** How long a browser may cache a preflight answer, s. */
export const FLEET_CORS_MAX_AGE_SECONDS = 600;

/** The path prefix CORS applies to. */
export const FLEET_CORS_PATH_PREFIX = "/v1/fleet/";

/**
 * Parses `--fleet-cors-origin`'s comma-separated list of origins (`https://host[:port]`,
 * `http://…`), each exactly as a browser sends it in `Origin` (scheme and host lower case, no
 * path, no trailing slash, no default port).
 * @returns the origins, in order, without duplicates.
 * @throws Error naming the first value that is not such an origin.
 */
export function parseCorsOrigins(list: string): string[] {
  const origins: string[] = [];
  for (const raw of list.split(",")) {
    const value = raw.trim();
    if (value === "") throw new Error(`empty origin in '${list}'`);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new Error(`'${value}' is not an origin (expected e.g. https://127.0.0.1:8443)`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:")
      throw new Error(`'${value}' is not an http(s) origin`);
    if (url.origin !== value)
      throw new Error(
        `'${value}' is not an origin as browsers send it (expected '${url.origin}': scheme://host[:port], no path or trailing slash)`,
      );
    if (!origins.includes(value)) origins.push(value);
  }
  return origins;
}

/** A request listener (`http.createServer`'s). */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Wraps `handle` with CORS for the Fleet routes and the allowed `origins`; with no origins it
 * returns `handle` itself.
 */
export function withFleetCors(
  handle: RequestListener,
  origins: readonly string[],
): RequestListener {
  if (origins.length === 0) return handle;
  const allowed = new Set(origins);
  return (req, res) => {
    const url = req.url ?? "/";
    const origin = req.headers.origin;
    if (!url.startsWith(FLEET_CORS_PATH_PREFIX) || origin === undefined) {
      handle(req, res);
      return;
    }
    const ok = allowed.has(origin);
    if (req.method === "OPTIONS") {
      req.resume();
      if (!ok) {
        res.writeHead(403, { "content-length": 0 });
        res.end();
        return;
      }
      res.writeHead(204, {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": "POST",
        "access-control-allow-headers": FLEET_CORS_ALLOWED_HEADERS.join(", "),
        "access-control-max-age": String(FLEET_CORS_MAX_AGE_SECONDS),
        vary: "origin",
        "content-length": 0,
      });
      res.end();
      return;
    }
    if (ok) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("vary", "origin");
    }
    handle(req, res);
  };
}
