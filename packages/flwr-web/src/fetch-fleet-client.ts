/**
 * Flower 1.42's protobuf-over-HTTP Fleet API from a web page, with `fetch`: `POST
 * <base>/v1/fleet/<kebab-method>`, body the serialized request (`application/protobuf`), the
 * answer one serialized response — the browser twin of `@flwr-ts/transport`'s Node HTTP client
 * (`wire/http/http-client.ts`), sharing its protobuf messages (`@flwr-ts/core/proto`). Every call
 * carries Flower's signed auth headers ({@link WebRequestSigner}). A non-2xx answer becomes a
 * {@link FleetCallError} with Flower's JSON `detail` (and `extra`, `code`); a network failure
 * (refused connection, TLS, CORS refusal — a page cannot tell these apart) an error of status 0.
 *
 * Fleet's rpcs are all unary, so there is no stream framing here.
 */
import { FleetDefinition } from "@flwr-ts/core/proto";
import type { WebRequestSigner } from "./web-signer.js";

/** Content type of requests and answers. */
export const PROTOBUF_MEDIA_TYPE = "application/protobuf";
/** flwr-ts's long-poll header: the SuperLink may hold PullMessages open this long (ms). */
export const PULL_WAIT_HEADER = "flwr-ts-pull-wait-ms";

/** A Fleet call that failed. */
export class FleetCallError extends Error {
  /**
   * @param status - HTTP status (0: no answer — network, TLS or CORS failure, or aborted).
   * @param detail - Flower's `detail` (plus `extra`), or a description of the failure.
   * @param apiErrorCode - Flower 1.42's numeric error `code`, when the body has one.
   */
  constructor(
    readonly method: string,
    readonly status: number,
    readonly detail: string,
    readonly apiErrorCode?: number,
  ) {
    super(`${method}: ${status === 0 ? "" : `HTTP ${status}: `}${detail}`);
    this.name = "FleetCallError";
  }
}

interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromPartial?(object: unknown): T;
}

type Methods = (typeof FleetDefinition)["methods"];
type Req<K extends keyof Methods> = Parameters<Methods[K]["requestType"]["encode"]>[0];
type Res<K extends keyof Methods> = ReturnType<Methods[K]["responseType"]["decode"]>;

/** Per-call options. */
export interface FleetCallOptions {
  /** Cancels the call. */
  readonly signal?: AbortSignal;
  /** Extra headers (e.g. {@link PULL_WAIT_HEADER}). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** `SendNodeHeartbeat` → `send-node-heartbeat`. */
export function kebabCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1-$2")
    .toLowerCase();
}

/** Flower's JSON error body, read leniently. */
function errorDetail(text: string): { detail: string; code?: number } {
  try {
    const body = JSON.parse(text) as { detail?: unknown; extra?: unknown; code?: unknown };
    if (typeof body.detail === "string") {
      const detail = typeof body.extra === "string" ? `${body.detail} ${body.extra}` : body.detail;
      return typeof body.code === "number" ? { detail, code: body.code } : { detail };
    }
  } catch {
    // not JSON
  }
  return { detail: text.trim().slice(0, 200) || "no details" };
}

/** The Fleet API of one SuperLink, signed by one key. */
export class FetchFleetClient {
  private readonly base: string;

  /**
   * @param baseUrl - the SuperLink's HTTP API, e.g. `https://127.0.0.1:8000`.
   * @param signer - signs every call.
   * @param fetchImpl - the `fetch` to use (default the global one).
   * @throws Error when `baseUrl` is not an http(s) URL.
   */
  constructor(
    baseUrl: string,
    private readonly signer: WebRequestSigner,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {
    const url = new URL(baseUrl);
    if (url.protocol !== "https:" && url.protocol !== "http:")
      throw new Error(`the SuperLink URL must be http(s)://host:port, got ${baseUrl}`);
    this.base = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
  }

  /** Calls one Fleet rpc. */
  async call<K extends keyof Methods>(
    key: K,
    request: Req<K>,
    options: FleetCallOptions = {},
  ): Promise<Res<K>> {
    const method = FleetDefinition.methods[key];
    const requestType = method.requestType as unknown as Codec<Req<K>>;
    const responseType = method.responseType as unknown as Codec<Res<K>>;
    const body = requestType.encode(requestType.fromPartial?.(request) ?? request).finish();
    const headers = {
      ...options.headers,
      ...(await this.signer.headers()),
      "content-type": PROTOBUF_MEDIA_TYPE,
      accept: PROTOBUF_MEDIA_TYPE,
    };
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.base}/v1/fleet/${kebabCase(method.name)}`, {
        method: "POST",
        headers,
        body: body as Uint8Array<ArrayBuffer>,
        mode: "cors",
        credentials: "omit",
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      const aborted = options.signal?.aborted === true;
      throw new FleetCallError(
        method.name,
        0,
        aborted
          ? "cancelled"
          : `cannot reach the SuperLink at ${this.base} (${(error as Error).message}): is it running, is its certificate trusted, and does it allow this page's origin (flower-superlink --fleet-cors-origin ${globalThis.location?.origin ?? "<origin>"})?`,
      );
    }
    if (!res.ok) {
      const { detail, code } = errorDetail(await res.text().catch(() => ""));
      throw new FleetCallError(method.name, res.status, detail, code);
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    try {
      return responseType.decode(bytes);
    } catch (error) {
      throw new FleetCallError(
        method.name,
        res.status,
        `invalid protobuf answer: ${(error as Error).message}`,
      );
    }
  }
}
